"""Progress of reports, complaints and orders: a later issue, so Linli says plainly it is being prepared."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """Say the feature is not live yet, and whom to contact meanwhile."""
    return TextReply(texts.preparing("进度查询", turn.resident, "报修和预约也还没有开始登记，所以这里查不到记录。"))


register("progress", start)
