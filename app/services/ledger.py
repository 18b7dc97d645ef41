"""The estate's public ledger: income by source and spending with receipts, reversals as new entries, a monthly
summary (fees and levy shares computed from payments, never typed twice), an XLSX export, and the monthly report
to the street office (六有, coverage, collection rate, tickets closed on time)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import case, func, select

from app import clock
from app.extensions import db
from app.models import Estate, Room, RoomBinding, Street, Community
from app.models.fee import (COMPUTED_SOURCES, EXPENSE_CATEGORIES, INCOME_SOURCES, Bill, FeePayment, LedgerEntry,
                            MonthlyReport)
from app.models.place import SIX_HAVES
from app.services import audit
from app.services.billing import yuan
from app.services.collection import percent
from app.services.errors import DomainError, NotFound

RECEIPT_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"%PDF": ".pdf"}
MAX_RECEIPT = 5 * 1024 * 1024


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def receipt_dir() -> Path:
    path = Path(current_app.instance_path) / "ledger"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_receipt(data: bytes) -> str:
    """Keep an uploaded receipt or photo (JPEG, PNG or PDF, checked by content, ≤ 5 MB), named by its content hash:
    unguessable, and the same file uploaded twice is stored once."""
    if len(data) > MAX_RECEIPT:
        raise DomainError("凭证文件不能超过5MB。")
    suffix = next((ext for magic, ext in RECEIPT_TYPES.items() if data.startswith(magic)), None)
    if suffix is None:
        raise DomainError("凭证只支持 JPG、PNG 图片或 PDF 文件。")
    name = hashlib.sha256(data).hexdigest()[:40] + suffix
    target = receipt_dir() / name
    if not target.exists():
        target.write_bytes(data)
    return name


def record_entry(user, estate: Estate, direction: str, category: str, amount_fen: int, occurred_on: date,
                 description: str, counterparty: str = "", receipt: bytes | None = None) -> LedgerEntry:
    """Add one income or spending line and commit; fee income is computed from payments, so it is refused here."""
    table = INCOME_SOURCES if direction == "income" else EXPENSE_CATEGORIES if direction == "expense" else None
    if table is None or category not in table:
        raise DomainError("请选择收入来源或支出类别。")
    if category in COMPUTED_SOURCES and direction == "income":
        raise DomainError("物业费和维修资金分摊由缴费记录自动汇总，不需要手工记账。")
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError("金额必须大于0。记错了请用“冲正”。")
    if occurred_on > clock.now().date():
        raise DomainError("发生日期不能晚于今天。")
    description = (description or "").strip()
    if not description:
        raise DomainError("请写明收支事项。")
    if direction == "expense" and not receipt:
        raise DomainError("支出需要上传发票、收据或照片。")
    entry = LedgerEntry(estate_id=estate.id, direction=direction, category=category, amount_fen=amount_fen,
                        occurred_on=occurred_on, description=description[:200], counterparty=counterparty.strip()[:80],
                        receipt_file=_store_receipt(receipt) if receipt else None,
                        recorded_by=f"staff:{user.id}" if user else "system", recorded_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    audit.record("staff" if user else "system", user.id if user else "", "ledger_entry", "estate", estate.id,
                 entry_id=entry.id, amount_fen=amount_fen)
    db.session.commit()
    return entry


def reverse_entry(user, estate: Estate, entry_id: int, reason: str) -> LedgerEntry:
    """Cancel a wrong line with an opposite line (the original stays visible); commits."""
    original = db.session.get(LedgerEntry, entry_id)
    if original is None or original.estate_id != estate.id or original.reverses_id is not None:
        raise NotFound("没有找到这条记账。")
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id)) is not None:
        raise DomainError("这条记账已经冲正过了。")
    if not (reason or "").strip():
        raise DomainError("请写明冲正原因。")
    entry = LedgerEntry(estate_id=estate.id, direction=original.direction, category=original.category,
                        amount_fen=-original.amount_fen, occurred_on=clock.now().date(),
                        description=f"冲正：{reason.strip()}"[:200], counterparty=original.counterparty,
                        reverses_id=original.id, recorded_by=f"staff:{user.id}", recorded_at=clock.now())
    db.session.add(entry)
    audit.record_staff(user, "ledger_reverse", "estate", estate.id, entry_id=entry_id)
    db.session.commit()
    return entry


@dataclass
class Summary:
    """One month of the public ledger."""

    estate: str
    year: int
    month: int
    income: dict[str, int] = field(default_factory=dict)  # label → fen
    expense: dict[str, int] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    opening_fen: int = 0

    @property
    def income_fen(self) -> int:
        return sum(self.income.values())

    @property
    def expense_fen(self) -> int:
        return sum(self.expense.values())

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.income_fen - self.expense_fen


def _computed_income(estate_id: int, before: datetime, since: datetime | None = None) -> dict[str, int]:
    query = (select(Bill.kind, func.sum(FeePayment.amount_fen)).join(Bill, FeePayment.bill_id == Bill.id)
             .where(FeePayment.estate_id == estate_id, FeePayment.method != "credit",
                    FeePayment.recorded_at < before).group_by(Bill.kind))
    if since is not None:
        query = query.where(FeePayment.recorded_at >= since)
    sums = dict(db.session.execute(query).all())
    return {"fee": int(sums.get("fee") or 0), "maintenance_share": int(sums.get("levy") or 0)}


def _manual(estate_id: int, start: date | None, end: date) -> list:
    query = (select(LedgerEntry.direction, LedgerEntry.category, func.sum(LedgerEntry.amount_fen))
             .where(LedgerEntry.estate_id == estate_id, LedgerEntry.occurred_on <= end)
             .group_by(LedgerEntry.direction, LedgerEntry.category))
    if start is not None:
        query = query.where(LedgerEntry.occurred_on >= start)
    return db.session.execute(query).all()


def monthly_summary(estate: Estate, year: int, month: int) -> Summary:
    """Income by source and spending by category for one month, with the opening and closing balance."""
    start, end = month_bounds(year, month)
    since = datetime.combine(start, time(), clock.TZ)
    before = datetime.combine(end + timedelta(days=1), time(), clock.TZ)
    summary = Summary(estate.name, year, month)
    computed = _computed_income(estate.id, before, since)
    for code, label in INCOME_SOURCES.items():
        summary.income[label] = computed.get(code, 0)
    for code, label in EXPENSE_CATEGORIES.items():
        summary.expense[label] = 0
    for direction, category, amount in _manual(estate.id, start, end):
        target = summary.income if direction == "income" else summary.expense
        table = INCOME_SOURCES if direction == "income" else EXPENSE_CATEGORIES
        target[table.get(category, category)] += int(amount)
    summary.income = {k: v for k, v in summary.income.items() if v}
    summary.expense = {k: v for k, v in summary.expense.items() if v}
    opening = sum(_computed_income(estate.id, since).values())
    for direction, _category, amount in _manual(estate.id, None, start - timedelta(days=1)):
        opening += int(amount) if direction == "income" else -int(amount)
    summary.opening_fen = opening
    summary.entries = list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.estate_id == estate.id, LedgerEntry.occurred_on >= start, LedgerEntry.occurred_on <= end)
        .order_by(LedgerEntry.occurred_on, LedgerEntry.id)))
    return summary


def ledger_xlsx(estate: Estate, year: int, month: int) -> bytes:
    """The month's summary and every line (with receipt file names) as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from app.services.spreadsheet import append_row

    summary = monthly_summary(estate, year, month)
    book = Workbook()
    sheet = book.active
    sheet.title = "月度汇总"
    append_row(sheet, [f"{estate.name} {year}年{month}月 收支公示"])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, ["期初结余（元）", float(yuan(summary.opening_fen))])
    append_row(sheet, [])
    append_row(sheet, ["收入来源", "金额（元）"])
    for label, fen in summary.income.items():
        append_row(sheet, [label, float(yuan(fen))])
    append_row(sheet, ["收入合计", float(yuan(summary.income_fen))])
    append_row(sheet, [])
    append_row(sheet, ["支出类别", "金额（元）"])
    for label, fen in summary.expense.items():
        append_row(sheet, [label, float(yuan(fen))])
    append_row(sheet, ["支出合计", float(yuan(summary.expense_fen))])
    append_row(sheet, ["期末结余（元）", float(yuan(summary.closing_fen))])
    detail = book.create_sheet("收支明细")
    append_row(detail, ["日期", "收/支", "类别", "事项", "对方", "金额（元）", "凭证", "冲正记录"])
    for entry in summary.entries:
        append_row(detail, [entry.occurred_on.isoformat(), "收入" if entry.direction == "income" else "支出",
                       entry.category_label, entry.description, entry.counterparty, float(yuan(entry.amount_fen)),
                       entry.receipt_file or "", f"冲正第{entry.reverses_id}条" if entry.reverses_id else ""])
    for ws in (sheet, detail):
        ws.column_dimensions["A"].width = 18
        ws.column_dimensions["D"].width = 30
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _tickets_on_time(estate_ids: list[int], start: datetime, end: datetime) -> tuple[int, int] | None:
    """(closed on time, closed) in the month, if the tickets capability is installed."""
    try:
        from app.models.ticket import Ticket
    except ImportError:
        return None
    closed = db.session.execute(select(Ticket.closed_at, Ticket.deadline).where(
        Ticket.estate_id.in_(estate_ids), Ticket.closed_at >= start, Ticket.closed_at < end)).all()
    return sum(1 for closed_at, deadline in closed if closed_at <= deadline), len(closed)


