"""Dashboard pages of the complaint ledger: the list with filters and bulk actions, a ticket's page, the
red/black list, the monthly export, the building QR sheet, and publishing notices."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models import Estate
from app.models.notice import KINDS
from app.models.staff import ROLES
from app.models.ticket import CATEGORIES, OPEN_STATUSES, STATUSES, TYPES, Ticket, TicketPhoto
from app.services import audit, notices, scope, tickets_flow, tickets_stats
from app.services.errors import DomainError
from app.services.tickets import store_photo, upload_root
from app.web.auth import role_required
from app.web.uploads import send_upload, upload_limit
from app.web.dashboard import add_nav_item

bp = Blueprint("tickets", __name__, template_folder="templates")
ALL = tuple(sorted(ROLES))
MANAGERS = tuple(sorted(tickets_flow.MANAGER_ROLES))
OFFICE = tuple(sorted(scope.OFFICE_ROLES))
PAGE_SIZE = 100

add_nav_item("报修台账", "tickets.ledger", ALL, order=30)
add_nav_item("红黑榜", "tickets.board", OFFICE, order=32)
add_nav_item("通知公告", "tickets.notices_page", MANAGERS, order=34)


def _estates() -> list[Estate]:
    return list(db.session.scalars(scope.visible_estates(current_user)))


def _filtered():
    """The ledger query for the filters in the query string."""
    query = tickets_flow.visible_tickets(current_user)
    args = request.args
    if args.get("estate", type=int):
        query = query.where(Ticket.estate_id == args.get("estate", type=int))
    if args.get("status") in STATUSES:
        query = query.where(Ticket.status == args["status"])
    elif args.get("status") == "open":
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    if args.get("category") in CATEGORIES:
        query = query.where(Ticket.category == args["category"])
    if args.get("kind") in TYPES:
        query = query.where(Ticket.kind == args["kind"])
    if args.get("overdue"):
        query = query.where(tickets_flow.overdue_clause())
    if args.get("mine"):
        query = query.where(Ticket.handler_id == current_user.id)
    if args.get("q", "").strip():
        query = query.where(Ticket.number.contains(args["q"].strip().upper()))
    return query


@bp.get("/admin/tickets")
@role_required(*ALL)
def ledger():
    """The ledger: filters, overdue rows highlighted, checkboxes for bulk actions."""
    query = _filtered()
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.options(selectinload(Ticket.handler), selectinload(Ticket.estate),
                                            selectinload(Ticket.building), selectinload(Ticket.unit),
                                            selectinload(Ticket.room))
                              .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    overdue = db.session.scalar(select(func.count()).select_from(
        tickets_flow.visible_tickets(current_user).where(tickets_flow.overdue_clause()).subquery()))
    handlers = {}
    for ticket in rows:
        if tickets_flow.manages(current_user, ticket):
            for person in tickets_flow.candidates(current_user, ticket):
                handlers[person.id] = person
            break  # candidates of one estate are enough for the bulk picker; assign() checks each ticket
    return render_template("tickets/ledger.html", tickets=rows, total=total, page=page, page_size=PAGE_SIZE,
                           overdue_count=overdue, estates=_estates(), statuses=STATUSES, categories=CATEGORIES,
                           kinds=TYPES, args=request.args, now=clock.now(), handlers=list(handlers.values()),
                           is_manager=scope.has_role(current_user, *MANAGERS),
                           is_office=scope.has_role(current_user, *OFFICE),
                           next_url=url_for("tickets.ledger", **{**request.args.to_dict(), "page": page + 1})
                           if total > page * PAGE_SIZE else None)


@bp.post("/admin/tickets/bulk")
@role_required(*ALL)
def bulk():
    """Bulk actions on the ticked rows: assign, accept, or merge into one incident; each ticket is checked."""
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    action = request.form.get("action", "")
    if not ids:
        flash("请先勾选工单。", "error")
        return redirect(request.referrer or url_for("tickets.ledger"))
    if action == "merge":
        try:
            primary = tickets_flow.merge_incident(current_user, ids, request.form.get("note", ""))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("tickets.ledger"))
        flash(f"已合并为事件 {primary.number}，可以发布通知告知住户。", "success")
        return redirect(url_for("tickets.detail", ticket_id=primary.id))
    done, problems = 0, []
    for ticket_id in ids:
        try:
            if action == "assign":
                tickets_flow.assign(current_user, ticket_id, request.form.get("handler_id", type=int) or 0)
            elif action in ("accept", "start"):
                tickets_flow.transition(current_user, ticket_id, action)
            else:
                abort(400)
            done += 1
        except DomainError as error:
            db.session.rollback()
            number = db.session.scalar(select(Ticket.number).where(Ticket.id == ticket_id)) or ticket_id
            problems.append(f"{number}：{error.message}")
    flash(f"已处理 {done} 件。" + ("未处理：" + "；".join(problems) if problems else ""),
          "error" if problems else "success")
    return redirect(request.referrer or url_for("tickets.ledger"))


@bp.get("/admin/tickets/<int:ticket_id>")
@role_required(*ALL)
def detail(ticket_id: int):
    """One ticket: where, what, reporter (staff only), timeline with photos, and what the user may do next."""
    ticket = tickets_flow.ticket_for_staff(current_user, ticket_id)
    account = ticket.reporter
    reporter = None
    if account is not None:
        rooms = [b.room for b in account.active_bindings()]
        person = account.person
        reporter = {"name": person.name if person else "未实名住户", "phone": person.masked_phone if person else "",
                    "rooms": "、".join(f"{r.estate.name}{r.label}" for r in rooms) or "未绑定房屋"}
    moves = [action for action, (starts, _target) in tickets_flow.MOVES.items() if ticket.status in starts]
    can_act = tickets_flow.can_act(current_user, ticket)
    manages = tickets_flow.manages(current_user, ticket)
    page = render_template("tickets/detail.html", ticket=ticket, reporter=reporter, now=clock.now(), statuses=STATUSES,
                           moves=moves if can_act else [], labels=tickets_flow.ACTION_LABELS, manages=manages,
                           candidates=tickets_flow.candidates(current_user, ticket) if manages else [],
                           merged_into=db.session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None)
    audit.record_staff(current_user, "view", "ticket", ticket.id)
    db.session.commit()
    return page


@bp.post("/admin/tickets/<int:ticket_id>/act")
@upload_limit(lambda config: config["TICKET_PHOTO_MAX"] + 64 * 1024)
@role_required(*ALL)
def act(ticket_id: int):
    """Accept / start / done (with a photo) / return / reopen, or assign."""
    action = request.form.get("action", "")
    try:
        if action == "assign":
            tickets_flow.assign(current_user, ticket_id, request.form.get("handler_id", type=int) or 0,
                                request.form.get("note", ""))
        else:
            photos = [store_photo(f.read(), f.filename) for f in request.files.getlist("photo") if f and f.filename]
            tickets_flow.transition(current_user, ticket_id, action, request.form.get("note", ""), photos=photos)
        flash(f"已{tickets_flow.ACTION_LABELS.get(action, '处理')}。", "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))


@bp.get("/admin/tickets/photos/<int:photo_id>")
@role_required(*ALL)
def photo(photo_id: int):
    """A ticket photo, for staff who may see the ticket."""
    item = db.session.get(TicketPhoto, photo_id)
    if item is None or not item.path:
        abort(404)
    tickets_flow.ticket_for_staff(current_user, item.ticket_id)
    path = (upload_root() / item.path).resolve()
    if upload_root().resolve() not in path.parents or not path.exists():
        abort(404)
    return send_upload(path, name="photo", max_age=3600)


@bp.get("/admin/tickets/board")
@role_required(*OFFICE)
def board():
    """红黑榜 per estate and month: on-time rate, satisfaction, reopen rate per handler."""
    estates = _estates()
    estate_id = request.args.get("estate", type=int)
    chosen = [e for e in estates if e.id == estate_id] or estates
    month_tickets, label = tickets_stats.month_tickets([e.id for e in chosen], request.args.get("month"))
    return render_template("tickets/board.html", rows=tickets_stats.board(month_tickets), month=label,
                           months=tickets_stats.months_back(), estates=estates, estate_id=estate_id,
                           count=len(month_tickets))


@bp.get("/admin/tickets/export.xlsx")
@role_required(*OFFICE)
def export():
    """The monthly ledger of an estate (or all in scope) as XLSX, for the district report."""
    estates = _estates()
    estate_id = request.args.get("estate", type=int)
    chosen = [e for e in estates if e.id == estate_id] or estates
    month_tickets, label = tickets_stats.month_tickets([e.id for e in chosen], request.args.get("month"))
    title = chosen[0].name if len(chosen) == 1 else "辖区"
    data = tickets_stats.export_month(month_tickets, label, title)
    audit.record_staff(current_user, "export", "tickets", "", month=label, rows=len(month_tickets))
    db.session.commit()
    return send_file(BytesIO(data), as_attachment=True, download_name=f"{title}-投诉台账-{label}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/admin/tickets/qr-sheet/<int:estate_id>.pdf")
@role_required(*MANAGERS)
def qr_sheet(estate_id: int):
    """The printable QR sheet of an estate: one A4 page per building, with ?units=1 also one per unit."""
    from app.services.qr import qr_sheet_pdf

    estate = scope.estate_for(current_user, estate_id)
    units = request.args.get("units") == "1"
    data = qr_sheet_pdf(estate, units=units)
    audit.record_staff(current_user, "qr_sheet", "estate", estate.id, units=units)
    db.session.commit()
    return send_file(BytesIO(data), as_attachment=True,
                     download_name=f"{estate.name}-{'单元' if units else '楼栋'}二维码.pdf", mimetype="application/pdf")


@bp.route("/admin/tickets/deadlines/<int:estate_id>", methods=["GET", "POST"])
@role_required(*OFFICE)
def deadlines(estate_id: int):
    """The estate's time limit per category (hours); an empty field means the default."""
    from app.models.ticket import DEFAULT_HOURS, TicketDeadline
    from app.services.tickets import set_deadline_hours

    estate = scope.estate_for(current_user, estate_id)
    if not scope.reach(current_user, estate).whole:
        abort(404)
    error = None
    if request.method == "POST":
        try:
            for code in CATEGORIES:
                text = request.form.get(code, "").strip()
                if text and not text.isdigit():
                    raise DomainError(f"“{CATEGORIES[code]}”的时限请填整数小时。")
                set_deadline_hours(estate.id, code, int(text) if text else None)
            audit.record_staff(current_user, "ticket_deadlines", "estate", estate.id)
            db.session.commit()
            flash("办理时限已保存，新登记的工单按新时限计算。", "success")
            return redirect(url_for("tickets.deadlines", estate_id=estate.id))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    own = dict(db.session.execute(select(TicketDeadline.category, TicketDeadline.hours)
                                  .where(TicketDeadline.estate_id == estate.id)).all())
    return render_template("tickets/deadlines.html", estate=estate, categories=CATEGORIES, defaults=DEFAULT_HOURS,
                           own=own, error=error), (422 if error else 200)


