"""Fees: schedules, bills, payments (append-only), credits, the reminder ladder, visits, levies and the public ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

BASES = {"per_area": "按面积（元/㎡/月）", "flat": "按户（元/户/月）"}
CYCLES = {"monthly": ("按月", 1), "quarterly": ("按季", 3), "half_yearly": ("按半年", 6), "yearly": ("按年", 12)}
BILL_STATUSES = {"open": "未缴清", "paid": "已缴清", "cancelled": "已作废"}
BILL_KINDS = {"fee": "物业费", "levy": "一事一议分摊"}
PAYMENT_METHODS = {"cash": "现金", "transfer": "转账", "wechat_pay": "微信支付", "credit": "预存/以工抵费抵扣"}
PAYMENT_KINDS = {"payment": "缴费", "correction": "更正", "refund": "退款"}
CREDIT_KINDS = {"prepayment": "预存", "work": "以工抵费", "applied": "抵扣账单", "reversal": "冲正"}
REMINDER_STAGES = {"private": "私信提醒", "building_head": "楼栋长劝导", "community": "社区处理", "letter": "催告函"}
INCOME_SOURCES = {"fee": "物业费", "public_area": "公共部位收益", "shared_housing": "共有房屋经营", "parking": "停车位",
                  "promotion": "商业促销", "policy": "政策资金", "maintenance_share": "维修资金分摊"}
EXPENSE_CATEGORIES = {"cleaning": "清扫保洁", "repair": "维修维护", "greening": "绿化养护", "security": "门岗安保",
                      "utilities": "公共水电", "wages": "人员报酬", "supplies": "物料用品", "other": "其他支出"}
# Income that Linli computes from payments itself, so staff never type it in (no double counting).
COMPUTED_SOURCES = frozenset({"fee", "maintenance_share"})


class FeeSchedule(db.Model):
    """An estate's fee standard: a rate per ㎡ or per household per month, a billing cycle, exemptions and vacancy
    rules, and a contractual late fee only when configured. Set by staff now, created from an adopted plan later."""

    __tablename__ = "fee_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="物业服务费")
    basis: Mapped[str] = mapped_column(String(10), default="per_area")
    # Fen per ㎡ per month (per_area) or fen per household per month (flat); Decimal so 0.35 元 = 35 fen exactly.
    rate_fen: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    cycle: Mapped[str] = mapped_column(String(12), default="quarterly")
    starts_on: Mapped[date] = mapped_column(Date)  # the first period starts here; later periods are anchored to it
    ends_on: Mapped[date | None] = mapped_column(Date)
    due_days: Mapped[int] = mapped_column(Integer, default=30)  # a bill is due this many days after its period starts
    exempt_room_ids: Mapped[list] = mapped_column(JSON, default=list)  # e.g. 低保/特困 households the estate exempts
    exempt_developer_held: Mapped[bool] = mapped_column(Boolean, default=False)
    vacant_room_ids: Mapped[list] = mapped_column(JSON, default=list)
    vacancy_percent: Mapped[int] = mapped_column(Integer, default=100)  # share of the fee a vacant room pays
    # Contractual 违约金 (never 滞纳金): per-mille of the overdue amount per day, capped; None = none at all.
    late_fee_permille_per_day: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    late_fee_cap_percent: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10), default="staff")  # staff / plan
    plan_id: Mapped[int | None] = mapped_column(Integer)  # the adopted estate plan, once plans exist
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    estate: Mapped["Estate"] = relationship()  # noqa: F821

    @property
    def months(self) -> int:
        return CYCLES[self.cycle][1]

    @property
    def describe(self) -> str:
        """'0.30 元/㎡/月，按季缴纳' — the standard in words."""
        yuan = Decimal(self.rate_fen) / 100
        shown = f"{yuan:.2f}" if yuan == yuan.quantize(Decimal("0.01")) else f"{yuan.normalize():f}"
        unit = "元/㎡/月" if self.basis == "per_area" else "元/户/月"
        return f"{shown} {unit}，{CYCLES[self.cycle][0]}缴纳"


class ReminderPolicy(db.Model):
    """The reminder ladder of one estate: private reminders, then the building head, then community staff."""

    __tablename__ = "fee_reminder_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), unique=True)
    first_after_days: Mapped[int] = mapped_column(Integer, default=7)  # N days after the due date
    repeat_every_days: Mapped[int] = mapped_column(Integer, default=7)  # M
    max_private: Mapped[int] = mapped_column(Integer, default=3)  # K
    community_after_days: Mapped[int] = mapped_column(Integer, default=30)  # after the building head got the room
    quiet_start_hour: Mapped[int] = mapped_column(Integer, default=21)
    quiet_end_hour: Mapped[int] = mapped_column(Integer, default=8)
    heads_see_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Levy(db.Model):
    """一事一议: a repair cost of a unit or building shared by area among its rooms, one bill per room."""

    __tablename__ = "fee_levies"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    scope_type: Mapped[str] = mapped_column(String(10))  # unit / building
    scope_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    total_area: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    room_count: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)


class Bill(db.Model):
    """What one room owes for one period of one schedule (or one levy). `paid_fen` caches the sum of its payments,
    which are never edited; `source_key` makes generation idempotent."""

    __tablename__ = "fee_bills"
    __table_args__ = (UniqueConstraint("room_id", "source_key"),
                      # The reminder run walks open bills in room order (keyset on room_id), batch by batch.
                      Index("ix_fee_bills_status_room", "status", "room_id"),
                      Index("ix_fee_bills_estate_period", "estate_id", "period_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="fee")
    source_key: Mapped[str] = mapped_column(String(40))  # "s{schedule}:{period_start}" or "levy{id}"
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("fee_schedules.id"), index=True)
    levy_id: Mapped[int | None] = mapped_column(ForeignKey("fee_levies.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    months: Mapped[int] = mapped_column(Integer, default=1)
    area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # the area billed, kept as billed
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    room: Mapped["Room"] = relationship()  # noqa: F821
    schedule: Mapped[FeeSchedule | None] = relationship()
    levy: Mapped[Levy | None] = relationship()

    @property
    def owed_fen(self) -> int:
        return max(0, self.amount_fen - self.paid_fen) if self.status != "cancelled" else 0

    @property
    def title(self) -> str:
        """'2026年7月—9月物业费' or the levy's title."""
        if self.kind == "levy" and self.levy is not None:
            return f"一事一议：{self.levy.title}"
        start, end = self.period_start, self.period_end
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.year}年{start.month}月物业费"
        if start.year == end.year:
            return f"{start.year}年{start.month}月—{end.month}月物业费"
        return f"{start.year}年{start.month}月—{end.year}年{end.month}月物业费"


