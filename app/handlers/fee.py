"""Fees (bills, payment, standards): a capability of a later issue, so Linli says plainly that it is being prepared."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """Say the feature is not live yet, and whom to contact meanwhile."""
    return TextReply(texts.preparing("物业费查询和缴费", turn.resident, "现在还查不到您的账单，也不能在线缴费。"))


register("fee", start)
