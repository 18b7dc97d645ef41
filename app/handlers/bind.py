"""Identifying myself with a room: a capability of a later issue; repeat the address heard, say it is being prepared."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def place_text(slots: dict) -> str:
    """ "3号楼2单元501室" from building/unit/room slots (parts that are missing are left out)."""
    return "".join(filter(None, (
        f"{slots['building']}号楼" if slots.get("building") else "",
        f"{slots['unit']}单元" if slots.get("unit") else "",
        f"{slots['room']}室" if slots.get("room") else "")))


def start(turn: Turn) -> TextReply:
    """Say binding is not live yet; echo the address so the resident knows it was understood."""
    place = place_text(turn.understanding.slots)
    extra = f"您说的是{place}，上线后就可以在这里绑定。" if place else ""
    return TextReply(texts.preparing("房屋绑定", turn.resident, extra))


register("bind", start)
