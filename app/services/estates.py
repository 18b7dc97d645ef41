"""Estates in the register: finding a room by its address, and editing the estate's type, modes, flags and 六有."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db

from app.models import Building, Estate, EstateStandard, Room, Unit
from app.models.place import ESTATE_TYPES, MANAGEMENT_MODES, SIX_HAVES
from app.services import audit
from app.services.errors import DomainError


def find_rooms(estate_id: int, building: str, room: str, unit: str = "") -> list[Room]:
    """The rooms of an estate at building + room number (and unit when given); several when units are ambiguous."""
    query = (select(Room).join(Building, Room.building_id == Building.id).join(Unit, Room.unit_id == Unit.id)
             .where(Room.estate_id == estate_id, Building.number == str(building).strip().upper(),
                    Room.number == str(room).strip().upper()))
    if str(unit).strip():
        query = query.where(Unit.number == str(unit).strip())
    return list(db.session.scalars(query))


def update_estate(estate: Estate, *, actor_id: int, name: str, address: str, estate_type: str, modes: list[str],
                  committee: bool, fund: bool, handed_over: bool, standards: dict[str, date | None]) -> Estate:
    """Validate and save the estate's attributes in one commit; bad values raise DomainError, nothing saved."""
    name, address = name.strip(), address.strip()
    if not name or len(name) > 120:
        raise DomainError("请填写小区名称（120字以内）。")
    if estate_type not in ESTATE_TYPES:
        raise DomainError("请选择小区类型。")
    unknown = [m for m in modes if m not in MANAGEMENT_MODES]
    if unknown:
        raise DomainError("管理模式不正确。")
    if any(code not in SIX_HAVES for code in standards):
        raise DomainError("六有项目不正确。")
    future = [SIX_HAVES[c] for c, d in standards.items() if d and d > date.today()]
    if future:
        raise DomainError(f"“{future[0]}”的达标日期不能晚于今天。")
    before = {"name": estate.name, "type": estate.estate_type, "modes": list(estate.management_modes or [])}
    estate.name, estate.address, estate.estate_type = name, address[:200], estate_type
    estate.management_modes = [m for m in MANAGEMENT_MODES if m in modes]
    estate.has_owners_committee, estate.has_maintenance_fund = committee, fund
    estate.facilities_handed_over = handed_over
    current = {item.item: item for item in estate.standards}
    for code in SIX_HAVES:
        achieved = standards.get(code)
        if achieved and code in current:
            current[code].achieved_on = achieved
        elif achieved:
            estate.standards.append(EstateStandard(item=code, achieved_on=achieved))
        elif code in current:
            estate.standards.remove(current[code])
    audit.record("staff", actor_id, "update", "estate", estate.id, before=before)
    db.session.commit()
    return estate
