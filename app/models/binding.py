"""How a WeChat user proves who they are: one-time room codes, approval requests, consent, staff link codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

CODE_STATUSES = {"active": "有效", "used": "已使用", "revoked": "已作废"}
REQUEST_STATUSES = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回"}
REQUEST_METHODS = {"form": "填写姓名和手机号", "code": "凭绑定码"}


class BindingCode(db.Model):
    """A one-time code printed for one room; only its keyed hash is stored."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    issued_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime)
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("resident_accounts.id"))

    room: Mapped["Room"] = relationship()  # noqa: F821


class BindingRequest(db.Model):
    """A resident asks to be bound to a room; staff or that building's head compare it with the register."""

    __tablename__ = "binding_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10))
    claimed_name: Mapped[str] = mapped_column(String(80))
    phone_last4: Mapped[str] = mapped_column(String(4))
    # "form": name and phone typed by the resident; "code": a valid code for a room the account may not take
    # directly (another owner's room, or more rooms than a household holds), so staff decide.
    method: Mapped[str] = mapped_column(String(10), default="form", server_default="form")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")

    account: Mapped["ResidentAccount"] = relationship()  # noqa: F821
    room: Mapped["Room"] = relationship()  # noqa: F821


class Consent(db.Model):
    """A resident accepted a version of the processing notice (PIPL Art. 14/17) at a moment."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("account_id", "notice_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    notice_version: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    channel: Mapped[str] = mapped_column(String(10), default="chat")


class StaffLinkCode(db.Model):
    """A short-lived code from the dashboard that links a staff account to the WeChat user who sends it."""

    __tablename__ = "staff_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime)
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
