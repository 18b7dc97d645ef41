"""ResidentAccount upkeep from the webhook: follow state and the time of the last interaction."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db, kv
from app.models import ResidentAccount

log = logging.getLogger(__name__)
# A resident who writes again within this many seconds is not written again: the webhook's hot path stays off the
# database for bursts of messages, and last_message_at is at most this stale (WeChat's window is 48 h).
FRESH_SECONDS = 300

# Kinds that prove the resident follows us and open (or refresh) the customer-service window.
INTERACTIVE_KINDS = {"text", "voice", "image", "location", "link", "video", "subscribe", "scan", "click", "view"}


def _commit_without_waiting_for_disk() -> None:
    """Let this transaction's commit return before PostgreSQL flushes its WAL (a no-op elsewhere).

    Only for upkeep: a last_message_at lost in a crash costs nothing, and not waiting keeps the webhook fast.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def _upsert(openid: str, update, durable: bool = True) -> ResidentAccount:
    """Apply `update` to the account row, creating it first; a concurrent insert is retried as an update."""
    for attempt in range(2):
        account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
        if account is None:
            account = ResidentAccount(openid=openid)
            db.session.add(account)
        update(account)
        if not durable:
            _commit_without_waiting_for_disk()
        try:
            db.session.commit()
            return account
        except IntegrityError:
            # Two deliveries of one new user's first message raced to insert the row.
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def record_interaction(openid: str, kind: str, at: datetime) -> None:
    """Note that the resident wrote or tapped something: subscribed, last_message_at (the 48 h window)."""
    if kind not in INTERACTIVE_KINDS:
        return None
    fresh_key = f"wx:account-fresh:{openid}"
    if kind != "subscribe" and kv().flagged(fresh_key):
        return None
    if kind == "subscribe" or not _touch(openid, at):

        def refresh(account: ResidentAccount) -> None:
            if kind == "subscribe" or account.subscribed is False or account.subscribed_at is None:
                account.subscribed_at = at
            account.subscribed = True
            account.last_message_at = at

        _upsert(openid, refresh, durable=kind == "subscribe")
    kv().flag(fresh_key, FRESH_SECONDS)


def _touch(openid: str, at: datetime) -> bool:
    """Refresh an existing account in one UPDATE (no load, no unit of work); False when there is no row yet.

    This runs for a resident's first message in every few minutes, which under real traffic is most messages: the
    ORM's load-modify-flush, and even an ORM-executed UPDATE built afresh, cost several times this prepared one.
    """
    _commit_without_waiting_for_disk()
    touched = db.session.connection().execute(_TOUCH, {"account_openid": openid, "seen_at": at}).rowcount
    db.session.commit()
    return touched > 0


def _touch_statement():
    account = ResidentAccount.__table__.c
    at = bindparam("seen_at", type_=account.last_message_at.type)  # typed: the column's time-zone handling applies
    # Whoever comes back after unfollowing (their row says so) follows again from now; others keep their date.
    lapsed = or_(account.subscribed.is_(False), account.subscribed_at.is_(None))
    return (update(ResidentAccount.__table__).where(account.openid == bindparam("account_openid"))
            .values(last_message_at=at, subscribed=True, subscribed_at=case((lapsed, at), else_=account.subscribed_at)))


_TOUCH = _touch_statement()  # built once: its compiled form and cache key are reused


def mark_unsubscribed(openid: str, at: datetime) -> ResidentAccount:
    """The resident unfollowed: keep the row (bindings, history) but stop messaging them."""

    def update(account: ResidentAccount) -> None:
        account.subscribed = False
        account.unsubscribed_at = at

    log.info("resident unsubscribed openid=%s", openid)
    kv().delete(f"wx:account-fresh:{openid}")  # the next message must mark them subscribed again
    return _upsert(openid, update)
