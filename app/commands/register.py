"""`linli import-register` and `linli export-register`: the estate register from and to spreadsheets."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("import-register", help="导入小区台账（.xlsx 或 .csv）。任何一行有误则全部不导入。")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--street", help="街道名称（默认：默认街道，可在后台改名）")
@click.option("--community", help="社区名称（默认：默认社区）")
@with_appcontext
def import_register_command(file: Path, street: str | None, community: str | None) -> None:
    """Import a register file all-or-nothing, with a progress bar and a row-by-row error report."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.services.errors import RegisterError
    from app.services.register import import_register

    console = Console(stderr=True)
    if not file.exists():
        console.print(f"[red]找不到文件：{file}[/red]")
        raise SystemExit(2)
    data = file.read_bytes()
    with Progress(TextColumn("导入中"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("import", total=None)
        try:
            report = import_register(data, file.name, street=street, community=community,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total),
                                     actor="cli")
        except RegisterError as error:
            bar.stop()
            console.print(f"[red]{error.message}[/red]")
            raise SystemExit(1)
    click.echo(f"导入成功：{report.rows} 行；新建小区 {report.estates} 个、楼栋 {report.buildings} 栋、单元 {report.units} 个；"
               f"新增房屋 {report.rooms_created} 户、更新 {report.rooms_updated} 户；业主 {report.persons} 人。")


@click.command("export-register", help="导出《住宅小区基本情况台账》(.xlsx)。")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--street", help="只导出该街道")
@with_appcontext
def export_register_command(file: Path, street: str | None) -> None:
    """Write the register annex for all estates (or one street's) to FILE."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Community, Estate, Street
    from app.services.register import export_register

    query = select(Estate).join(Community).join(Street).order_by(Street.name, Community.name, Estate.name)
    if street:
        query = query.where(Street.name == street)
    estates = list(db.session.scalars(query))
    file.write_bytes(export_register(estates))
    click.echo(f"已导出 {len(estates)} 个小区到 {file.resolve()}")
