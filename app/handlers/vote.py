"""The estate plan and owner voting: a capability of a later issue, so Linli says plainly it is being prepared."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """Say the feature is not live yet, and whom to contact meanwhile."""
    return TextReply(texts.preparing("小区方案和投票", turn.resident, "投票开始前会在这里通知您。"))


register("vote", start)