def build_monthly_report(street: Street, year: int, month: int) -> MonthlyReport:
    """Build (or return the already built) report of a street for a month; the caller commits."""
    first, last = month_bounds(year, month)
    existing = db.session.scalar(select(MonthlyReport).where(MonthlyReport.street_id == street.id,
                                                             MonthlyReport.month == first))
    if existing is not None:
        return existing
    start = datetime.combine(first, time(), clock.TZ)
    end = datetime.combine(last + timedelta(days=1), time(), clock.TZ)
    estates = list(db.session.scalars(select(Estate).join(Community, Estate.community_id == Community.id)
                                      .where(Community.street_id == street.id).order_by(Estate.name)))
    rows, lines = [], [f"{street.name} {year}年{month}月 无物业小区管理月报"]
    for estate in estates:
        status = estate.standard_status()
        done = [SIX_HAVES[c] for c, when in status.items() if when and when <= last]
        rooms = db.session.scalar(select(func.count(Room.id)).where(Room.estate_id == estate.id)) or 0
        bound = db.session.scalar(select(func.count(func.distinct(RoomBinding.room_id))).join(
            Room, RoomBinding.room_id == Room.id).where(Room.estate_id == estate.id,
                                                        RoomBinding.status == "bound")) or 0
        due = db.session.execute(select(func.count(Bill.id), func.sum(Bill.amount_fen), func.sum(Bill.paid_fen),
                                        func.sum(case((Bill.paid_fen >= Bill.amount_fen, 1), else_=0)))
                                 .where(Bill.estate_id == estate.id, Bill.status != "cancelled",
                                        Bill.due_on >= first, Bill.due_on <= last)).one()
        billed, amount, paid, settled = (int(v or 0) for v in due)
        tickets = _tickets_on_time([estate.id], start, end)
        row = {"小区": estate.name, "六有": f"{len(done)}/6", "已达标": "、".join(done) or "—",
               "户数": rooms, "已绑定户数": bound, "覆盖率": percent(bound, rooms),
               "本月到期账单": billed, "按户收缴率": percent(settled, billed), "按金额收缴率": percent(paid, amount),
               "报修按时办结": "—（报修模块未启用）" if tickets is None else
               f"{tickets[0]}/{tickets[1]}（{percent(*tickets)}）"}
        rows.append(row)
        lines.append("；".join(f"{k} {v}" for k, v in row.items()))
    report = MonthlyReport(street_id=street.id, month=first, data={"rows": rows}, text="\n".join(lines),
                           generated_at=clock.now())
    db.session.add(report)
    return report


def generate_monthly_reports(today: date | None = None) -> int:
    """The job: last month's report for every street, once (a second run adds nothing); returns how many new."""
    today = today or clock.now().date()
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    created = 0
    for street in db.session.scalars(select(Street).order_by(Street.id)):
        before = db.session.scalar(select(MonthlyReport.id).where(MonthlyReport.street_id == street.id,
                                                                  MonthlyReport.month == date(year, month, 1)))
        build_monthly_report(street, year, month)
        created += before is None
    db.session.commit()
    return created