class FeePayment(db.Model):
    """One money movement on a bill. History is never edited: corrections and refunds are new negative rows."""

    __tablename__ = "fee_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bills.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="payment")
    method: Mapped[str] = mapped_column(String(12), default="cash")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # A key from the form (or WeChat Pay's out_trade_no): the same submission is recorded once.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    reference: Mapped[str] = mapped_column(String(64), default="")  # transfer slip / transaction_id
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("fee_payments.id"))
    recorded_by: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now, index=True)

    bill: Mapped[Bill] = relationship()

    @property
    def receipt_no(self) -> str:
        return f"LL{self.recorded_at:%Y%m}{self.id:06d}"


class Credit(db.Model):
    """A room's credit ledger: prepayments and 以工抵费 hours add, bill offsets subtract; the balance is the sum."""

    __tablename__ = "fee_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("fee_payments.id"))
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_by: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)


class Reminder(db.Model):
    """One step of the reminder ladder for one bill; the unique key makes every job run idempotent."""

    __tablename__ = "fee_reminders"
    __table_args__ = (UniqueConstraint("bill_id", "stage", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("fee_bills.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer, default=1)  # 1..K for private reminders; letters count up
    sent_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # how many messages went out (0: nobody reachable)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Visit(db.Model):
    """A persuasion visit (劝导) logged by a building or unit head: the room, what was said, any promise."""

    __tablename__ = "fee_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str] = mapped_column(String(300))
    promised_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    room: Mapped["Room"] = relationship()  # noqa: F821


class LedgerEntry(db.Model):
    """One line of the estate's public ledger: income by source or spending, with a receipt or photo.
    Mistakes are reversed by a new entry (reverses_id), never edited."""

    __tablename__ = "fee_ledger_entries"
    __table_args__ = (Index("ix_fee_ledger_estate_day", "estate_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    direction: Mapped[str] = mapped_column(String(8))  # income / expense
    category: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # signed: a reversal carries the opposite sign
    occurred_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200))
    counterparty: Mapped[str] = mapped_column(String(80), default="")
    receipt_file: Mapped[str | None] = mapped_column(String(120))  # stored name under instance/ledger/
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("fee_ledger_entries.id"))
    recorded_by: Mapped[str] = mapped_column(String(40), default="")
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    @property
    def category_label(self) -> str:
        table = INCOME_SOURCES if self.direction == "income" else EXPENSE_CATEGORIES
        return table.get(self.category, self.category)


class MonthlyReport(db.Model):
    """The monthly report to the street office, generated on a schedule and kept as it was sent."""

    __tablename__ = "fee_monthly_reports"
    __table_args__ = (UniqueConstraint("street_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the reported month
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    generated_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
