"""一小区一方案: an estate's versioned plan (area, facilities, management mode, services and fees, funding)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.place import MANAGEMENT_MODES, SIX_HAVES
from app.models.types import AwareDateTime

PLAN_STATUSES = {"draft": "草稿", "published": "公示征求意见", "voting": "表决中", "adopted": "已通过",
                 "rejected": "未通过", "superseded": "已被新版本取代"}
TIERS = {"ordinary": "一般事项（过半数）", "major": "重大事项（四分之三以上）"}
FEE_MODES = {"per_area": "按建筑面积（元/㎡/月）", "per_household": "按户（元/户/月）"}
FEE_CYCLES = {"monthly": "按月", "quarterly": "按季度", "half_yearly": "按半年", "yearly": "按年"}
# Facilities a plan may add beyond the 六有 checklist (seed 003 §四(三)).
EXTRA_FACILITIES = {"gatehouse": "门岗", "barrier": "道闸", "cctv": "监控", "parking_spaces": "车位",
                    "charging": "充电设施", "lighting": "公共照明", "fence": "围墙/隔离设施"}
COMMENT_CHANNELS = {"h5": "网页", "chat": "公众号对话"}


class Plan(db.Model):
    """One version of an estate's plan; a new version is a new row, earlier ones are kept."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("estate_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    title: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(10), default="ordinary")
    # 区域划分
    area_scope: Mapped[str] = mapped_column(Text, default="")
    # 设施完善: codes of SIX_HAVES the plan commits to, codes of EXTRA_FACILITIES to add, and free text.
    six_haves: Mapped[list] = mapped_column(JSON, default=list)
    facilities: Mapped[list] = mapped_column(JSON, default=list)
    facilities_note: Mapped[str] = mapped_column(Text, default="")
    # 管理方式: codes of MANAGEMENT_MODES (several may combine).
    management_modes: Mapped[list] = mapped_column(JSON, default=list)
    services: Mapped[list] = mapped_column(JSON, default=list)
    # Fee standard: per_area → fen per ㎡ per month; per_household → fen per household per month.
    fee_mode: Mapped[str | None] = mapped_column(String(16))
    fee_amount_fen: Mapped[int | None] = mapped_column(Integer)
    fee_cycle: Mapped[str | None] = mapped_column(String(12))
    funding: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime)

    estate: Mapped["Estate"] = relationship()  # noqa: F821
    comments: Mapped[list["PlanComment"]] = relationship(back_populates="plan", order_by="PlanComment.id")

    @property
    def status_label(self) -> str:
        return PLAN_STATUSES.get(self.status, self.status)

    @property
    def tier_label(self) -> str:
        return TIERS.get(self.tier, self.tier)

    @property
    def mode_labels(self) -> list[str]:
        return [MANAGEMENT_MODES.get(code, code) for code in self.management_modes or []]

    @property
    def six_have_labels(self) -> list[str]:
        return [SIX_HAVES.get(code, code) for code in self.six_haves or []]

    @property
    def facility_labels(self) -> list[str]:
        return [EXTRA_FACILITIES.get(code, code) for code in self.facilities or []]

    @property
    def fee_text(self) -> str:
        """'0.30 元/㎡/月，按季度收取' — the fee standard in words."""
        if not self.fee_mode or self.fee_amount_fen is None:
            return "不收费"
        amount = f"{self.fee_amount_fen // 100}.{self.fee_amount_fen % 100:02d}"
        unit = "元/㎡/月" if self.fee_mode == "per_area" else "元/户/月"
        return f"{amount} {unit}，{FEE_CYCLES.get(self.fee_cycle or '', '')}收取"


class PlanComment(db.Model):
    """A resident's comment on a published plan, from the H5 page or the chat; staff read them all."""

    __tablename__ = "plan_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8), default="h5")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    plan: Mapped[Plan] = relationship(back_populates="comments")
