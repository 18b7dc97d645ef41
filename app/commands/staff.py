"""`linli create-staff` and `linli api-token`: staff accounts with a scoped role, and API tokens."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    raise SystemExit(1)


@click.command("create-staff", help="创建工作人员账号并授予角色。例：linli create-staff --username wang "
                                    "--name 王芳 --role community_staff --community 幸福社区")
@click.option("--username", help="登录用户名")
@click.option("--password", help="登录密码（至少10位，不能含用户名，不能是常见密码；不填则提示输入，不回显）")
@click.option("--name", "display_name", default="", help="显示姓名")
@click.option("--role", help="street_admin 街道管理员 / community_staff 社区工作人员 / building_head 楼栋长 / "
                   "unit_head 单元长 / provider 服务商")
@click.option("--street", help="街道名称或编号")
@click.option("--community", help="社区名称或编号")
@click.option("--estate", help="小区名称或编号")
@click.option("--building", help="楼栋：与 --estate 同用时写楼号（如 3号楼），单独使用时写编号")
@click.option("--unit", help="单元：与 --building 同用时写单元号（如 2单元），单独使用时写编号")
@click.option("--phone", "public_phone", default="", help="对居民公开的工作电话（可不填）")
@with_appcontext
def create_staff_command(username: str | None, password: str | None, display_name: str, role: str | None,
                         street: str | None, community: str | None, estate: str | None, building: str | None,
                         unit: str | None, public_phone: str) -> None:
    """Create one staff account granted `role` over the scope named by the options."""
    from app.extensions import db
    from app.models.staff import ROLES
    from app.services.errors import DomainError
    from app.services.scope import scope_name
    from app.services.staff import create_staff, resolve_scope

    if not username:
        _fail("请用 --username 指明登录用户名。")
    if role not in ROLES:
        _fail("请用 --role 指明角色，可选：" + "、".join(f"{code}（{label}）" for code, label in ROLES.items()) + "。")
    try:
        scope_type, scope_id = resolve_scope(street=street, community=community, estate=estate,
                                             building=building, unit=unit)
    except DomainError as error:
        _fail(error.message)
    if password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输一次密码")
    try:
        user = create_staff(username, password, display_name, role, scope_type, scope_id,
                            public_phone=public_phone, actor="cli")
    except DomainError as error:
        db.session.rollback()
        _fail(error.message)
    click.echo(f"已创建：{user.username}（{user.display_name}），{ROLES[role]} · {scope_name(scope_type, scope_id)}")


@click.command("api-token", help="为工作人员生成 API 令牌（只显示这一次，请妥善保存）。")
@click.argument("username")
@click.option("--name", default="", help="令牌用途备注，如“区住建局对接”")
@with_appcontext
def api_token_command(username: str, name: str) -> None:
    """Issue a bearer token for USERNAME and print it once."""
    from app.services.errors import DomainError
    from app.services.staff import find_staff, issue_api_token

    try:
        user = find_staff(username)
    except DomainError as error:
        _fail(error.message)
    token = issue_api_token(user, name=name, actor="cli")
    click.echo("API 令牌（只显示这一次，请妥善保存）：")
    click.echo(token)
    click.echo("调用时在请求头中加入：Authorization: Bearer <令牌>")
