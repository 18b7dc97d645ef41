"""`linli binding-codes ESTATE`: issue one-time binding codes for an estate's rooms and print them as a PDF."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("binding-codes", help="为小区（或其中一栋楼）的每户生成一次性绑定码，输出可打印的 PDF。旧码自动作废。")
@click.argument("estate")
@click.option("--building", help="只为这栋楼生成（楼号，如 3）")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="PDF 文件名（默认：instance/绑定码-<小区名>.pdf）")
@with_appcontext
def binding_codes_command(estate: str, building: str | None, output: Path | None) -> None:
    """Issue codes (revoking earlier ones) and write the slips PDF."""
    from sqlalchemy import select

    from app import clock
    from app.commands.output import output_path, require_print_font
    from app.extensions import db
    from app.models import Building, Estate, Room
    from app.services.binding import issue_codes
    from app.services.slips import binding_slips_pdf, valid_until_text

    found = db.session.scalars(select(Estate).where(Estate.name == estate)).all()
    if not found and estate.isdigit():
        found = [e for e in [db.session.get(Estate, int(estate))] if e]
    if len(found) != 1:
        raise click.ClickException(f"找不到小区“{estate}”。" if not found else f"有多个小区叫“{estate}”，请用编号。")
    query = select(Room).where(Room.estate_id == found[0].id).join(Building).order_by(Building.sort_key, Room.sort_key)
    if building:
        query = query.where(Building.number == building)
    rooms = list(db.session.scalars(query))
    if not rooms:
        raise click.ClickException("没有找到房屋，请先导入台账。")
    require_print_font()  # before issuing: new codes that cannot be printed would void the old ones for nothing
    issued = issue_codes(rooms, actor="cli:")
    output = output_path(output, f"绑定码-{found[0].name}{'-' + building + '号楼' if building else ''}.pdf")
    output.write_bytes(binding_slips_pdf(found[0].name, issued, valid_until_text(clock.now())))
    click.echo(f"已为 {len(issued)} 户生成绑定码（旧码已作废），请打印：{output}")
