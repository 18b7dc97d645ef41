"""Money and hours of 菜单式 services: the monthly statement per provider (XLSX) and 公益岗 hours for 以工抵费."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Order, Provider, Room, StaffUser, VolunteerHours
from app.services import audit
from app.services.errors import DomainError
from app.services.spreadsheet import append_row


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """'2026-11' → the first instant of November and of December, Shanghai time."""
    try:
        year, mon = (int(part) for part in month.split("-"))
        start = datetime(year, mon, 1, tzinfo=clock.TZ)
    except (ValueError, TypeError):
        raise DomainError("月份格式应为 2026-11。") from None
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=clock.TZ)
    return start, end


def statement_rows(provider: Provider, month: str) -> list[Order]:
    """Orders the provider completed in the month (by completion time), in order."""
    start, end = month_bounds(month)
    return list(db.session.scalars(select(Order).where(
        Order.provider_id == provider.id, Order.status.in_(("done", "confirmed")), Order.done_at >= start,
        Order.done_at < end).order_by(Order.done_at, Order.id)))


def statement_xlsx(provider: Provider, month: str) -> bytes:
    """The monthly statement: one row per completed order with posted and collected amounts, totals per method,
    and the month's 公益岗 hours; amounts in yuan with two decimals."""
    orders = statement_rows(provider, month)
    book = Workbook()
    sheet = book.active
    sheet.title = "订单明细"
    append_row(sheet, [f"{provider.name} {month} 菜单式服务对账单"])
    sheet["A1"].font = Font(bold=True, size=13)
    header = ["订单号", "完工时间", "服务项目", "地址", "标价(元)", "实收(元)", "付款方式", "评分", "状态"]
    append_row(sheet, header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    by_method: dict[str, int] = {}
    posted = collected = 0
    for order in orders:
        paid = order.payment.amount_fen if order.payment else 0
        method = order.payment.method_label if order.payment else "未登记"
        by_method[method] = by_method.get(method, 0) + paid
        posted, collected = posted + order.price_fen, collected + paid
        append_row(sheet, [order.number, f"{order.done_at:%Y-%m-%d %H:%M}", order.item_name,
                      f"{order.estate.name}{order.room.label}", _money(order.price_fen), _money(paid), method,
                      order.rating or "", order.status_label])
    append_row(sheet, [f"合计 {len(orders)} 单", "", "", "", _money(posted), _money(collected)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for method, fen in sorted(by_method.items()):
        append_row(sheet, ["", "", "", f"其中 {method}", "", _money(fen)])
    for row in sheet.iter_rows(min_row=3, min_col=5, max_col=6):
        for cell in row:
            cell.number_format = "0.00"
    for column, width in zip("ABCDEFGHI", (18, 17, 12, 28, 10, 10, 10, 6, 12)):
        sheet.column_dimensions[column].width = width
    _hours_sheet(book, provider, month)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _money(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _hours_sheet(book: Workbook, provider: Provider, month: str) -> None:
    start, end = month_bounds(month)
    rows = list(db.session.scalars(select(VolunteerHours).where(
        VolunteerHours.provider_id == provider.id, VolunteerHours.worked_on >= start.date(),
        VolunteerHours.worked_on < end.date()).order_by(VolunteerHours.worked_on, VolunteerHours.id)))
    sheet = book.create_sheet("公益岗工时")
    append_row(sheet, ["日期", "工作内容", "小时", "每小时(元)", "抵费(元)", "抵费房屋", "已抵扣"])
    for entry in rows:
        append_row(sheet, [entry.worked_on.isoformat(), entry.task, float(entry.hours), _money(entry.rate_fen_per_hour),
                      _money(entry.credit_fen), entry.room.label if entry.room else "",
                      "是" if entry.applied_at else "否"])
    append_row(sheet, ["合计", "", float(sum((e.hours for e in rows), Decimal(0))), "",
                  _money(sum(e.credit_fen for e in rows))])


def record_hours(user: StaffUser, provider: Provider, *, estate_id: int, worked_on: date, hours: str, task: str,
                 rate_yuan: str, room_id: int | None = None, person_id: int | None = None) -> VolunteerHours:
    """Record 公益岗 hours; credit = hours × rate, rounded half up to the fen, for the fees capability to apply."""
    from app.services.catalogue import parse_yuan

    try:
        amount = Decimal(str(hours).strip())
    except InvalidOperation:
        raise DomainError("工时请填数字，例如 2 或 1.5。") from None
    if not amount.is_finite() or amount <= 0 or amount > 12 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("每次登记的工时须在 0 到 12 小时之间。")
    if worked_on > clock.now().date():
        raise DomainError("不能登记未来日期的工时。")
    if not (task or "").strip():
        raise DomainError("请写明工作内容。")
    rate = parse_yuan(rate_yuan, "每小时抵费标准")
    if room_id is not None:
        room = db.session.get(Room, room_id)
        if room is None or room.estate_id != estate_id:
            raise DomainError("抵费房屋不在这个小区。")
    credit = int((amount * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    entry = VolunteerHours(provider_id=provider.id, person_id=person_id, room_id=room_id, estate_id=estate_id,
                           worked_on=worked_on, hours=amount, task=task.strip()[:120], rate_fen_per_hour=rate,
                           credit_fen=credit, recorded_by_id=user.id)
    db.session.add(entry)
    db.session.flush()
    audit.record_staff(user, "create", "volunteer_hours", entry.id, credit_fen=credit)
    db.session.commit()
    return entry
