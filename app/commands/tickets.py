"""`linli qr-sheet ESTATE [--units]`: the printable A4 sheet of building (and unit) QR codes for an estate."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("qr-sheet", help="生成小区楼栋报修二维码（A4 PDF，每栋楼一页；加 --units 再为每个单元各印一页）")
@click.argument("estate")
@click.option("--units", is_flag=True, help="每栋楼之后，再为它的每个单元各印一页")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="输出文件（默认：instance/<小区名>-楼栋二维码.pdf，加 --units 时为 instance/<小区名>-单元二维码.pdf）")
@with_appcontext
def qr_sheet_command(estate: str, units: bool, output: str | None) -> None:
    """Write the QR sheet of the estate named (or numbered) ESTATE; with --units also a page per unit."""
    from sqlalchemy import select

    from app.commands.output import output_path, require_print_font
    from app.extensions import db
    from app.models import Estate
    from app.services.qr import printed_units, qr_sheet_pdf

    query = select(Estate).where(Estate.id == int(estate)) if estate.isdigit() else select(Estate).where(
        Estate.name == estate.strip())
    found = db.session.scalars(query).all()
    if not found:
        raise click.ClickException(f"没有找到小区“{estate}”。")
    if len(found) > 1:
        listed = "、".join(f"{e.id}（{e.community.name}）" for e in found)
        raise click.ClickException(f"有多个同名小区，请用编号：{listed}")
    target = found[0]
    require_print_font()
    path = output_path(output, f"{target.name}-{'单元' if units else '楼栋'}二维码.pdf")
    path.write_bytes(qr_sheet_pdf(target, units=units))
    if units:
        unit_pages = sum(len(printed_units(b)) for b in target.buildings)
        click.echo(f"已生成 {path}：{target.name}，{len(target.buildings)} 栋楼、{unit_pages} 个单元，"
                   f"每栋一页，每个单元一页。")
    else:
        click.echo(f"已生成 {path}：{target.name}，{len(target.buildings)} 栋楼，每栋一页。")
