"""`linli service-statement PROVIDER --month 2026-11`: a provider's monthly statement of 菜单式 orders (.xlsx)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("service-statement", help="导出服务单位月度对账单（.xlsx）")
@click.argument("provider")
@click.option("--month", "-m", default=None, help="月份，如 2026-11（默认本月）")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="输出文件（默认：instance/<服务单位>-对账单-<月份>.xlsx）")
@with_appcontext
def statement_command(provider: str, month: str | None, output: str | None) -> None:
    """Write the statement of the provider named (or numbered) PROVIDER."""
    from sqlalchemy import select

    from app import clock
    from app.commands.output import output_path
    from app.extensions import db
    from app.models import Provider
    from app.services.errors import DomainError
    from app.services.providers import statement_rows, statement_xlsx

    query = select(Provider).where(Provider.id == int(provider) if provider.isdigit() else
                                   Provider.name == provider.strip())
    found = db.session.scalar(query)
    if found is None:
        raise click.ClickException(f"没有找到服务单位“{provider}”。")
    month = month or f"{clock.now():%Y-%m}"
    try:
        data, rows = statement_xlsx(found, month), statement_rows(found, month)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    path = output_path(output, f"{found.name}-对账单-{month}.xlsx")
    path.write_bytes(data)
    click.echo(f"已生成 {path}：{found.name} {month}，完成 {len(rows)} 单。")
