"""Announcements (outages, maintenance, events): the current notices for the resident's building(s)."""

from __future__ import annotations

from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """List the current notices of the buildings the resident is bound to (or say how to get them)."""
    from app.services.tickets_chat import notices_text

    return TextReply(notices_text(turn.inbound.openid))


register("notice", start)
