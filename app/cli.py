"""The `linli` command: a click group whose subcommands load lazily so that `linli --help` stays fast."""

from __future__ import annotations

import importlib

import click

# name → "module:attribute"; each capability adds its commands here. Modules are imported only when used.
COMMANDS = {
    "db": "flask_migrate.cli:db",
    "import-register": "app.commands.register:import_register_command",
    "export-register": "app.commands.register:export_register_command",
    "create-staff": "app.commands.staff:create_staff_command",
    "api-token": "app.commands.staff:api_token_command",
    "serve": "app.commands.serve:serve_command",
    "demo": "app.commands.demo:demo_command",
    "nlu": "app.commands.nlu:nlu_command",
    "binding-codes": "app.commands.binding:binding_codes_command",
    "jobs": "app.commands.jobs:jobs_command",
    "wechat": "app.commands.wechat:wechat_command",
    "outbox": "app.commands.wechat:outbox_command",
    "fake-wechat": "app.commands.wechat:fake_wechat_command",
    "bills": "app.commands.fees:bills_command",
    "qr-sheet": "app.commands.tickets:qr_sheet_command",
    "service-statement": "app.commands.services:statement_command",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx, formatter):
        # Short help without importing every module: names plus a one-line summary kept here.
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("命令 Commands"):
            formatter.write_dl(rows)


SUMMARIES = {
    "db": "数据库迁移（db upgrade 建表/升级）",
    "import-register": "导入小区台账（.xlsx/.csv），全部成功才写入",
    "export-register": "导出《住宅小区基本情况台账》(.xlsx)",
    "create-staff": "创建工作人员账号并授予角色",
    "api-token": "为工作人员生成 API 令牌",
    "serve": "启动网页服务（生产用 gunicorn）",
    "demo": "写入演示数据并启动演示（含离线微信）",
    "nlu": "居民消息理解：训练意图模型（train）、评估（eval FILE）",
    "binding-codes": "为小区每户生成一次性绑定码（可打印 PDF）",
    "jobs": "启动定时任务进程（提醒、升级、投票截止、消息发送）",
    "wechat": "公众号菜单同步（sync-menu）与楼栋二维码（qr）",
    "outbox": "发送待发消息（outbox send）",
    "fake-wechat": "启动离线微信接口（开发/演示用）",
    "bills": "物业费账单：生成（bills generate）、催缴提醒（bills remind）",
    "qr-sheet": "生成小区楼栋报修二维码（A4 PDF，每栋楼一页）",
    "service-statement": "导出服务单位月度对账单（.xlsx）",
}


def _script_info():
    from flask.cli import ScriptInfo

    from app import create_app

    return ScriptInfo(create_app=lambda: create_app({"LINLI_NLP_PRELOAD": False}))


@click.group(cls=LazyGroup, help="邻里 Linli — 无物业小区管理服务号后台。")
@click.version_option("0.1.0", prog_name="linli")
def cli() -> None:
    """The top-level command group."""


def main() -> None:
    """Console-script entry point: commands that need the app get it through Flask's ScriptInfo."""
    cli(obj=_script_info(), prog_name="linli")
