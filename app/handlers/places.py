"""Places in a dialogue: reading building/unit/room from answers, prefilling them, checking them against the register."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.handlers.registry import Turn
from app.models import Building
from app.nlp.slots import extract_place
from app.nlp.text import clean, digits
from app.services.register_cache import cached

NOT_KNOWN = re.compile(r"不知道|不清楚|不记得|没有单元|没单元|不分单元|整栋|整个楼|外面|小区里|院子|跳过|不用|没有")


def place_from(text: str, bare: str = "building") -> dict:
    """Building, unit and room in an answer; a bare number is a building ("3") or, when `bare` says so or it has
    three or four digits, a room ("501")."""
    cleaned = digits(clean(text))
    found = extract_place(cleaned)
    if not found and re.fullmatch(r"[0-9]{1,4}|[a-zA-Z]", cleaned):
        is_room = bare == "room" or len(cleaned) >= 3
        found = {"room": cleaned} if is_room and cleaned.isdigit() else {"building": cleaned.upper()}
    return found


def label(slots: dict) -> str:
    """ "3号楼2单元501室" from the place slots."""
    parts = []
    if slots.get("building"):
        parts.append(f"{slots['building']}号楼")
    if slots.get("unit"):
        parts.append(f"{slots['unit']}单元")
    if slots.get("room"):
        parts.append(f"{slots['room']}室")
    return "".join(parts) or "未说明"


def prefill(turn: Turn, slots: dict, with_room: bool) -> None:
    """Fill missing place slots from the scanned building or the resident's bound room."""
    if slots.get("building"):
        return
    who = turn.resident
    room = who.room
    if with_room and room is not None:
        slots.update(building=room.building.number, unit=room.unit.number, room=room.number)
    elif who.building is not None:
        slots["building"] = who.building.number
        if room is not None and room.building_id == who.building.id:
            slots["unit"] = room.unit.number


def unknown_building(turn: Turn, number: str) -> str | None:
    """A message when the resident's estate is known and has no such building, else None."""
    estate = turn.resident.estate
    if estate is None:
        return None
    numbers = cached("building-numbers", estate.id, turn.generation, lambda: frozenset(
        db.session.scalars(select(Building.number).where(Building.estate_id == estate.id))))
    if number in numbers:
        return None
    return f"{estate.name}没有找到{number}号楼，请再说一遍楼号（例如：3栋2单元）。"
