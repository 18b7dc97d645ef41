"""Announcements (outages, maintenance, events): a later issue, so Linli says plainly it is being prepared."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """Say the feature is not live yet, and whom to contact meanwhile."""
    return TextReply(texts.preparing("通知公告", turn.resident, "停水停电等消息请先留意楼栋公告栏。"))


register("notice", start)
