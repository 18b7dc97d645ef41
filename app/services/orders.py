"""Service orders: place (idempotent), accept/decline/propose/complete with atomic status changes, confirm, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models import CatalogItem, Order, OrderEvent, Room, StaffUser
from app.models.service import OPEN_STATUSES
from app.services import catalogue, outbox
from app.services.binding import account_for
from app.services.errors import DomainError
# Re-exported: callers read orders through this module (orders.when_text, orders.resident_order …).
from app.services.order_queries import (address, bound_room_ids, order_by_number, order_url,  # noqa: F401
                                        provider_for, provider_orders, resident_order, resident_orders,
                                        when_text, work_url)

NOTE_MAX = 300
AUTO_CONFIRM_AFTER = timedelta(days=3)


def check_time(item: CatalogItem, moment: datetime | None) -> datetime:
    """The booking time in Shanghai time, or a clear refusal: missing, past, beyond 30 days, outside hours."""
    if moment is None:
        raise DomainError("请选择上门时间。")
    moment = clock.localize(moment)
    if moment <= clock.now():
        raise DomainError("这个时间已经过去了，请选一个以后的时间。")
    if moment > clock.now() + timedelta(days=30):
        raise DomainError("只能预约30天以内的时间。")
    if not catalogue.within_hours(item, moment):
        raise DomainError(f"{item.name}的服务时间是每天 {item.opens}-{item.closes}，请在这个时间段内选择。")
    return moment


def place_order(openid: str, item_id: int, scheduled_at: datetime | None, *, client_key: str,
                room_id: int | None = None, note: str = "", photo_media_id: str | None = None) -> tuple[Order, bool]:
    """Book an item; returns (order, created). The same client_key again returns the first order, never a second."""
    client_key = (client_key or "").strip()[:80]
    if not client_key:
        raise DomainError("页面已过期，请刷新后重新提交。")
    account = account_for(openid)
    existing = _by_key(account.id, client_key)
    if existing is not None:
        return existing, False
    item = db.session.get(CatalogItem, item_id)
    if item is None or not item.active:
        raise DomainError("这项服务已暂停，请选择其他服务。")
    rooms = bound_room_ids(account)
    if not rooms:
        raise DomainError("请先绑定房屋再预约上门服务。发送“绑定”开始。")
    room_id = room_id or rooms[0]
    if room_id not in rooms:
        raise DomainError("只能为您已绑定的房屋预约。")
    room = db.session.get(Room, room_id)
    if item not in catalogue.items_for_estate(room.estate):
        raise DomainError("这项服务不在您小区的服务目录里。")
    moment = check_time(item, scheduled_at)
    busy = catalogue._taken(item, moment - timedelta(seconds=1), 1).get(moment, 0)
    if busy >= max(1, len(item.providers)):
        raise DomainError("这个时间已经约满了，请换一个时间。")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"备注请不要超过{NOTE_MAX}字。")
    for _attempt in range(5):
        order = Order(number=_next_number(), client_key=client_key, account_id=account.id, openid=openid,
                      item_id=item.id, item_code=item.code, item_name=item.name, item_unit=item.unit,
                      price_fen=item.price_fen, market_price_fen=item.market_price_fen, estate_id=room.estate_id,
                      room_id=room.id, scheduled_at=moment, note=note, photo_media_id=photo_media_id,
                      status="ordered", provider_id=item.providers[0].id if len(item.providers) == 1 else None)
        try:
            with db.session.begin_nested():
                db.session.add(order)
                db.session.flush()
        except IntegrityError:
            # Either the same form arrived twice at once (return the first) or two orders took one number.
            existing = _by_key(account.id, client_key)
            if existing is not None:
                db.session.commit()
                return existing, False
            continue
        break
    else:
        raise DomainError("系统繁忙，请稍后再试。")
    event = _event(order, "resident", account.id, "place", "", "ordered")
    _notify_providers(order, event, f"新订单 {order.number}：{order.item_name}，{address(order)}，"
                      f"{when_text(order.scheduled_at)}。{_note_line(order)}回复“接 {order.number}”接单，"
                      f"“拒 {order.number}”不接，或打开：{work_url(order)}")
    _tell_resident(order, event, f"已预约：{order.item_name} {catalogue.yuan(order.price_fen)}元/{order.item_unit}，"
                   f"{when_text(order.scheduled_at)}上门。订单号 {order.number}，师傅接单后会通知您。")
    db.session.commit()
    return order, True


def _note_line(order: Order) -> str:
    return f"备注：{order.note}。" if order.note else ""


def _by_key(account_id: int, client_key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.account_id == account_id, Order.client_key == client_key))


def _next_number() -> str:
    """FW-YYYYMMDD-NNNN, counting today's orders; a clash under concurrency is retried by the caller."""
    prefix = f"FW-{clock.now():%Y%m%d}-"
    last = db.session.scalar(select(func.max(Order.number)).where(Order.number.like(prefix + "%")))
    return f"{prefix}{(int(last.rsplit('-', 1)[1]) + 1) if last else 1:04d}"


