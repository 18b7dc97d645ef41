"""Reading service orders: by number, a resident's, a provider's; who may work one; texts and links about them."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.models import Order, ResidentAccount, RoomBinding, StaffUser
from app.services.errors import NotFound, PermissionDenied

WEEKDAYS = "一二三四五六日"


def when_text(moment: datetime | None) -> str:
    """'11月23日（周一）09:00' for messages and pages."""
    if moment is None:
        return ""
    moment = clock.localize(moment)
    return f"{moment.month}月{moment.day}日（周{WEEKDAYS[moment.weekday()]}）{moment:%H:%M}"


def order_url(order: Order) -> str:
    """The resident's H5 page of an order."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/services/orders/{order.number}"


def orders_page_url() -> str:
    """The resident's H5 list of their own orders."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/services/orders"


def work_url(order: Order) -> str:
    """The provider's H5 page of an order."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/services/work/{order.number}"


def address(order: Order) -> str:
    """'幸福里小区3号楼2单元501室'."""
    return f"{order.estate.name}{order.room.label}"


def bound_room_ids(account: ResidentAccount) -> list[int]:
    """The rooms this account is bound to (owner, family or tenant), oldest binding first."""
    return list(db.session.scalars(select(RoomBinding.room_id).where(
        RoomBinding.account_id == account.id, RoomBinding.status == "bound").order_by(RoomBinding.id)))


def provider_for(user: StaffUser, order: Order, assigned_only: bool = False):
    """The user's provider for this order: the assigned one first, else one that serves the item; NotFound when
    the user has nothing to do with it (or, with assigned_only, is not the assigned provider)."""
    from app.services.providers import providers_of

    mine = providers_of(user)
    match = [p for p in mine if p.id == order.provider_id]
    if not match and not assigned_only:
        match = [p for p in mine if p in order.item.providers]
    if not match:
        raise NotFound("没有找到这个订单号，请核对。")
    return match[0]


def order_by_number(number: str) -> Order:
    """An order by its number (case and spaces forgiven); NotFound when missing."""
    order = db.session.scalar(select(Order).where(Order.number == (number or "").strip().upper()))
    if order is None:
        raise NotFound("没有找到这个订单号，请核对。")
    return order


def resident_order(openid: str, number: str) -> Order:
    """One of the resident's own orders; NotFound for anyone else's."""
    order = order_by_number(number)
    if order.openid != openid:
        raise NotFound("没有找到这个订单号，请核对。")
    return order


def resident_orders(openid: str, open_only: bool = False) -> list[Order]:
    """The resident's orders, newest first."""
    query = select(Order).where(Order.openid == openid)
    if open_only:
        query = query.where(Order.status.in_(("ordered", "reschedule", "accepted", "done")))
    return list(db.session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc())))


def provider_orders(user: StaffUser, open_only: bool = True) -> list[Order]:
    """Orders a provider's member may work: assigned to their provider, or open to it."""
    from app.models.service import catalog_item_providers
    from app.services.providers import providers_of

    ids = [p.id for p in providers_of(user)]
    if not ids:
        raise PermissionDenied("您的账号没有关联服务单位。")
    offered = select(catalog_item_providers.c.item_id).where(catalog_item_providers.c.provider_id.in_(ids))
    query = select(Order).where(or_(Order.provider_id.in_(ids),
                                    Order.provider_id.is_(None) & Order.item_id.in_(offered)))
    if open_only:
        query = query.where(Order.status.in_(("ordered", "reschedule", "accepted")))
    return list(db.session.scalars(query.order_by(Order.scheduled_at, Order.id)))
