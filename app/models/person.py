"""People on the register, their ownership of rooms, and the WeChat accounts bound to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock, privacy
from app.extensions import db
from app.models.types import AwareDateTime

RELATIONS = {"owner": "业主", "family": "家属", "tenant": "租户"}
BINDING_STATUSES = {"pending": "待审核", "bound": "已绑定", "rejected": "已驳回", "unbound": "已解绑"}


class Person(db.Model):
    """A natural or legal person on the register; the phone is stored encrypted only."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    # Keyed hash of the phone number, so a number can be looked up without decrypting every row.
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Keyed hash of 身份标识 (or of name+phone when the register has none): the same owner across rooms.
    identity_key: Mapped[str] = mapped_column(String(64), unique=True)
    is_developer: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    erased_at: Mapped[datetime | None] = mapped_column(AwareDateTime)

    ownerships: Mapped[list["Ownership"]] = relationship(back_populates="person")

    @property
    def phone(self) -> str | None:
        """The decrypted phone number: only for roles that need it, and audit-logged by the caller."""
        return privacy.decrypt(self.phone_encrypted) if self.phone_encrypted else None

    def set_phone(self, phone: str | None) -> None:
        """Store a normalised phone number encrypted, with its lookup hash."""
        if phone:
            self.phone_encrypted = privacy.encrypt(phone)
            self.phone_hash = privacy.keyed_hash(phone)
        else:
            self.phone_encrypted = None
            self.phone_hash = None

    @property
    def masked_phone(self) -> str:
        return privacy.mask_phone(self.phone)


class Ownership(db.Model):
    """A person owns a room; co-owners share a room and one of them is its designated voter."""

    __tablename__ = "ownerships"
    __table_args__ = (UniqueConstraint("room_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    is_designated_voter: Mapped[bool] = mapped_column(Boolean, default=True)
    developer_held: Mapped[bool] = mapped_column(Boolean, default=False)

    room: Mapped["Room"] = relationship(back_populates="ownerships")  # noqa: F821
    person: Mapped[Person] = relationship(back_populates="ownerships")


class ResidentAccount(db.Model):
    """A WeChat user of the official account; kept apart from the Person it may be bound to."""

    __tablename__ = "resident_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    subscribed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    person: Mapped[Person | None] = relationship()
    bindings: Mapped[list["RoomBinding"]] = relationship(back_populates="account")

    def active_bindings(self) -> list["RoomBinding"]:
        return [b for b in self.bindings if b.status == "bound"]


class RoomBinding(db.Model):
    """A WeChat account bound to a room as owner, family member or tenant; several per account and per room."""

    __tablename__ = "room_bindings"
    __table_args__ = (UniqueConstraint("account_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10), default="owner")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    method: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime)

    account: Mapped[ResidentAccount] = relationship(back_populates="bindings")
    room: Mapped["Room"] = relationship()  # noqa: F821
