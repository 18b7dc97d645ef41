"""The durable outbox: every message Linli sends to a resident, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.models.types import AwareDateTime

CHANNELS = {"custom": "客服消息", "template": "模板消息", "subscribe": "订阅消息"}
STATUSES = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
            "undeliverable": "无法送达", "cancelled": "已取消"}


class OutboxMessage(db.Model):
    """One outbound message with its idempotency key; the sender moves it pending → sending → sent/failed."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(12), default="custom")
    kind: Mapped[str] = mapped_column(String(12), default="text")  # text/news/image/template/subscribe
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    wechat_msgid: Mapped[str | None] = mapped_column(String(32), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(60))  # from TEMPLATESENDJOBFINISH
    delivered_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    fell_back: Mapped[bool] = mapped_column(default=False)  # custom → template after 45015/45047
    created_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime, default=clock.now, onupdate=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)
