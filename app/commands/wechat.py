"""`linli wechat …`, `linli outbox send` and `linli fake-wechat`: the gateway's commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

MENU_FILE = Path(__file__).resolve().parent.parent / "wechat" / "menu.json"


@click.group("wechat", help="微信公众号：菜单、二维码")
def wechat_command() -> None:
    """The wechat command group."""


@wechat_command.command("sync-menu", help="按 app/wechat/menu.json 创建公众号菜单")
@click.option("--file", "menu_file", type=click.Path(exists=True, dir_okay=False), default=str(MENU_FILE))
@with_appcontext
def sync_menu(menu_file: str) -> None:
    """Push the menu file to WeChat (or the fake)."""
    from wechatpy.exceptions import WeChatClientException

    from app.wechat.client import get_client

    menu = json.loads(Path(menu_file).read_text(encoding="utf-8"))
    try:
        get_client().create_menu(menu)
    except WeChatClientException as error:
        raise click.ClickException(f"菜单创建失败：{error.errcode} {error.errmsg}") from None
    click.echo(f"菜单已更新：{' / '.join(b['name'] for b in menu['button'])}")


@wechat_command.command("qr", help="为场景值（如楼栋 b:12）生成永久二维码")
@click.argument("scene")
@with_appcontext
def make_qr(scene: str) -> None:
    """Create a permanent QR_LIMIT_STR_SCENE code and print its image URL."""
    from wechatpy.exceptions import WeChatClientException

    from app.wechat.client import get_client

    try:
        result = get_client().create_qr(scene)
    except (WeChatClientException, ValueError) as error:
        raise click.ClickException(f"二维码生成失败：{error}") from None
    click.echo(result["image_url"])


@click.group("outbox", help="待发消息（客服/模板/订阅消息）")
def outbox_command() -> None:
    """The outbox command group."""


@outbox_command.command("send", help="发送到期的待发消息")
@click.option("--limit", default=100, show_default=True, help="每轮最多发送条数")
@click.option("--loop", is_flag=True, help="持续运行，每隔几秒发送一轮")
@click.option("--interval", default=5.0, show_default=True)
@with_appcontext
def send_outbox(limit: int, loop: bool, interval: float) -> None:
    """Run the sender once (or forever with --loop)."""
    from app.services.outbox import send_pending

    while True:
        report = send_pending(limit)
        click.echo(f"已发送 {len(report.sent)}，重试 {len(report.retried)}，转模板 {len(report.fell_back)}，"
                   f"失败 {len(report.failed)}，无法送达 {len(report.undeliverable)}")
        if not loop:
            return
        time.sleep(interval)


@click.command("fake-wechat", help="启动离线微信（模拟微信接口服务器，仅供开发和演示）")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True)
@with_appcontext
def fake_wechat_command(host: str, port: int) -> None:
    """Serve the fake WeChat API in the foreground, with the app's appid and secret."""
    from app.wechat.fake_server import create_fake_app

    config = current_app.config
    fake = create_fake_app(config["WECHAT_APPID"], config["WECHAT_SECRET"])
    click.echo(f"离线微信：http://{host}:{port}（把 WECHAT_API_BASE 设为此地址）")
    fake.run(host=host, port=port, threaded=True)
