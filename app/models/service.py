"""菜单式 point services: providers, the catalogue with posted prices, orders with their history, payments, 公益岗 hours."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, Column, Date, ForeignKey, Integer, Numeric, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

# Standard item codes; staff may add custom ones (any other short code).
ITEM_CODES = {
    "unlock": "开锁换锁", "drain": "疏通下水", "plumbing": "水暖维修", "appliance": "家电维修",
    "electrical": "电路维修", "housekeeping": "家政保洁",
}
ORDER_STATUSES = {
    "ordered": "待接单", "reschedule": "师傅提议改时间", "accepted": "已接单", "done": "已完工待确认",
    "confirmed": "已确认", "cancelled": "已取消", "declined": "无人接单",
}
OPEN_STATUSES = ("ordered", "reschedule", "accepted")
PAYMENT_METHODS = {"cash": "现金", "transfer": "转账", "wechat_pay": "微信支付"}
PROVIDER_KINDS = {"company": "服务单位", "worker": "个人师傅", "public_post": "公益岗"}

catalog_item_providers = Table(
    "catalog_item_providers", db.metadata,
    Column("item_id", ForeignKey("catalog_items.id", ondelete="CASCADE"), primary_key=True),
    Column("provider_id", ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
)
provider_members = Table(
    "provider_members", db.metadata,
    Column("provider_id", ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_user_id", ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
)


class Provider(db.Model):
    """A service company, an individual worker or a 公益岗 worker; its staff users (role provider) work its orders."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12), default="company")
    # A work phone the provider agreed to show residents.
    public_phone: Mapped[str] = mapped_column(String(30), default="")
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    members: Mapped[list["StaffUser"]] = relationship(secondary=provider_members)  # noqa: F821
    items: Mapped[list["CatalogItem"]] = relationship(secondary=catalog_item_providers, back_populates="providers")

    @property
    def kind_label(self) -> str:
        return PROVIDER_KINDS.get(self.kind, self.kind)


class CatalogItem(db.Model):
    """One posted service: for one estate, or for every estate of a street (estate_id empty)."""

    __tablename__ = "catalog_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(10), default="次")
    price_fen: Mapped[int] = mapped_column(Integer)
    market_price_fen: Mapped[int | None] = mapped_column(Integer)
    # Service hours, local time "HH:MM"; a booking must start in [opens, closes).
    opens: Mapped[str] = mapped_column(String(5), default="08:00")
    closes: Mapped[str] = mapped_column(String(5), default="20:00")
    slot_minutes: Mapped[int] = mapped_column(Integer, default=60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now, onupdate=clock.now)

    estate: Mapped["Estate | None"] = relationship()  # noqa: F821
    street: Mapped["Street | None"] = relationship()  # noqa: F821
    providers: Mapped[list[Provider]] = relationship(secondary=catalog_item_providers, back_populates="items",
                                                     order_by="Provider.id")

    @property
    def saving_fen(self) -> int:
        """How much below the market reference price (0 when there is none)."""
        return max(0, (self.market_price_fen or 0) - self.price_fen)


class Order(db.Model):
    """One booked service; the item's name and price are copied at order time, so later price edits never touch it."""

    __tablename__ = "service_orders"
    __table_args__ = (UniqueConstraint("account_id", "client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # The form's or message's idempotency key: a second submit with the same key returns the first order.
    client_key: Mapped[str] = mapped_column(String(80))
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(30))
    item_name: Mapped[str] = mapped_column(String(60))
    item_unit: Mapped[str] = mapped_column(String(10), default="次")
    price_fen: Mapped[int] = mapped_column(Integer)
    market_price_fen: Mapped[int | None] = mapped_column(Integer)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(AwareDateTime)
    proposed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    photo_media_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12), default="ordered", index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    done_at: Mapped[datetime | None] = mapped_column(AwareDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)

    item: Mapped[CatalogItem] = relationship()
    room: Mapped["Room"] = relationship()  # noqa: F821
    estate: Mapped["Estate"] = relationship()  # noqa: F821
    provider: Mapped[Provider | None] = relationship()
    worker: Mapped["StaffUser | None"] = relationship()  # noqa: F821
    events: Mapped[list["OrderEvent"]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                      cascade="all, delete-orphan")
    payment: Mapped["Payment | None"] = relationship(back_populates="order", uselist=False)

    @property
    def status_label(self) -> str:
        return ORDER_STATUSES.get(self.status, self.status)


class OrderEvent(db.Model):
    """One step in an order's history: who did what, from which status to which."""

    __tablename__ = "service_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    actor_type: Mapped[str] = mapped_column(String(12))  # resident, staff, system
    actor_id: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(12), default="")
    to_status: Mapped[str] = mapped_column(String(12), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="events")


class Payment(db.Model):
    """What the resident paid for an order (one per order). Cash and transfer are recorded by the provider or
    office; for WeChat Pay JSAPI a later version fills out_trade_no / transaction_id and moves pending → paid."""

    __tablename__ = "service_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default="paid")  # pending (JSAPI prepay), paid, refunded
    out_trade_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    transaction_id: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)

    order: Mapped[Order] = relationship(back_populates="payment")

    @property
    def method_label(self) -> str:
        return PAYMENT_METHODS.get(self.method, self.method)


class VolunteerHours(db.Model):
    """公益岗 work done for the estate; credit_fen is offset against the worker's fees by the fees capability
    (以工抵费), which sets applied_at when it does, so a credit is applied once."""

    __tablename__ = "volunteer_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)  # whose fees get the credit
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    worked_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    task: Mapped[str] = mapped_column(String(120))
    rate_fen_per_hour: Mapped[int] = mapped_column(Integer)
    credit_fen: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    applied_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    applied_ref: Mapped[str | None] = mapped_column(String(60))

    room: Mapped["Room | None"] = relationship()  # noqa: F821
    provider: Mapped[Provider | None] = relationship()
