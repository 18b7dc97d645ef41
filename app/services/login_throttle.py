"""Staff login throttling: growing delays per (username, source) and per source, never a lock on the account.

A stranger who types wrong passwords for someone else's username slows down only their own address; the owner
logging in from anywhere else is not affected. Counters live in the shared key-value store, so every web process
sees the same counts. Many failures on one account alert the street admin, at most once per window.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import and_, or_, select

from app import clock
from app.extensions import db, kv
from app.kv import LockTimeout
from app.models import Building, Community, Estate, RoleGrant, StaffUser, Unit
from app.services import audit
from app.services.errors import DomainError

FREE_TRIES_PER_SOURCE = 5  # failures on one username from one address before delays start
FREE_TRIES_PER_ADDRESS = 20  # failures across all usernames from one address (password spraying)
MAX_DELAY = 900  # seconds: the doubling stops at 15 minutes
SOURCE_WINDOW = 24 * 3600  # a (username, address) count is kept a day after its first failure
ADDRESS_WINDOW = 3600
ALERT_AFTER = 10  # failures on one username, from any address, within ALERT_WINDOW
ALERT_WINDOW = 3600


class LoginThrottled(DomainError):
    """This address must wait before trying again; `retry_after` in whole seconds."""

    def __init__(self, retry_after: int, message: str = ""):
        self.retry_after = max(1, retry_after)
        if self.retry_after >= 60:
            wait = f"{math.ceil(self.retry_after / 60)}分钟"
        else:
            wait = f"{self.retry_after}秒"
        super().__init__(message or f"密码错误次数太多，请{wait}后再试。")


def _keys(username: str, address: str) -> tuple[tuple[str, int, int], ...]:
    # (key, free tries, window): the pair first, then the address across usernames.
    return ((f"login:{username}|{address}", FREE_TRIES_PER_SOURCE, SOURCE_WINDOW),
            (f"login-addr:{address}", FREE_TRIES_PER_ADDRESS, ADDRESS_WINDOW))


@contextmanager
def attempt(username: str, address: str) -> Iterator[None]:
    """Hold the address's turn while one login is checked; LoginThrottled when it must wait.

    Attempts from one address are taken one at a time, so a burst sent the moment a delay ends is checked one by
    one (each failure sets the next delay) instead of all getting through together.
    """
    _refuse_while_waiting(username, address)  # before queueing: a flood must not hold workers on the lock
    try:
        with kv().lock(f"login-turn:{address}", timeout=15, wait=2):
            _refuse_while_waiting(username, address)
            yield
    except LockTimeout:
        raise LoginThrottled(5, "同一网络同时登录的人太多，请稍等几秒再试。") from None


def _refuse_while_waiting(username: str, address: str) -> None:
    store, now = kv(), clock.now().timestamp()
    left = max(float(store.get(f"{key}:until") or 0) - now for key, _, _ in _keys(username, address))
    if left > 0:
        raise LoginThrottled(math.ceil(left))


def record_failure(username: str, address: str, user: StaffUser | None) -> None:
    """Count a failed login from `address` and set its next delay; alert the street admin on many failures."""
    store = kv()
    now = clock.now().timestamp()
    for key, free, window in _keys(username, address):
        failures = store.incr(f"{key}:failures", window)
        if failures >= free:
            delay = min(2 ** (failures - free + 1), MAX_DELAY)
            # The deadline is kept in clock time (tests move the clock); the TTL only tidies the key away.
            store.set(f"{key}:until", str(now + delay), ttl=delay + 60)
    if user is not None and store.incr(f"login-user:{user.id}:failures", ALERT_WINDOW) >= ALERT_AFTER \
            and store.set(f"login-user:{user.id}:alerted", "1", ttl=ALERT_WINDOW, nx=True):
        _alert(user, address)


def record_success(username: str, address: str) -> None:
    """The right password from this address: its own count on this username starts again.

    The address's count across usernames is kept: one valid account must not reset a sprayer's budget.
    """
    store = kv()
    key = _keys(username, address)[0][0]
    store.delete(f"{key}:failures")
    store.delete(f"{key}:until")


def _alert(user: StaffUser, address: str) -> None:
    """Tell the street admins over the user's scope (by WeChat) and write it to the audit log; commits."""
    from app.services import outbox

    text = (f"【安全提醒】工作账号“{user.username}”（{user.display_name or user.username}）"
            f"在1小时内密码错误已达{ALERT_AFTER}次，最近一次来自 {address or '未知地址'}。"
            "账号没有被锁定，本人仍可正常登录；如不是本人操作，请提醒他换一个更难猜的密码。")
    bucket = int(clock.now().timestamp() // ALERT_WINDOW)
    admins = _street_admins(user)
    for admin in admins:
        if admin.openid:
            outbox.enqueue(admin.openid, "text", {"text": text}, key=f"login-alert:{user.id}:{bucket}:{admin.id}")
    audit.record("system", "", "login_alert", "staff_user", user.id, address=address, failures=ALERT_AFTER,
                 notified=[a.id for a in admins if a.openid])
    db.session.commit()


def _street_admins(user: StaffUser) -> list[StaffUser]:
    """Active street admins of the streets the user works in; every street admin when none is known."""
    streets = {street_id for grant in user.grants if (street_id := _street_of(grant)) is not None}
    clause = and_(RoleGrant.role == "street_admin", RoleGrant.scope_type == "street")
    if streets:
        clause = and_(clause, or_(*(RoleGrant.scope_id == s for s in streets)))
    return list(db.session.scalars(select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id)
                                   .where(StaffUser.active.is_(True), clause).distinct()))


def _street_of(grant: RoleGrant) -> int | None:
    """The street a grant's scope lies in."""
    if grant.scope_type == "street":
        return grant.scope_id
    query = {
        "community": select(Community.street_id).where(Community.id == grant.scope_id),
        "estate": select(Community.street_id).join(Estate).where(Estate.id == grant.scope_id),
        "building": select(Community.street_id).join(Estate).join(Building).where(Building.id == grant.scope_id),
        "unit": select(Community.street_id).join(Estate).join(Building).join(Unit).where(Unit.id == grant.scope_id),
    }.get(grant.scope_type)
    return None if query is None else db.session.scalar(query)