def _event(order: Order, actor_type: str, actor_id, action: str, before: str, after: str, **detail) -> OrderEvent:
    event = OrderEvent(order_id=order.id, actor_type=actor_type, actor_id=str(actor_id or ""), action=action,
                       from_status=before, to_status=after, detail=detail, at=clock.now())
    db.session.add(event)
    db.session.flush()
    return event


def _tell_resident(order: Order, event: OrderEvent, text: str) -> None:
    outbox.enqueue(order.openid, "text", {"text": f"{text}\n详情：{order_url(order)}"}, key=f"svc-event:{event.id}:r")


def _notify_providers(order: Order, event: OrderEvent, text: str, only_assigned: bool = False) -> None:
    """Every linked member of the assigned provider (or of every provider of the item while unassigned)."""
    providers = [order.provider] if order.provider_id else ([] if only_assigned else order.item.providers)
    for provider in providers:
        for member in provider.members:
            if member.openid and member.active:
                outbox.enqueue(member.openid, "text", {"text": text}, key=f"svc-event:{event.id}:p{member.id}")


def _claim(order: Order, allowed: tuple[str, ...], values: dict, *, provider_id: int | None = None) -> bool:
    """Change the status only if it is still one of `allowed` (and the provider may take it): one winner."""
    query = update(Order).where(Order.id == order.id, Order.status.in_(allowed))
    if provider_id is not None:
        query = query.where(or_(Order.provider_id.is_(None), Order.provider_id == provider_id))
    changed = db.session.execute(query.values(**values).execution_options(synchronize_session=False)).rowcount
    if changed == 1:
        db.session.refresh(order)
    return changed == 1


def _refused(order: Order) -> DomainError:
    db.session.rollback()
    db.session.refresh(order)
    if order.status == "accepted":
        return DomainError(f"{order.number} 已经有师傅接单了。")
    if order.status == "cancelled":
        return DomainError(f"{order.number} 居民已取消。")
    return DomainError(f"{order.number} 当前状态是“{order.status_label}”，不能这样操作。")


def accept(user: StaffUser, number: str) -> Order:
    """The provider takes the order; of two simultaneous accepts exactly one wins (conditional UPDATE)."""
    order = order_by_number(number)
    provider = provider_for(user, order)
    if not _claim(order, ("ordered",), {"status": "accepted", "provider_id": provider.id, "worker_id": user.id,
                                        "accepted_at": clock.now()}, provider_id=provider.id):
        raise _refused(order)
    event = _event(order, "staff", user.id, "accept", "ordered", "accepted", provider_id=provider.id)
    phone = f"，电话 {provider.public_phone}" if provider.public_phone else ""
    _tell_resident(order, event, f"{provider.name}已接单（{order.number}），{when_text(order.scheduled_at)}"
                   f"上门{phone}。")
    db.session.commit()
    return order


