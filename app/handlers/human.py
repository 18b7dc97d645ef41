"""Wanting a person: the building head of the resident's building and the staff of their community."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """List the building head and community staff (from the register), or general office information."""
    return TextReply(texts.contact_text(turn.resident, "可以直接联系这些工作人员："))


register("human", start)
