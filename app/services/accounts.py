"""ResidentAccount upkeep from the webhook: follow state and the time of the last interaction."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db, kv
from app.models import ResidentAccount

log = logging.getLogger(__name__)
# A resident who writes again within this many seconds is not written again: the webhook's hot path stays off the
# database for bursts of messages, and last_message_at is at most this stale (WeChat's window is 48 h).
FRESH_SECONDS = 300

# Kinds that prove the resident follows us and open (or refresh) the customer-service window.
INTERACTIVE_KINDS = {"text", "voice", "image", "location", "link", "video", "subscribe", "scan", "click", "view"}


def _upsert(openid: str, update, durable: bool = True) -> ResidentAccount:
    """Apply `update` to the account row, creating it first; a concurrent insert is retried as an update."""
    for attempt in range(2):
        account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
        if account is None:
            account = ResidentAccount(openid=openid)
            db.session.add(account)
        update(account)
        if not durable and db.engine.dialect.name == "postgresql":
            # A last_message_at lost in a crash costs nothing; not waiting for the WAL flush keeps the webhook fast.
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        try:
            db.session.commit()
            return account
        except IntegrityError:
            # Two deliveries of one new user's first message raced to insert the row.
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def record_interaction(openid: str, kind: str, at: datetime) -> ResidentAccount | None:
    """Note that the resident wrote or tapped something: subscribed, last_message_at (the 48 h window)."""
    if kind not in INTERACTIVE_KINDS:
        return None
    fresh_key = f"wx:account-fresh:{openid}"
    if kind != "subscribe" and kv().flagged(fresh_key):
        return None

    def update(account: ResidentAccount) -> None:
        if kind == "subscribe" or account.subscribed is False or account.subscribed_at is None:
            account.subscribed_at = at
        account.subscribed = True
        account.last_message_at = at

    account = _upsert(openid, update, durable=kind == "subscribe")
    kv().flag(fresh_key, FRESH_SECONDS)
    return account


def mark_unsubscribed(openid: str, at: datetime) -> ResidentAccount:
    """The resident unfollowed: keep the row (bindings, history) but stop messaging them."""

    def update(account: ResidentAccount) -> None:
        account.subscribed = False
        account.unsubscribed_at = at

    log.info("resident unsubscribed openid=%s", openid)
    kv().delete(f"wx:account-fresh:{openid}")  # the next message must mark them subscribed again
    return _upsert(openid, update)
