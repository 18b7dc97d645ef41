"""Notices (公告): outages, maintenance, events and emergencies for an estate, some buildings or some units."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

KINDS = {"water": "停水", "power": "停电", "maintenance": "检修", "event": "活动", "emergency": "紧急"}


class Notice(db.Model):
    """A published notice; empty building_ids and unit_ids mean the whole estate."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    building_ids: Mapped[list] = mapped_column(JSON, default=list)
    unit_ids: Mapped[list] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(12), default="maintenance")
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now, index=True)
    valid_until: Mapped[datetime | None] = mapped_column(AwareDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The incident (a cluster of tickets) this notice announces, if any.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    recipients: Mapped[int] = mapped_column(default=0)

    estate: Mapped["Estate"] = relationship()  # noqa: F821
    created_by: Mapped["StaffUser | None"] = relationship()  # noqa: F821

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def covers(self, building_id: int | None, unit_id: int | None) -> bool:
        """Whether a resident of this building/unit is addressed (whole-estate notices cover everyone)."""
        if not self.building_ids and not self.unit_ids:
            return True
        return (building_id in (self.building_ids or [])) or (unit_id is not None and unit_id in (self.unit_ids or []))

    def current(self, now: datetime | None = None) -> bool:
        """Published and not yet past its validity."""
        now = now or clock.now()
        return self.published_at <= now and (self.valid_until is None or self.valid_until > now)
