"""Dashboard pages for fees: schedules and ladder settings, bill generation, bills and payment entry (a building head
only for their building), arrears with visits and 催告 letters, 一事一议 levies, the ledger and the monthly report."""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Building, Estate, Room, Street, Unit
from app.models.fee import (BASES, CYCLES, EXPENSE_CATEGORIES, INCOME_SOURCES, PAYMENT_KINDS, PAYMENT_METHODS,
                            COMPUTED_SOURCES, Bill, FeePayment, FeeSchedule, Levy, MonthlyReport, ReminderPolicy)
from app.services import arrears, billing, collection, ledger, payments, scope
from app.services.errors import DomainError, NotFound
from app.services.reminders import DEFAULT_POLICY, policy_for
from app.web.auth import role_required
from app.web.uploads import upload_limit
from app.web.dashboard import add_nav_item

bp = Blueprint("fees", __name__, url_prefix="/admin/fees")
WORKERS = ("street_admin", "community_staff", "building_head", "unit_head")
OFFICE = ("street_admin", "community_staff")
add_nav_item("物业费", "fees.index", WORKERS, order=40)
add_nav_item("街道月报", "fees.reports", OFFICE, order=85)


def _estate(estate_id: int) -> Estate:
    try:
        return scope.estate_for(current_user, estate_id)
    except NotFound:
        abort(404)


def _office(estate: Estate) -> None:
    """Office actions need an office role covering the whole estate."""
    if not scope.can_manage_register(current_user) or not scope.reach(current_user, estate).whole:
        abort(404)


def to_fen(text: str, field: str = "金额") -> int:
    """'72.5' 元 → 7250 fen; refuses more than two decimals."""
    value = billing.parse_yuan(text or "", field)
    if value != value.to_integral_value():
        raise DomainError(f"{field}最多精确到分。")
    return int(value)


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise DomainError(f"请填写{field}（年-月-日）。") from None


@bp.get("")
@role_required(*WORKERS)
def index():
    """Estates in reach with their fee standard."""
    estates = list(db.session.scalars(scope.visible_estates(current_user)))
    schedules = {s.estate_id: s for s in db.session.scalars(select(FeeSchedule).where(FeeSchedule.active.is_(True))
                                                             .order_by(FeeSchedule.starts_on))}
    return render_template("fees/index.html", estates=estates, schedules=schedules)


@bp.route("/<int:estate_id>", methods=["GET", "POST"])
@role_required(*WORKERS)
def estate(estate_id: int):
    """Schedules, reminder settings and bill generation (changes: office only)."""
    item = _estate(estate_id)
    if request.method == "POST":
        _office(item)
        action = request.form.get("action")
        try:
            if action == "schedule":
                f = request.form
                late = f.get("late_fee", "").strip()
                billing.create_schedule(item, basis=f.get("basis", ""), rate_fen=billing.parse_yuan(f.get("rate", ""), "收费标准"),
                                        cycle=f.get("cycle", ""), starts_on=_day(f.get("starts_on"), "开始日期"),
                                        due_days=int(f.get("due_days") or 30), actor=f"staff:{current_user.id}",
                                        vacancy_percent=int(f.get("vacancy_percent") or 100),
                                        exempt_developer_held=f.get("exempt_developer_held") == "1",
                                        late_fee_permille_per_day=Decimal(late) if late else None,
                                        late_fee_cap_percent=int(f.get("late_fee_cap") or 10) if late else None)
                db.session.commit()
                flash("收费标准已保存。", "success")
            elif action == "policy":
                policy = db.session.scalar(select(ReminderPolicy).where(ReminderPolicy.estate_id == item.id))
                if policy is None:
                    policy = ReminderPolicy(estate_id=item.id, **DEFAULT_POLICY)
                    db.session.add(policy)
                for name in ("first_after_days", "repeat_every_days", "max_private", "community_after_days",
                             "quiet_start_hour", "quiet_end_hour"):
                    value = int(request.form.get(name) or 0)
                    if value < 0 or value > 365 or (name.startswith("quiet") and value > 23):
                        raise DomainError("提醒设置的数字超出范围。")
                    setattr(policy, name, value)
                policy.heads_see_phone = request.form.get("heads_see_phone") == "1"
                policy.enabled = request.form.get("enabled") == "1"
                db.session.commit()
                flash("提醒设置已保存。", "success")
            elif action == "generate":
                schedule = db.session.get(FeeSchedule, int(request.form.get("schedule_id") or 0))
                if schedule is None or schedule.estate_id != item.id:
                    abort(404)
                report = billing.generate_bills(schedule, _day(request.form.get("day"), "日期"),
                                                skip_missing_area=request.form.get("skip") == "1")
                flash(f"{report.period[0]}—{report.period[1]}：新生成 {report.created} 张，已有 {report.existing} 张，"
                      f"免收 {report.exempt} 户" + (f"，缺面积跳过 {len(report.missing_area)} 户" if report.missing_area
                                                 else ""), "success")
            else:
                abort(400)
        except (DomainError, ValueError) as exc:
            db.session.rollback()
            flash(getattr(exc, "message", "请检查填写的数字。"), "error")
        return redirect(url_for("fees.estate", estate_id=item.id))
    schedules = db.session.scalars(select(FeeSchedule).where(FeeSchedule.estate_id == item.id)
                                   .order_by(FeeSchedule.starts_on.desc())).all()
    return render_template("fees/estate.html", estate=item, schedules=schedules, policy=policy_for(item.id),
                           bases=BASES, cycles=CYCLES, office=scope.can_manage_register(current_user),
                           today=clock.now().date(), periods=collection.periods(item.id)[:8])