def decline(user: StaffUser, number: str, reason: str = "") -> Order:
    """The provider cannot take it; when every provider of the item has declined, the resident is told."""
    order = order_by_number(number)
    provider = provider_for(user, order)
    if order.status not in ("ordered",):
        raise _refused(order)
    _event(order, "staff", user.id, "decline", order.status, order.status, provider_id=provider.id,
           reason=reason[:200])
    declined = {e.detail.get("provider_id") for e in db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "decline"))}
    everyone = {p.id for p in order.item.providers} if order.provider_id is None else {order.provider_id}
    if everyone <= declined and _claim(order, ("ordered",), {"status": "declined", "closed_at": clock.now()}):
        event = _event(order, "system", "", "all_declined", "ordered", "declined")
        _tell_resident(order, event, f"抱歉，{order.item_name}（{order.number}）这个时间暂时没有师傅能上门，"
                       "订单已关闭，没有收费。可以换个时间重新预约。")
    db.session.commit()
    return order


def propose(user: StaffUser, number: str, when: datetime | None) -> Order:
    """The provider offers another time; the resident agrees (→ accepted) or not (→ open again)."""
    order = order_by_number(number)
    provider = provider_for(user, order)
    moment = check_time(order.item, when)
    before = order.status
    if not _claim(order, ("ordered", "accepted"), {"status": "reschedule", "proposed_at": moment,
                                                    "provider_id": provider.id, "worker_id": user.id},
                  provider_id=provider.id):
        raise _refused(order)
    event = _event(order, "staff", user.id, "propose", before, "reschedule", proposed=moment.isoformat())
    _tell_resident(order, event, f"{provider.name}想把{order.item_name}（{order.number}）改到"
                   f"{when_text(moment)}，可以吗？回复“同意改时间”或“不同意改时间”。")
    db.session.commit()
    return order


def answer_proposal(openid: str, number: str, agree: bool) -> Order:
    """The resident agrees to the proposed time (the order is accepted) or keeps the old time (open again)."""
    order = resident_order(openid, number)
    if agree:
        values = {"status": "accepted", "scheduled_at": order.proposed_at, "proposed_at": None,
                  "accepted_at": clock.now()}
        text = f"居民同意改到{when_text(order.proposed_at)}：{order.number} 已确认接单。"
    else:
        values = {"status": "ordered", "proposed_at": None, "provider_id": order.item.providers[0].id
                  if len(order.item.providers) == 1 else None, "worker_id": None}
        text = f"居民希望保持原时间{when_text(order.scheduled_at)}：{order.number}，能去请回复“接 {order.number}”。"
    notify_provider = order.provider
    if not _claim(order, ("reschedule",), values):
        raise _refused(order)
    event = _event(order, "resident", order.account_id, "agree" if agree else "disagree", "reschedule", order.status)
    for member in (notify_provider.members if notify_provider else []):
        if member.openid:
            outbox.enqueue(member.openid, "text", {"text": text}, key=f"svc-event:{event.id}:p{member.id}")
    db.session.commit()
    return order


def reschedule(openid: str, number: str, when: datetime | None) -> Order:
    """The resident moves the time; an accepted order goes back to its provider to accept again."""
    order = resident_order(openid, number)
    moment = check_time(order.item, when)
    before = order.status
    if not _claim(order, ("ordered", "accepted"), {"status": "ordered", "scheduled_at": moment,
                                                    "accepted_at": None}):
        raise _refused(order)
    event = _event(order, "resident", order.account_id, "reschedule", before, "ordered", to=moment.isoformat())
    _notify_providers(order, event, f"{order.number} 居民把时间改到{when_text(moment)}（{address(order)}，"
                      f"{order.item_name}）。能去请回复“接 {order.number}”。")
    _tell_resident(order, event, f"已改时间：{order.item_name}（{order.number}）{when_text(moment)}，"
                   "等师傅确认。")
    db.session.commit()
    return order


