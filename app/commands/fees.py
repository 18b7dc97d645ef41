"""`linli bills`: generate bills (idempotent), run the reminder ladder once, build the monthly report."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext


@click.group("bills", help="物业费账单：生成账单、运行催缴提醒。")
def bills_command() -> None:
    """The bills command group."""


def _day(value: str | None) -> date:
    from app import clock

    if not value:
        return clock.now().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("日期格式应为 YYYY-MM-DD") from None


@bills_command.command("generate", help="生成账单：默认为所有收费标准补齐已开始的各期；可指定小区和日期所在的一期。")
@click.option("--estate", "estate_name", help="小区名称（不填则所有小区）")
@click.option("--date", "day", help="生成这一天所在的一期（YYYY-MM-DD），默认今天及之前的所有期")
@click.option("--skip-missing-area", is_flag=True, help="跳过没有面积的房屋（否则整期拒绝生成）")
@with_appcontext
def generate(estate_name: str | None, day: str | None, skip_missing_area: bool) -> None:
    """Generate bills and print what was created, what existed and what was refused."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Estate
    from app.models.fee import FeeSchedule
    from app.services.billing import generate_bills, generate_due, period_containing
    from app.services.errors import DomainError

    query = select(FeeSchedule).join(Estate, FeeSchedule.estate_id == Estate.id).where(FeeSchedule.active.is_(True))
    if estate_name:
        query = query.where(Estate.name == estate_name)
    schedules = db.session.scalars(query.order_by(FeeSchedule.id)).all()
    if not schedules:
        raise click.ClickException("没有找到正在执行的收费标准，请先在后台设置。")
    try:
        if day:
            target = _day(day)
            reports = [generate_bills(s, target, skip_missing_area=skip_missing_area) for s in schedules
                       if period_containing(s, target)]
        else:
            reports = generate_due(_day(None), schedules, skip_missing_area=skip_missing_area)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    for r in reports:
        line = f"{r.period[0]}—{r.period[1]}：新生成 {r.created} 张，已存在 {r.existing} 张，免收 {r.exempt} 户"
        if r.missing_area:
            line += f"，缺面积跳过 {len(r.missing_area)} 户"
        click.echo(line)
    if not reports:
        click.echo("没有需要生成的账单。")


@bills_command.command("remind", help="立即运行一次催缴提醒（与定时任务相同，可重复运行）。")
@with_appcontext
def remind() -> None:
    """Run the reminder ladder once and print the counts."""
    from app.services.reminders import run_reminders

    report = run_reminders()
    click.echo(f"私信提醒 {report.private} 张账单，转楼栋长 {report.building_head} 张，转社区 {report.community} 张，"
               f"排队消息 {report.messages} 条" + (f"（{len(report.quiet_estates)} 个小区处于免打扰时段）"
                                                 if report.quiet_estates else ""))
