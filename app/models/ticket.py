"""The complaint ledger (投诉台账): tickets for reports and complaints, their events, photos and deadlines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

TYPES = {"report": "报修", "complaint": "投诉"}
PREFIXES = {"report": "BX", "complaint": "TS"}
# Category codes shared with the understanding contract (issue 4).
CATEGORIES = {
    "lighting": "照明", "water": "给排水", "electric": "电路", "elevator": "电梯", "sanitation": "环境卫生",
    "greening": "绿化", "security": "门禁安防", "parking": "停车", "fire": "消防", "structure": "房屋设施",
    "noise": "噪音", "other": "其他",
}
STATUSES = {"new": "新建", "accepted": "已受理", "in_progress": "处理中", "done": "已办结", "closed": "已评价",
            "returned": "退回", "reopened": "重开", "merged": "已合并"}
# Statuses in which the clock runs: a deadline miss in one of these is overdue.
OPEN_STATUSES = ("new", "accepted", "in_progress", "returned", "reopened")
RATINGS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
SPOTS = ("单元门口", "楼道", "楼顶", "地下室", "小区道路", "绿地", "停车场", "其他公共区域")
LEVELS = {0: "未升级", 1: "已提醒处理人", 2: "已报楼栋长和社区", 3: "已报街道办"}
# Hours to resolve, per category; an estate may override any of them (TicketDeadline).
DEFAULT_HOURS = {"lighting": 72, "water": 24, "electric": 24, "elevator": 24, "sanitation": 48, "greening": 168,
                 "security": 48, "parking": 72, "fire": 12, "structure": 168, "noise": 48, "other": 72}
URGENT_HOURS = 12  # an urgent item never gets longer than this


class Ticket(db.Model):
    """One report or complaint: a readable number, where, what, who handles it, by when, and how it ended."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_deadline", "status", "deadline"),
        Index("ix_tickets_building_category_created", "building_id", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")
    category: Mapped[str] = mapped_column(String(16), default="other")
    description: Mapped[str] = mapped_column(Text, default="")
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    spot: Mapped[str] = mapped_column(String(40), default="")  # a shared spot such as 楼顶
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # The resident who reported it: shown to staff, never to other residents.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="new")
    deadline: Mapped[datetime] = mapped_column(AwareDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(12))
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    # Set when it was merged into another ticket (a cluster turned into one incident).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    is_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    # Idempotency: a retried message or a double-submitted form carries the same key.
    client_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="h5")  # h5 / chat / staff
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    accepted_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    done_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)

    estate: Mapped["Estate"] = relationship()  # noqa: F821
    building: Mapped["Building | None"] = relationship()  # noqa: F821
    unit: Mapped["Unit | None"] = relationship()  # noqa: F821
    room: Mapped["Room | None"] = relationship()  # noqa: F821
    reporter: Mapped["ResidentAccount | None"] = relationship()  # noqa: F821
    handler: Mapped["StaffUser | None"] = relationship()  # noqa: F821
    events: Mapped[list["TicketEvent"]] = relationship(back_populates="ticket", order_by="TicketEvent.id",
                                                       cascade="all, delete-orphan")
    photos: Mapped[list["TicketPhoto"]] = relationship(back_populates="ticket", order_by="TicketPhoto.id",
                                                       cascade="all, delete-orphan")
    followers: Mapped[list["TicketFollower"]] = relationship(back_populates="ticket", cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return TYPES.get(self.kind, self.kind)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def rating_label(self) -> str:
        return RATINGS.get(self.rating or "", "")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue(self, now: datetime | None = None) -> bool:
        """Whether the deadline passed while the ticket was still open."""
        return self.is_open and self.deadline <= (now or clock.now())

    @property
    def where(self) -> str:
        """'3号楼2单元 楼顶' — the place in words (no room number of someone else's home is ever shown to residents)."""
        parts = []
        if self.building is not None:
            parts.append(self.building.name + (self.unit.name if self.unit is not None and self.unit.number else ""))
        if self.room is not None:
            parts.append(f"{self.room.number}室")
        if self.spot:
            parts.append(self.spot)
        return " ".join(parts) or self.estate.name


class TicketEvent(db.Model):
    """One step of a ticket's life: who, when, what changed, and a note; escalations carry a unique key."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(12), default="")
    to_status: Mapped[str] = mapped_column(String(12), default="")
    actor_type: Mapped[str] = mapped_column(String(10), default="system")  # resident / staff / system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[int | None] = mapped_column(Integer)
    # Makes an escalation step happen once per ticket, cycle and level, whoever runs the job.
    key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    photos: Mapped[list["TicketPhoto"]] = relationship(back_populates="event")


class TicketPhoto(db.Model):
    """A photo of a ticket: a WeChat media id (from chat) or a file saved from an H5/dashboard upload."""

    __tablename__ = "ticket_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"), index=True)
    media_id: Mapped[str | None] = mapped_column(String(128))
    path: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    ticket: Mapped[Ticket] = relationship(back_populates="photos")
    event: Mapped[TicketEvent | None] = relationship(back_populates="photos")


class TicketFollower(db.Model):
    """A neighbour who reported the same problem: linked to the ticket, told of its progress."""

    __tablename__ = "ticket_followers"
    __table_args__ = (UniqueConstraint("ticket_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    ticket: Mapped[Ticket] = relationship(back_populates="followers")
    account: Mapped["ResidentAccount"] = relationship()  # noqa: F821


class TicketDeadline(db.Model):
    """An estate's own time limit (hours) for one category, overriding DEFAULT_HOURS."""

    __tablename__ = "ticket_deadlines"
    __table_args__ = (UniqueConstraint("estate_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    hours: Mapped[int] = mapped_column(Integer)
