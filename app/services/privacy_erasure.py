"""Erasure (注销): remove a resident's WeChat-side data everywhere in one transaction; the register stays.

What goes: the openid (in every table, every key and every cached value), bindings, binding requests, consent, the
staff link, messages not yet sent, open service orders, and every word the resident wrote, which becomes MARKER.
What stays: the register (the owner's name and phone are the community's record, kept under its own duty) and the
rows that make the community's ledger add up: tickets, orders, payments, bills and ballots, detached from the
account, so counts, ratings, collection figures and vote results do not change.
"""

from __future__ import annotations

import logging

from sqlalchemy import JSON, String, Text, and_, cast, delete, or_, select, update

from app.extensions import db, kv
from app.models import (Ballot, BindingCode, BindingRequest, Consent, Order, OrderEvent, OutboxMessage, PlanComment,
                        ResidentAccount, RoomBinding, StaffUser, Ticket, TicketEvent, TicketFollower)
from app.models.service import OPEN_STATUSES as OPEN_ORDER_STATUSES
from app.services import audit, orders
from app.services.errors import NotFound
from app.wechat.dedupe import LATE

log = logging.getLogger(__name__)

MARKER = "（居民已注销，内容已删除）"
# A copy of the resident's words elsewhere (a head's notice quotes a report's first 40 characters) is found by
# its prefix; shorter prefixes than this would match ordinary phrases.
MIN_QUOTE = 8
NOT_SENT = "居民已注销，未发送"


def erase_account(openid: str) -> dict:
    """Erase a resident's account: all of it in one transaction or nothing; then the key-value store. Counts."""
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if account is None:
        raise NotFound("我们还没有保存您的任何信息。")
    try:
        counts = _erase_rows(account, openid)
        db.session.commit()
    except Exception:
        db.session.rollback()  # nothing half-erased: every step above was in this one transaction
        raise
    forget_in_store(openid)
    return counts


def _erase_rows(account: ResidentAccount, openid: str) -> dict:
    pseudonym = f"erased-{account.id}"  # not derived from the openid: nothing links the husk back to it
    reported = list(db.session.scalars(select(Ticket.id).where(Ticket.reporter_id == account.id)))
    followed = list(db.session.scalars(select(TicketFollower.ticket_id).where(TicketFollower.account_id == account.id)))
    own_orders = list(db.session.scalars(select(Order).where(Order.account_id == account.id)))
    counts = {"orders_cancelled": sum(orders.withdraw(o, "account_erased") for o in own_orders
                                      if o.status in OPEN_ORDER_STATUSES)}
    words = _words_of(account, own_orders)  # read before they are blanked: their copies are found by them
    counts["tickets"] = _blank_tickets(account, reported)
    _blank_orders(account, own_orders)
    db.session.execute(update(PlanComment).where(PlanComment.account_id == account.id)
                       .values(text=MARKER, account_id=None))
    # The ballot still counts for its room and owner on the register; only the WeChat account is detached.
    db.session.execute(update(Ballot).where(Ballot.account_id == account.id).values(account_id=None))
    counts["messages_cancelled"] = _cancel_messages(openid)
    _strip_copies(words, reported + followed, [o.id for o in own_orders])
    _unlink(account, openid)
    db.session.flush()
    counts["openid_rows"] = replace_everywhere(openid, pseudonym)
    db.session.expire_all()
    account = db.session.get(ResidentAccount, account.id)
    account.openid, account.subscribed, account.person_id = pseudonym, False, None
    account.subscribed_at = account.unsubscribed_at = account.last_message_at = None
    audit.record("resident", account.id, "erase_account", "resident_account", account.id, **counts)
    return counts


def _words_of(account: ResidentAccount, own_orders: list[Order]) -> list[str]:
    """Everything the resident wrote, longest first."""
    texts = list(db.session.scalars(select(Ticket.description).where(Ticket.reporter_id == account.id)))
    texts += db.session.scalars(select(Ticket.rating_comment).where(Ticket.reporter_id == account.id))
    texts += db.session.scalars(select(TicketEvent.note).where(TicketEvent.actor_type == "resident",
                                                               TicketEvent.actor_id == account.id))
    texts += db.session.scalars(select(TicketFollower.note).where(TicketFollower.account_id == account.id))
    texts += db.session.scalars(select(PlanComment.text).where(PlanComment.account_id == account.id))
    texts += [text for order in own_orders for text in (order.note, order.comment)]
    return sorted({t.strip() for t in texts if t and t.strip() and t != MARKER}, key=len, reverse=True)


def _blank_tickets(account: ResidentAccount, reported: list[int]) -> int:
    for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(reported))):
        ticket.description, ticket.reporter_id = MARKER, None
        if ticket.rating_comment:
            ticket.rating_comment = MARKER
    for event in db.session.scalars(select(TicketEvent).where(TicketEvent.actor_type == "resident",
                                                              TicketEvent.actor_id == account.id)):
        event.actor_id = None
        if event.note:
            event.note = MARKER
    # The follower link is the account's own; the ticket and its neighbours' links stay.
    db.session.execute(delete(TicketFollower).where(TicketFollower.account_id == account.id))
    return len(reported)


