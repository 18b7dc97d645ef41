"""Owner votes on a plan: the vote, its register snapshot (roll), ballots, set-aside ballots and paper scans."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

VOTE_STATUSES = {"announced": "已公告，待开始", "open": "表决中", "closed": "已结束", "cancelled": "已取消"}
CHOICE_LABELS = {"agree": "同意", "disagree": "反对", "abstain": "弃权"}
BALLOT_CHANNELS = {"chat": "公众号对话", "h5": "网页", "paper": "纸质票"}
# Where an owner voted on paper and electronically, which one counts (the estate's rule; default electronic).
BOTH_WAYS_RULES = {"electronic": "以电子票为准", "paper": "以纸质票为准"}


class Vote(db.Model):
    """A vote on one plan version; totals are snapshotted from the register when it opens."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="announced")
    tier: Mapped[str] = mapped_column(String(10), default="ordinary")
    rule_profile: Mapped[str] = mapped_column(String(20), default="art278")
    notice_days: Mapped[int] = mapped_column(Integer, default=15)
    allow_change_until_close: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_majority: Mapped[bool] = mapped_column(Boolean, default=False)
    both_ways_rule: Mapped[str] = mapped_column(String(10), default="electronic")
    announced_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    opens_at: Mapped[datetime] = mapped_column(AwareDateTime)
    closes_at: Mapped[datetime] = mapped_column(AwareDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    # Why the opening job could not open the vote (e.g. rooms without area), for staff to fix; None when fine.
    open_problem: Mapped[str | None] = mapped_column(String(500))
    # The snapshot taken at opening: Art. 278 heads (owners) and total exclusive area.
    total_area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    total_heads: Mapped[int | None] = mapped_column(Integer)
    total_rooms: Mapped[int | None] = mapped_column(Integer)
    # The count at the close: figures only (strings for Decimals), never who chose what.
    result: Mapped[dict | None] = mapped_column(JSON)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    plan: Mapped["Plan"] = relationship()  # noqa: F821
    estate: Mapped["Estate"] = relationship()  # noqa: F821

    @property
    def status_label(self) -> str:
        return VOTE_STATUSES.get(self.status, self.status)


class VoteRoll(db.Model):
    """One room of the register snapshot: who votes for it (owner_key) and its area, frozen at opening."""

    __tablename__ = "vote_rolls"
    __table_args__ = (UniqueConstraint("vote_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    # "p<person id>" for an owner, "developer" for every developer-held room, "r<room id>" for an unknown owner.
    owner_key: Mapped[str] = mapped_column(String(40), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    developer_held: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(60), default="")


class BallotScan(db.Model):
    """The scan or photo of a paper ballot, kept with the ballot for the committee."""

    __tablename__ = "ballot_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(120))
    mimetype: Mapped[str] = mapped_column(String(60))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)


class Ballot(db.Model):
    """The counted ballot of one owner in one vote: the database allows exactly one per (vote, owner)."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("vote_id", "owner_key", name="uq_ballots_vote_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), index=True)
    owner_key: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    rooms: Mapped[list] = mapped_column(JSON, default=list)
    choice: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(6))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("resident_accounts.id"))
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_scans.id"))
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    cast_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)


class SetAsideBallot(db.Model):
    """A ballot that does not count: replaced by a change before the close, or the losing channel of an owner
    who voted both on paper and electronically. Kept for the audit trail, never deleted."""

    __tablename__ = "set_aside_ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), index=True)
    owner_key: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(6))
    cast_at: Mapped[datetime] = mapped_column(AwareDateTime)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_scans.id"))
    receipt_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(20))  # changed, both_ways
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    set_aside_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