@bp.route("/admin/notices", methods=["GET", "POST"])
@role_required(*MANAGERS)
def notices_page():
    """Publish a notice to an estate, some buildings or units; the recent notices below."""
    estates = _estates()
    error = None
    if request.method == "POST":
        try:
            valid_until = _parse_time(request.form.get("valid_until", ""))
            notice = notices.publish_notice(
                current_user, request.form.get("estate", type=int) or 0, kind=request.form.get("kind", ""),
                title=request.form.get("title", ""), body=request.form.get("body", ""),
                building_ids=[int(b) for b in request.form.getlist("buildings") if b.isdigit()],
                urgent=request.form.get("urgent") == "1", valid_until=valid_until,
                ticket_id=request.form.get("ticket", type=int))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            flash(f"公告已发布，{notice.recipients} 位住户会收到通知"
                  + ("。" if notice.urgent else "（夜间 21:00 至次日 8:00 不推送，早上 8 点送达）。"), "success")
            return redirect(url_for("tickets.notices_page"))
    buildings = {e.id: scope.visible_buildings(current_user, e) for e in estates}
    return render_template("tickets/notices.html", estates=estates, buildings=buildings, kinds=KINDS,
                           notices=notices.estate_notices(current_user), describe=notices.describe_targets,
                           error=error, form=request.form, ticket_id=request.args.get("ticket", type=int),
                           now=clock.now()), (422 if error else 200)


def _parse_time(text: str):
    from datetime import datetime

    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return clock.localize(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise DomainError("有效期格式不对，例如 2026-11-30 18:00。")