@bp.get("/<int:estate_id>/bills")
@role_required(*WORKERS)
def bills(estate_id: int):
    """Bills of the rooms in reach (a head: their building), open first, with a payment form on each."""
    item = _estate(estate_id)
    buildings = scope.visible_buildings(current_user, item)
    building_id = request.args.get("building_id", type=int) or (buildings[0].id if buildings else None)
    if building_id is not None and building_id not in {b.id for b in buildings}:
        abort(404)
    rooms = scope.visible_rooms(current_user, item, building_id).with_only_columns(Room.id).order_by(None)
    query = select(Bill).where(Bill.estate_id == item.id, Bill.room_id.in_(rooms))
    if request.args.get("status", "open") == "open":
        query = query.where(Bill.status == "open")
    rows = db.session.scalars(query.order_by(Bill.room_id, Bill.period_start).limit(500)).all()
    recent = db.session.scalars(select(FeePayment).where(FeePayment.estate_id == item.id,
                                                         FeePayment.room_id.in_(rooms))
                                .order_by(FeePayment.id.desc()).limit(30)).all()
    return render_template("fees/bills.html", estate=item, buildings=buildings, building_id=building_id, bills=rows,
                           recent=recent, methods={k: v for k, v in PAYMENT_METHODS.items() if k != "credit"},
                           kinds=PAYMENT_KINDS, form_key=uuid.uuid4().hex, status=request.args.get("status", "open"),
                           office=scope.can_manage_register(current_user), yuan=billing.yuan)


@bp.post("/bills/<int:bill_id>/pay")
@role_required(*WORKERS)
def pay(bill_id: int):
    """Record a payment; the hidden form key makes a double-submitted form count once."""
    bill = db.session.get(Bill, bill_id) or abort(404)
    _estate(bill.estate_id)
    try:
        result = payments.record_payment(current_user, bill.id, to_fen(request.form.get("amount", "")),
                                         request.form.get("method", ""), client_key=request.form.get("form_key"),
                                         prepayment=request.form.get("prepayment") == "1",
                                         reference=request.form.get("reference", ""))
        flash(result.message, "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("fees.bills", estate_id=bill.estate_id, building_id=bill.building_id))


@bp.post("/payments/<int:payment_id>/reverse")
@role_required(*OFFICE)
def reverse(payment_id: int):
    """Correct or refund a payment with a new negative entry."""
    entry = db.session.get(FeePayment, payment_id) or abort(404)
    _office(_estate(entry.estate_id))
    try:
        amount = request.form.get("amount", "").strip()
        result = payments.reverse_payment(current_user, entry.id, to_fen(amount) if amount else None,
                                          request.form.get("kind", ""), request.form.get("reason", ""),
                                          client_key=request.form.get("form_key"))
        flash("已记录（原记录保留）。" if not result.duplicate else result.message, "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("fees.bills", estate_id=entry.estate_id, status="all"))


@bp.route("/<int:estate_id>/arrears", methods=["GET", "POST"])
@role_required(*WORKERS)
def arrears_list(estate_id: int):
    """Unpaid rooms in reach (a head: their building), visit logging, and letters for the office."""
    item = _estate(estate_id)
    if request.method == "POST":
        room = db.session.get(Room, request.form.get("room_id", type=int) or 0)
        try:
            if room is None or room.estate_id != item.id:
                raise NotFound("没有找到这户。")
            arrears.log_visit(current_user, room, request.form.get("note", ""))
            flash("上门情况已记录。", "success")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        return redirect(url_for("fees.arrears_list", estate_id=item.id))
    rows = arrears.arrears(current_user, item, request.args.get("building_id", type=int))
    db.session.commit()  # the audit entry of this view
    return render_template("fees/arrears.html", estate=item, rows=rows, yuan=billing.yuan,
                           office=scope.can_manage_register(current_user) and scope.reach(current_user, item).whole)


@bp.post("/<int:estate_id>/letters")
@role_required(*OFFICE)
def letters(estate_id: int):
    """Print 催告 letters for the chosen rooms (each one recorded)."""
    item = _estate(estate_id)
    _office(item)
    try:
        pdf = arrears.letters_pdf(current_user, item, [int(v) for v in request.form.getlist("room_id")])
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("fees.arrears_list", estate_id=item.id))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"cuigao-{item.id}-{clock.now():%Y%m%d}.pdf")


