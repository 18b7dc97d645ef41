"""Resident H5 pages of the ledger: report from a building or unit QR code, my tickets, rating, the notice board."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, g, render_template, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import db
from app.models import Building, Room, Unit
from app.models.ticket import CATEGORIES, RATINGS, SPOTS, STATUSES, TYPES
from app.services import notices, qr, tickets, tickets_flow
from app.services.errors import DomainError
from app.web.resident import resident_required
from app.web.uploads import upload_limit

bp = Blueprint("tickets_h5", __name__, url_prefix="/h5")
_HELD_SALT = "linli-ticket-held-photos"


def _message(title: str, problem: str, status: int = 200):
    return render_template("tickets/h5/problem.html", title=title, problem=problem), status


def _place_for_request() -> tuple[Building, Unit | None]:
    """The building (and unit) from the scanned token; without one, the building of the resident's bound room."""
    token = request.values.get("t")
    if token:
        return qr.place_from_token(token)
    rooms = tickets.bound_room_ids(tickets.account_for(g.openid))
    if rooms:
        return db.session.get(Room, min(rooms)).building, None
    raise DomainError("请扫描楼栋里张贴的报修二维码，或在服务号里直接发消息告诉我们哪栋楼、什么问题。")


def _held(value: str | None) -> list[tickets.StoredPhoto]:
    """Photos already checked and saved on the first submit, carried through the “same problem?” question."""
    if not value:
        return []
    try:
        items = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_HELD_SALT).loads(value)
    except BadSignature:
        return []
    return [tickets.StoredPhoto(i["p"], i["t"], i["s"]) for i in items][: tickets.MAX_PHOTOS]


def _hold(photos: list[tickets.StoredPhoto]) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_HELD_SALT).dumps(
        [{"p": p.path, "t": p.content_type, "s": p.size} for p in photos])


def _unit_id(form, scanned_unit: Unit | None) -> int | None:
    """The unit the resident chose on the form; a post without the field keeps the scanned code's unit."""
    if "unit" in form:
        return form.get("unit", type=int)
    return scanned_unit.id if scanned_unit is not None else None


@bp.route("/report", methods=["GET", "POST"])
@upload_limit(lambda config: config["TICKET_PHOTO_MAX"] * tickets.MAX_PHOTOS + 256 * 1024)
@resident_required
def report():
    """The report form of a building (a unit's code preselects the unit); a forged or expired code gives a clear
    message and no ticket."""
    try:
        form = request.form
        files = request.files.getlist("photos")
    except RequestEntityTooLarge:
        return _message("照片太大", "照片太大了，请少选几张或压缩后再传。", 413)
    try:
        building, scanned_unit = _place_for_request()
    except DomainError as error:
        db.session.rollback()
        return _message("无法报修", error.message, 400)
    account = tickets.account_for(g.openid)
    my_rooms = [r for r in db.session.scalars(select(Room).where(Room.id.in_(tickets.bound_room_ids(account))))
                if r.building_id == building.id]
    units = list(db.session.scalars(select(Unit).where(Unit.building_id == building.id).order_by(Unit.sort_key)))
    shown_unit = _unit_id(form, scanned_unit)  # the form shows the resident's choice, else the scanned code's unit
    context = dict(building=building, units=units, my_rooms=my_rooms, categories=CATEGORIES, kinds=TYPES,
                   spots=SPOTS, form=form, token=request.values.get("t", ""), nonce=form.get("nonce") or uuid.uuid4().hex,
                   place=qr.place_name(building, scanned_unit),
                   chosen_unit="" if shown_unit is None else str(shown_unit))
    db.session.commit()
    if request.method == "GET":
        return render_template("tickets/h5/report.html", **context)
    try:
        photos = _held(form.get("held")) + [tickets.store_photo(f.read(), f.filename) for f in files if f and f.filename]
        if form.get("same") == "same":
            ticket = tickets.add_supplement(g.openid, form.get("ticket", type=int) or 0, form.get("description", ""),
                                            uploads=photos)
            return render_template("tickets/h5/done.html", ticket=ticket, outcome=f"已补充到 {ticket.number}，谢谢您。")
        room_id = form.get("room", type=int)
        room = next((r for r in my_rooms if r.id == room_id), None) if room_id else None
        result = tickets.create_ticket(
            openid=g.openid, kind=form.get("kind", "report"), category=form.get("category", "other"),
            description=form.get("description", ""), building_id=building.id,
            unit_id=room.unit_id if room else _unit_id(form, scanned_unit), room_id=room.id if room else None,
            spot="" if room else form.get("spot", ""), urgent=form.get("urgent") == "1", uploads=photos,
            client_key=f"h5:{g.openid}:{context['nonce']}"[:80], confirmed_new=form.get("same") == "new")
    except DomainError as error:
        db.session.rollback()
        return render_template("tickets/h5/report.html", error=error.message, **context), 422
    if result.outcome == "ask_same":
        return render_template("tickets/h5/ask.html", existing=result.ticket, question=result.message,
                               held=_hold(photos), **context)
    return render_template("tickets/h5/done.html", ticket=result.ticket, outcome=result.message)


@bp.get("/tickets")
@resident_required
def mine():
    """My tickets (and those I was linked to); never anyone else's."""
    return render_template("tickets/h5/mine.html", tickets=tickets.my_tickets(g.openid), statuses=STATUSES)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@resident_required
def ticket(ticket_id: int):
    """One of my tickets: its progress, and the rating form once it is done."""
    item = tickets.ticket_for_resident(g.openid, ticket_id)
    message = error = None
    if request.method == "POST":
        try:
            item = tickets_flow.rate(g.openid, ticket_id, request.form.get("rating", ""), request.form.get("comment", ""))
            message = ("谢谢您的评价，这件事已销号。" if item.status == "closed"
                       else "已收到您的意见，这件事已重新办理，并报告了楼栋长和社区。")
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    mine_ = item.reporter is not None and item.reporter.openid == g.openid
    steps = [e for e in item.events if e.action in ("create", "accept", "start", "done", "rate", "reopen", "return",
                                                    "merge")]
    return render_template("tickets/h5/ticket.html", ticket=item, can_rate=mine_ and item.status == "done",
                           ratings=RATINGS, steps=steps, statuses=STATUSES, message=message, error=error,
                           labels=tickets_flow.ACTION_LABELS), (422 if error else 200)


@bp.get("/notices")
@resident_required
def notice_board():
    """The notice board of my building(s)."""
    items = notices.current_notices_for(g.openid)
    # Notices are only found for bound rooms; an empty board asks whether there are any (nothing is written).
    bound = bool(items) or bool(notices.resident_places(g.openid))
    return render_template("tickets/h5/notices.html", notices=items, bound=bound)


@bp.get("/notices/<int:notice_id>")
@resident_required
def notice(notice_id: int):
    """One notice addressed to one of my rooms."""
    return render_template("tickets/h5/notice.html", notice=notices.notice_for_resident(g.openid, notice_id))
