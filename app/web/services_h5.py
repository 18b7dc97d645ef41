"""Resident and provider H5 pages of 菜单式 services: catalogue, booking, my orders, and the provider's work page."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from app import clock
from app.extensions import db
from app.models import CatalogItem, Room
from app.models.service import PAYMENT_METHODS
from app.services import catalogue, orders, providers, staff_links
from app.services.binding import account_for
from app.services.errors import DomainError, NotFound
from app.web.resident import resident_required

bp = Blueprint("services_h5", __name__, url_prefix="/h5/services")


def _rooms() -> list[Room]:
    account = account_for(g.openid)
    ids = orders.bound_room_ids(account)
    return [db.session.get(Room, room_id) for room_id in ids]


def _slot(raw: str | None) -> datetime | None:
    """A slot value from the form (ISO time); None when missing or malformed (the service then says so)."""
    try:
        return clock.localize(datetime.fromisoformat(raw)) if raw else None
    except ValueError:
        return None


def _slot_groups(item: CatalogItem) -> list[tuple[str, list[datetime]]]:
    """Free slots grouped by day label, for an <optgroup> per day."""
    groups: dict[str, list[datetime]] = {}
    for moment in catalogue.free_slots(item):
        label = orders.when_text(moment).rsplit("）", 1)[0] + "）"
        groups.setdefault(label, []).append(moment)
    return list(groups.items())


@bp.get("")
@resident_required
def catalogue_page():
    """The estate's services: price, market price and the saving, with a booking button each."""
    rooms = _rooms()
    db.session.commit()
    if not rooms:
        return render_template("services/h5/catalogue.html", estate=None, items=[], yuan=catalogue.yuan)
    estate = rooms[0].estate
    return render_template("services/h5/catalogue.html", estate=estate, items=catalogue.items_for_estate(estate),
                           yuan=catalogue.yuan)


@bp.route("/book/<int:item_id>", methods=["GET", "POST"])
@resident_required
def book(item_id: int):
    """The order page: item, a free time slot, the room (bound rooms only), a note; one order per form key."""
    item = db.session.get(CatalogItem, item_id)
    rooms = _rooms()
    if item is None or not rooms:
        db.session.commit()
        return redirect(url_for("services_h5.catalogue_page"))
    error = None
    key = request.form.get("key") or uuid.uuid4().hex
    if request.method == "POST":
        room_id = request.form.get("room", type=int)
        try:
            order, _ = orders.place_order(g.openid, item.id, _slot(request.form.get("slot")), client_key=key,
                                          room_id=room_id, note=request.form.get("note", ""))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            return redirect(url_for("services_h5.my_order", number=order.number, new=1))
    db.session.commit()
    return render_template("services/h5/book.html", item=item, rooms=rooms, groups=_slot_groups(item), key=key,
                           error=error, yuan=catalogue.yuan, form=request.form), (422 if error else 200)


@bp.get("/orders")
@resident_required
def my_orders():
    """My orders, newest first."""
    return render_template("services/h5/orders.html", orders=orders.resident_orders(g.openid), yuan=catalogue.yuan,
                           when=orders.when_text)


@bp.route("/orders/<number>", methods=["GET", "POST"])
@resident_required
def my_order(number: str):
    """One of my orders: cancel, answer a proposed time, move the time, confirm and rate."""
    try:
        order = orders.resident_order(g.openid, number)
    except NotFound:
        abort(404)
    error = message = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "cancel":
                orders.cancel(g.openid, number)
                message = "已取消，没有收费。"
            elif action in ("agree", "disagree"):
                orders.answer_proposal(g.openid, number, action == "agree")
                message = "已同意新时间。" if action == "agree" else "已告诉师傅保持原时间。"
            elif action == "reschedule":
                orders.reschedule(g.openid, number, _slot(request.form.get("slot")))
                message = "已改时间，等师傅确认。"
            elif action == "rate":
                orders.confirm(g.openid, number, request.form.get("rating", type=int),
                               request.form.get("comment", ""), request.form.get("complaint") == "1")
                message = "谢谢您的评价！"
            else:
                abort(400)
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        order = orders.resident_order(g.openid, number)
    elif request.args.get("new"):
        message = f"预约成功！订单号 {order.number}，师傅接单后会在微信里通知您。"
    return render_template("services/h5/order.html", order=order, yuan=catalogue.yuan, when=orders.when_text,
                           groups=_slot_groups(order.item) if order.status in ("ordered", "accepted") else [],
                           message=message, error=error), (422 if error else 200)


def _worker():
    """The staff user linked to this WeChat user, if they work for a provider; 404 for anyone else."""
    user = staff_links.staff_for_openid(g.openid)
    if user is None or not providers.providers_of(user):
        abort(404)
    return user


@bp.get("/work")
@resident_required
def work():
    """The provider's open orders: new ones to accept, accepted ones to complete."""
    user = _worker()
    return render_template("services/h5/work.html", orders=orders.provider_orders(user), yuan=catalogue.yuan,
                           when=orders.when_text)


@bp.route("/work/<number>", methods=["GET", "POST"])
@resident_required
def work_order(number: str):
    """Accept, decline, propose another time, complete, record the payment."""
    user = _worker()
    try:
        order = orders.order_by_number(number)
        orders.provider_for(user, order)
    except NotFound:
        abort(404)
    error = message = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "accept":
                orders.accept(user, number)
                message = "已接单，请按时上门。"
            elif action == "decline":
                orders.decline(user, number, request.form.get("reason", ""))
                message = "已记录不接这单。"
            elif action == "propose":
                orders.propose(user, number, _slot(request.form.get("slot")))
                message = "已把新时间发给居民，等居民回复。"
            elif action == "complete":
                orders.complete(user, number)
                message = "已完工，已请居民确认评价。"
            elif action == "pay":
                amount = catalogue.parse_yuan(request.form.get("amount"), "收款金额")
                providers.record_payment(user, orders.order_by_number(number), amount, request.form.get("method", ""))
                message = "已登记收款，收据已发给居民。"
            else:
                abort(400)
        except (DomainError, NotFound) as exc:
            db.session.rollback()
            error = exc.message
        order = orders.order_by_number(number)
    return render_template("services/h5/work_order.html", order=order, yuan=catalogue.yuan, when=orders.when_text,
                           groups=_slot_groups(order.item), methods=PAYMENT_METHODS, address=orders.address(order),
                           message=message, error=error), (422 if error else 200)