def cancel(openid: str, number: str) -> Order:
    """The resident cancels before a provider accepted; afterwards they must talk to the provider."""
    order = resident_order(openid, number)
    before = order.status
    if not _claim(order, ("ordered", "reschedule"), {"status": "cancelled", "closed_at": clock.now()}):
        db.session.rollback()
        db.session.refresh(order)
        if order.status == "accepted":
            phone = f"（电话 {order.provider.public_phone}）" if order.provider.public_phone else ""
            raise DomainError(f"师傅已经接单，不能在线取消了，请联系{order.provider.name}{phone}。")
        raise DomainError(f"{order.number} 当前状态是“{order.status_label}”，不能取消。")
    event = _event(order, "resident", order.account_id, "cancel", before, "cancelled")
    _notify_providers(order, event, f"{order.number}（{order.item_name}，{when_text(order.scheduled_at)}）"
                      "居民已取消，不用上门了。")
    _tell_resident(order, event, f"已取消 {order.number}，没有收费。")
    db.session.commit()
    return order


def withdraw(order: Order, reason: str) -> bool:
    """Cancel an open order for a reason outside the resident's choice (their account was erased); the providers
    are told. The caller commits; False when the order was no longer open."""
    before = order.status
    if not _claim(order, OPEN_STATUSES, {"status": "cancelled", "closed_at": clock.now()}):
        return False
    event = _event(order, "system", "", "cancel", before, "cancelled", reason=reason)
    _notify_providers(order, event, f"{order.number}（{order.item_name}，{when_text(order.scheduled_at)}）"
                      "居民已注销账号，订单已取消，不用上门了。")
    return True


def complete(user: StaffUser, number: str) -> Order:
    """The provider finished the job; the resident is asked to confirm and rate."""
    order = order_by_number(number)
    provider = provider_for(user, order, assigned_only=True)
    if not _claim(order, ("accepted",), {"status": "done", "done_at": clock.now()}, provider_id=provider.id):
        raise _refused(order)
    event = _event(order, "staff", user.id, "complete", "accepted", "done")
    _tell_resident(order, event, f"{order.item_name}（{order.number}）师傅已完工。满意吗？回复“评价 5”"
                   "（1-5分，5分最满意），也可以写几句意见。")
    db.session.commit()
    return order


def confirm(openid: str, number: str, rating: int | None, comment: str = "", complaint: bool = False) -> Order:
    """The resident confirms the work and rates it 1-5; 1-2 points or a complaint count against the provider."""
    order = resident_order(openid, number)
    if rating not in (1, 2, 3, 4, 5):
        raise DomainError("请打 1 到 5 分（5分最满意）。")
    comment = (comment or "").strip()[:300]
    if not _claim(order, ("done",), {"status": "confirmed", "rating": rating, "comment": comment,
                                     "complaint": bool(complaint or rating <= 2), "closed_at": clock.now()}):
        raise _refused(order)
    event = _event(order, "resident", order.account_id, "rate", "done", "confirmed", rating=rating)
    _notify_providers(order, event, f"{order.number} 居民评价：{rating}分。{comment}", only_assigned=True)
    db.session.commit()
    return order


def auto_confirm(now: datetime | None = None) -> int:
    """Done orders the resident never confirmed are closed after three days, unrated (idempotent)."""
    cutoff = (now or clock.now()) - AUTO_CONFIRM_AFTER
    count = 0
    for order in db.session.scalars(select(Order).where(Order.status == "done", Order.done_at <= cutoff)):
        if _claim(order, ("done",), {"status": "confirmed", "closed_at": clock.now()}):
            _event(order, "system", "", "auto_confirm", "done", "confirmed")
            count += 1
    db.session.commit()
    return count


