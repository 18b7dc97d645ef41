"""Linking a staff account to the WeChat user who sends its one-time link code, so work reaches them in chat."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update

from app import clock, privacy
from app.extensions import db, kv
from app.models import StaffLinkCode, StaffUser
from app.services import audit
from app.services.errors import DomainError

LINK_CODE_MINUTES = 15
TRIES_PER_HOUR = 5


def _hash(code: str) -> str:
    return privacy.keyed_hash("staff-link|" + code.strip())


def create_link_code(user: StaffUser) -> str:
    """A 6-digit code valid for 15 minutes, shown once in the dashboard; earlier unused codes stop working."""
    db.session.execute(update(StaffLinkCode).where(StaffLinkCode.user_id == user.id,
                                                   StaffLinkCode.used_at.is_(None))
                       .values(expires_at=clock.now()))
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if db.session.scalar(select(StaffLinkCode.id).where(StaffLinkCode.code_hash == _hash(code))) is None:
            break
    db.session.add(StaffLinkCode(user_id=user.id, code_hash=_hash(code),
                                 expires_at=clock.now() + timedelta(minutes=LINK_CODE_MINUTES)))
    audit.record("staff", user.id, "create_link_code", "staff_user", user.id)
    db.session.commit()
    return code


def link_staff(openid: str, code: str) -> StaffUser:
    """Link the sender's openid to the staff account whose code this is (once, within 15 minutes)."""
    if kv().hit_limit(f"staff-link:{openid}", TRIES_PER_HOUR, 3600):
        raise DomainError("尝试次数太多了，请一小时后再试。")
    now = clock.now()
    found = db.session.scalar(select(StaffLinkCode).where(StaffLinkCode.code_hash == _hash(code)))
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise DomainError("工作账号关联码不对或已过期，请在后台重新生成。")
    holder = db.session.scalar(select(StaffUser).where(StaffUser.openid == openid))
    if holder is not None and holder.id != found.user_id:
        raise DomainError(f"这个微信已经关联了工作账号“{holder.display_name or holder.username}”。")
    claimed = db.session.execute(update(StaffLinkCode).where(StaffLinkCode.id == found.id,
                                                             StaffLinkCode.used_at.is_(None))
                                 .values(used_at=now))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise DomainError("工作账号关联码已经用过了，请在后台重新生成。")
    user = db.session.get(StaffUser, found.user_id)
    user.openid = openid
    audit.record("staff", user.id, "link_wechat", "staff_user", user.id)
    db.session.commit()
    return user


def unlink_staff(user: StaffUser) -> None:
    """Stop sending this staff member's work to WeChat."""
    user.openid = None
    audit.record("staff", user.id, "unlink_wechat", "staff_user", user.id)
    db.session.commit()


def staff_for_openid(openid: str) -> StaffUser | None:
    """The active staff account linked to this WeChat user, if any."""
    return db.session.scalar(select(StaffUser).where(StaffUser.openid == openid, StaffUser.active.is_(True)))
