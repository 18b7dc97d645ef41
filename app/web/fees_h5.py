"""Resident H5 pages for fees: my bills and payments (signed in), and the estate's public pages — the collection
notice with its chart and PNG, and the monthly ledger — which hold aggregates only, never a name or a room."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, abort, g, render_template, request
from sqlalchemy import select
from werkzeug.security import safe_join

from app import clock
from app.extensions import db
from app.models import Estate
from app.models.fee import LedgerEntry, PAYMENT_KINDS, PAYMENT_METHODS
from app.services import billing, collection, payments
from app.services import ledger as ledger_service
from app.web.resident import resident_required
from app.web.uploads import send_upload

bp = Blueprint("fees_h5", __name__, url_prefix="/h5/fees")


def _estate(estate_id: int) -> Estate:
    return db.session.get(Estate, estate_id) or abort(404)


def _period(estate: Estate) -> tuple[date, date] | None:
    """The period asked for (?period=start date), or the latest one."""
    wanted = request.args.get("period")
    known = collection.periods(estate.id)
    if not wanted:
        return known[0] if known else None
    for start, end in known:
        if start.isoformat() == wanted:
            return start, end
    abort(404)


@bp.get("")
@resident_required
def mine():
    """我还欠多少 / 缴费记录 for the rooms I am bound to as owner or family."""
    rooms, _tenant_only = payments.fee_rooms(g.openid)  # a page view creates nothing
    statement = payments.statement([r.id for r in rooms])
    today = clock.now().date()
    late = {bill.id: billing.late_fee(bill, today) for bill in statement.bills}
    return render_template("fees/h5_mine.html", rooms=rooms, statement=statement, yuan=billing.yuan, late=late,
                           methods=PAYMENT_METHODS, kinds=PAYMENT_KINDS,
                           schedules={r.estate_id: _schedule_text(r.estate_id) for r in rooms})


def _schedule_text(estate_id: int) -> str:
    from app.models.fee import FeeSchedule

    schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.estate_id == estate_id,
                                                           FeeSchedule.active.is_(True))
                                 .order_by(FeeSchedule.starts_on.desc()))
    return schedule.describe if schedule else ""


@bp.get("/notice/<int:estate_id>")
def notice(estate_id: int):
    """收缴情况公示: per building aggregates, a bar chart, the history — no names, no rooms."""
    estate = _estate(estate_id)
    period = _period(estate)
    item = collection.notice(estate, period) if period else None
    return render_template("fees/h5_notice.html", estate=estate, notice=item, yuan=billing.yuan,
                           chart=collection.notice_svg(item) if item else "",
                           periods=collection.periods(estate.id)[:12], history=collection.period_history(estate),
                           months=collection.monthly_collected(estate.id))


@bp.get("/notice/<int:estate_id>.png")
def notice_png(estate_id: int):
    """The notice as a picture for the estate's WeChat group."""
    estate = _estate(estate_id)
    period = _period(estate)
    if period is None:
        abort(404)
    png = collection.notice_png(collection.notice(estate, period))
    return png, 200, {"Content-Type": "image/png", "Cache-Control": "no-store",
                      "Content-Disposition": f'inline; filename="notice-{estate.id}-{period[0]}.png"'}


@bp.get("/ledger/<int:estate_id>")
def ledger(estate_id: int):
    """The estate's public ledger for a month: income by source, spending by category, every line with receipts."""
    estate = _estate(estate_id)
    today = clock.now().date()
    year, month = request.args.get("year", today.year, type=int), request.args.get("month", today.month, type=int)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        abort(404)
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    return render_template("fees/h5_ledger.html", estate=estate, summary=ledger_service.monthly_summary(estate, year, month),
                           yuan=billing.yuan, previous=previous)


@bp.get("/ledger/<int:estate_id>/receipt/<name>")
def receipt(estate_id: int, name: str):
    """A receipt or photo of a ledger line of this estate (only names that belong to one)."""
    found = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.estate_id == estate_id,
                                                           LedgerEntry.receipt_file == name))
    if found is None:
        abort(404)
    path = safe_join(str(ledger_service.receipt_dir()), name)
    if path is None or not Path(path).is_file():
        abort(404)
    return send_upload(Path(path), name="receipt")

