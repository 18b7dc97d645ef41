"""`linli qr-sheet ESTATE`: the printable A4 sheet of building QR codes for an estate."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("qr-sheet", help="生成小区楼栋报修二维码（A4 PDF，每栋楼一页）")
@click.argument("estate")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="输出文件（默认：<小区名>-楼栋二维码.pdf）")
@with_appcontext
def qr_sheet_command(estate: str, output: str | None) -> None:
    """Write the QR sheet of the estate named (or numbered) ESTATE."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Estate
    from app.services.qr import qr_sheet_pdf

    query = select(Estate).where(Estate.id == int(estate)) if estate.isdigit() else select(Estate).where(
        Estate.name == estate.strip())
    found = db.session.scalars(query).all()
    if not found:
        raise click.ClickException(f"没有找到小区“{estate}”。")
    if len(found) > 1:
        listed = "、".join(f"{e.id}（{e.community.name}）" for e in found)
        raise click.ClickException(f"有多个同名小区，请用编号：{listed}")
    target = found[0]
    path = Path(output or f"{target.name}-楼栋二维码.pdf")
    path.write_bytes(qr_sheet_pdf(target))
    click.echo(f"已生成 {path}：{target.name}，{len(target.buildings)} 栋楼，每栋一页。")
