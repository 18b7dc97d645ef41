"""Chat handlers: respond(inbound) turns one resident message into a reply value."""

from __future__ import annotations

from app.handlers.messages import Inbound, Reply, TextReply


def respond(inbound: Inbound) -> Reply:
    """Answer one inbound message (the conversation engine of the understanding issue replaces this)."""
    return TextReply("您好，这里是邻里服务号。功能正在准备中，请稍后再试。")