@bp.route("/<int:estate_id>/levies", methods=["GET", "POST"])
@role_required(*OFFICE)
def levies(estate_id: int):
    """一事一议: preview the split by area, then create one bill per room."""
    item = _estate(estate_id)
    _office(item)
    preview, form = None, request.form
    if request.method == "POST":
        try:
            scope_type, scope_id = (form.get("scope", "") + ":").split(":")[:2]
            total = to_fen(form.get("total", ""), "分摊总额")
            if form.get("action") == "create":
                levy, _shares = billing.create_levy(item, scope_type, int(scope_id or 0), form.get("title", ""), total,
                                                    _day(form.get("due_on"), "缴费期限"), f"staff:{current_user.id}")
                db.session.commit()
                flash(f"已生成{levy.room_count}户的分摊账单。", "success")
                return redirect(url_for("fees.levies", estate_id=item.id))
            preview = billing.preview_levy(item, scope_type, int(scope_id or 0), total)
        except (DomainError, ValueError) as exc:
            db.session.rollback()
            flash(getattr(exc, "message", "请检查填写的内容。"), "error")
    units = db.session.execute(select(Unit, Building).join(Building, Unit.building_id == Building.id)
                               .where(Building.estate_id == item.id).order_by(Building.sort_key, Unit.sort_key)).all()
    existing = db.session.scalars(select(Levy).where(Levy.estate_id == item.id).order_by(Levy.id.desc())).all()
    return render_template("fees/levies.html", estate=item, units=units, levies=existing, preview=preview, form=form,
                           yuan=billing.yuan)


@bp.route("/<int:estate_id>/ledger", methods=["GET", "POST"])
@upload_limit(lambda config: ledger.MAX_RECEIPT + 64 * 1024)  # a receipt photo
@role_required(*OFFICE)
def ledger_page(estate_id: int):
    """The month's ledger, entry of other income and spending (with receipts), reversals and the XLSX export."""
    item = _estate(estate_id)
    _office(item)
    today = clock.now().date()
    year, month = request.args.get("year", today.year, type=int), request.args.get("month", today.month, type=int)
    if request.method == "POST":
        try:
            if request.form.get("action") == "reverse":
                ledger.reverse_entry(current_user, item, request.form.get("entry_id", type=int) or 0,
                                     request.form.get("reason", ""))
            else:
                upload = request.files.get("receipt")
                ledger.record_entry(current_user, item, request.form.get("direction", ""),
                                    request.form.get("category", ""), to_fen(request.form.get("amount", "")),
                                    _day(request.form.get("occurred_on"), "日期"), request.form.get("description", ""),
                                    request.form.get("counterparty", ""), upload.read() if upload else None)
            flash("已记账。", "success")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        return redirect(url_for("fees.ledger_page", estate_id=item.id, year=year, month=month))
    if request.args.get("format") == "xlsx":
        return send_file(io.BytesIO(ledger.ledger_xlsx(item, year, month)), as_attachment=True,
                         download_name=f"ledger-{item.id}-{year}{month:02d}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return render_template("fees/ledger.html", estate=item, summary=ledger.monthly_summary(item, year, month),
                           income={k: v for k, v in INCOME_SOURCES.items() if k not in COMPUTED_SOURCES},
                           expense=EXPENSE_CATEGORIES, yuan=billing.yuan, year=year, month=month, today=today)


@bp.route("/reports", methods=["GET", "POST"])
@role_required(*OFFICE)
def reports():
    """Monthly reports of the streets in reach; office staff may build last month's now."""
    street_ids = {e.community.street_id for e in db.session.scalars(scope.visible_estates(current_user))}
    if request.method == "POST":
        ledger.generate_monthly_reports(clock.now().date())
        flash("已生成上月月报。", "success")
        return redirect(url_for("fees.reports"))
    rows = db.session.scalars(select(MonthlyReport).where(MonthlyReport.street_id.in_(sorted(street_ids)))
                              .order_by(MonthlyReport.month.desc()).limit(24)).all()
    streets = {s.id: s.name for s in db.session.scalars(select(Street).where(Street.id.in_(sorted(street_ids))))}
    return render_template("fees/reports.html", reports=rows, streets=streets)