def _blank_orders(account: ResidentAccount, own_orders: list[Order]) -> None:
    for order in own_orders:
        order.note = MARKER if order.note else ""
        order.comment = MARKER if order.comment else ""
        order.photo_media_id = None
    db.session.execute(update(OrderEvent).where(OrderEvent.actor_type == "resident",
                                                OrderEvent.actor_id == str(account.id)).values(actor_id=""))


def _cancel_messages(openid: str) -> int:
    """Messages not sent yet are cancelled; what was said to them (sent or not) is no longer kept."""
    cancelled = db.session.execute(update(OutboxMessage).where(
        OutboxMessage.openid == openid, OutboxMessage.status != "sent").values(
        status="cancelled", last_error=NOT_SENT, claimed_at=None, claimed_by=None)).rowcount
    db.session.execute(update(OutboxMessage).where(OutboxMessage.openid == openid).values(payload={"text": MARKER}))
    return cancelled


def _strip_copies(words: list[str], ticket_ids: list[int], order_ids: list[int]) -> None:
    """Where Linli quoted the resident to others (heads, handlers, providers, the ticket's timeline): unquote."""
    if not words:
        return
    event_ids = list(db.session.scalars(select(OrderEvent.id).where(OrderEvent.order_id.in_(order_ids))))
    keys = [f"ticket:{i}:%" for i in ticket_ids] + [f"svc-event:{i}:%" for i in event_ids]
    for start in range(0, len(keys), 200):
        batch = or_(*(OutboxMessage.idempotency_key.like(k) for k in keys[start:start + 200]))
        for message in db.session.scalars(select(OutboxMessage).where(batch)):
            message.payload = map_strings(message.payload, lambda s: unquote(s, words))
    for event in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids))):
        event.note = unquote(event.note or "", words)
    for event in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id.in_(order_ids))):
        event.detail = map_strings(event.detail, lambda s: unquote(s, words))


def _unlink(account: ResidentAccount, openid: str) -> None:
    """Bindings, binding requests and consent go; a used code no longer says who used it; the staff link goes."""
    for model in (RoomBinding, BindingRequest, Consent):
        db.session.execute(delete(model).where(model.account_id == account.id))
    db.session.execute(update(BindingCode).where(BindingCode.used_by_account_id == account.id)
                       .values(used_by_account_id=None))
    for user in db.session.scalars(select(StaffUser).where(StaffUser.openid == openid)):
        user.openid = None
        audit.record("resident", account.id, "unlink_staff_on_erase", "staff_user", user.id)


def unquote(value: str, words: list[str]) -> str:
    """`value` with every quote of `words` (or of a long enough beginning of one) replaced by MARKER."""
    for text in words:
        for size in range(len(text), min(len(text), MIN_QUOTE) - 1, -1):
            if text[:size] in value:
                value = value.replace(text[:size], MARKER)
                break
    return value


def map_strings(value, change):
    """A JSON value with `change` applied to every string in it (keys included)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {change(k) if isinstance(k, str) else k: map_strings(v, change) for k, v in value.items()}
    return value


def text_columns(table) -> list:
    """The columns of a table that can hold an openid: strings, texts and JSON."""
    return [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]


def matching(column, needle: str):
    """`column` contains `needle` (JSON compared as its text), LIKE wildcards in the needle escaped."""
    target = cast(column, Text) if isinstance(column.type, JSON) else column
    return target.contains(needle, autoescape=True)


def replace_everywhere(openid: str, pseudonym: str) -> int:
    """The safety net: the openid in any text or JSON column of any table (client keys, idempotency keys, audit
    details, payloads) becomes the pseudonym. A scan of one statement per table; erasure is rare."""
    changed = 0
    for table in db.metadata.sorted_tables:
        columns, keys = text_columns(table), list(table.primary_key.columns)
        if not columns or not keys:
            continue
        rows = db.session.execute(select(*keys, *columns).where(or_(*(matching(c, openid) for c in columns))))
        for row in rows.mappings().all():
            values = {c.name: map_strings(row[c.name], lambda s: s.replace(openid, pseudonym)) for c in columns
                      if row[c.name] is not None and openid in str(row[c.name])}
            db.session.execute(update(table).where(and_(*(k == row[k.name] for k in keys))).values(**values))
            changed += 1
    return changed


def forget_in_store(openid: str) -> None:
    """Drop every key naming the openid (conversation, flags, rate limits, photo holds, event dedupe) and every
    cached reply addressed to it; held locks are left to their holders, who release them within seconds."""
    store = kv()
    try:
        for key, value in list(store.items()):
            if openid in key and not key.startswith("lock:"):
                store.delete(key)
            elif value and openid in value and key.startswith("wx:dedupe:"):
                # A retry of that message still must not run twice: it keeps a mark without the reply.
                left = store.ttl(key)
                if left:
                    store.set_json(key, {"state": LATE}, ttl=left)
            elif value and openid in value and not key.startswith("lock:"):
                store.delete(key)
    except Exception:  # the database is already erased; what is left here expires on its own
        log.warning("erasure: key-value store not fully cleaned", exc_info=True)
