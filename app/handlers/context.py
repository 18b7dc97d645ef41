"""What Linli knows about the resident in a conversation: the bound room, a scanned building, and whom to contact."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Building, Estate, ResidentAccount, RoleGrant, Room, RoomBinding, StaffUser


@dataclass
class Resident:
    """The resident's bound room (if any) and the building they are talking about (bound or scanned)."""

    room: Room | None = None
    building: Building | None = None

    @property
    def estate(self) -> Estate | None:
        return self.building.estate if self.building is not None else None

    @property
    def bound(self) -> bool:
        return self.room is not None


def _with_estate():
    # Nearly every answer names the building, its estate or its community: load them with the row, not one query
    # each on first use (this runs for most chat messages).
    return joinedload(Building.estate).joinedload(Estate.community)


def bound_rooms(openid: str) -> list[Room]:
    """Rooms the openid is bound to with status 'bound', in a stable order (with unit, building and estate)."""
    query = (select(Room).join(RoomBinding, RoomBinding.room_id == Room.id)
             .join(ResidentAccount, ResidentAccount.id == RoomBinding.account_id)
             .where(ResidentAccount.openid == openid, RoomBinding.status == "bound")
             .options(joinedload(Room.unit), joinedload(Room.building).options(_with_estate()))
             .order_by(RoomBinding.id))
    return list(db.session.scalars(query))


def building_by_id(building_id: int | None) -> Building | None:
    """A building by id (with its estate and community), or None."""
    return db.session.get(Building, building_id, options=[_with_estate()]) if building_id else None


def resident(openid: str, scanned_building_id: int | None) -> Resident:
    """The resident's context: a scanned building wins for 'where', the first bound room is home."""
    rooms = bound_rooms(openid)
    room = rooms[0] if rooms else None
    building = building_by_id(scanned_building_id) or (room.building if room else None)
    return Resident(room=room, building=building)


def _holders(role: str, scope_type: str, scope_id: int) -> list[StaffUser]:
    query = (select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id)
             .where(RoleGrant.role == role, RoleGrant.scope_type == scope_type, RoleGrant.scope_id == scope_id,
                    StaffUser.active.is_(True))
             .order_by(StaffUser.id))
    return list(db.session.scalars(query))


def contacts(who: Resident) -> list[str]:
    """Contact lines for the resident: building heads of their building, staff of their estate's community."""
    lines = []
    if who.building is not None:
        for user in _holders("building_head", "building", who.building.id):
            lines.append(_line(f"{who.building.name}楼栋长", user))
        for user in _holders("community_staff", "community", who.building.estate.community_id):
            lines.append(_line(f"{who.building.estate.community.name}工作人员", user))
    return lines


def office_hint() -> str:
    """General office information when no personal contact is known (configurable)."""
    return current_app.config.get("LINLI_OFFICE_INFO") or "也可以到所在社区居委会办公室当面咨询。"


def _line(label: str, user: StaffUser) -> str:
    name = user.display_name or user.username
    phone = f"，电话 {user.public_phone}" if user.public_phone else "（暂未公开电话）"
    return f"{label}：{name}{phone}"
