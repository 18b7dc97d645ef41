"""`linli demo`: seed a realistic demo and start everything needed to try Linli on one machine."""

from __future__ import annotations

import click


@click.command("demo", help="写入演示数据（幸福里小区等），并启动后台、离线微信和聊天模拟器。")
@click.option("--seed-only", is_flag=True, help="只写入演示数据，不启动服务")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--fake-wechat-port", default=5001, show_default=True, type=int)
def demo_command(seed_only: bool, host: str, port: int, fake_wechat_port: int) -> None:
    """Migrate the configured database, seed the demo, and (unless --seed-only) serve it with an offline WeChat."""
    from flask_migrate import upgrade

    from app import create_app
    from app.services.demo import seed_demo

    overrides = {"LINLI_DEMO": True, "PUBLIC_BASE_URL": f"http://{host}:{port}"}
    fake_url = None  # --seed-only starts no servers
    if not seed_only:
        fake_url = _start_fake_wechat(host, fake_wechat_port)
        overrides["WECHAT_API_BASE"] = fake_url
    app = create_app(overrides)
    with app.app_context():
        upgrade()
        info = seed_demo()
    click.echo("演示数据已写入：" + "、".join(info.estates))
    click.echo("登录账号（密码均为 %s）：" % info.logins[0][2])
    for label, username, _password in info.logins:
        click.echo(f"  {username:<8} {label}")
    if seed_only:
        return
    base = f"http://{host}:{port}"
    click.echo(f"\n管理后台：  {base}/login")
    if "simulator" in app.blueprints:
        click.echo(f"聊天模拟器：{base}/dev/simulator")
    click.echo(f"离线微信接口：{fake_url}")
    _start_scheduler(app)
    click.echo("定时任务（消息发送、提醒等）已在后台运行。按 Ctrl+C 停止。")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _start_scheduler(app) -> None:
    """Run the scheduled jobs in a thread of the demo process (production runs `linli jobs` separately)."""
    import threading

    from app.jobs.runner import run_forever

    threading.Thread(target=run_forever, args=(app,), name="linli-jobs", daemon=True).start()


def _start_fake_wechat(host: str, port: int) -> str:
    """Start the offline WeChat API server in a thread, for the app id and secret the app is configured with."""
    from app import config
    from app.wechat.fake_server import serve_in_thread

    settings = config.from_environment("instance")
    return serve_in_thread(host, port, appid=settings["WECHAT_APPID"], secret=settings["WECHAT_SECRET"])
