"""What Linli knows about the resident in a conversation: the bound room, a scanned building, and whom to contact.

Nearly every chat answer needs these, so they are kept in memory as plain values (app.services.register_cache) for
as long as the register generation of the turn is current: a message then costs no query for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (Building, Community, Estate, ResidentAccount, RoleGrant, Room, RoomBinding, StaffUser,
                        Unit)
from app.models.place import building_name, room_label
from app.services.register_cache import cached


@dataclass(frozen=True)
class CommunityRef:
    id: int
    name: str


@dataclass(frozen=True)
class EstateRef:
    id: int
    name: str
    community_id: int
    community: CommunityRef


@dataclass(frozen=True)
class BuildingRef:
    id: int
    number: str
    name: str
    estate_id: int
    estate: EstateRef


@dataclass(frozen=True)
class UnitRef:
    id: int
    number: str


@dataclass(frozen=True)
class RoomRef:
    """A bound room as the chat needs it; `label` as Room.label ("3号楼2单元501室")."""

    id: int
    number: str
    label: str
    building_id: int
    unit: UnitRef
    building: BuildingRef

    @property
    def estate(self) -> EstateRef:
        return self.building.estate


@dataclass
class Resident:
    """The resident's bound room (if any) and the building they are talking about (bound or scanned)."""

    room: RoomRef | None = None
    building: BuildingRef | None = None
    generation: str | None = field(default=None, repr=False)  # the register generation it was read at

    @property
    def estate(self) -> EstateRef | None:
        return self.building.estate if self.building is not None else None

    @property
    def bound(self) -> bool:
        return self.room is not None


def _with_estate():
    return joinedload(Building.estate).joinedload(Estate.community)


def _bound_rooms_statement():
    # Plain columns, run on the connection: a resident's first message in a while loads this, and building the ORM
    # objects (room, unit, building, estate, community) cost several times the query itself.
    return (select(Room.id, Room.number, Room.building_id, Unit.id, Unit.number, Building.number, Estate.id,
                   Estate.name, Community.id, Community.name)
            .select_from(RoomBinding)
            .join(ResidentAccount, ResidentAccount.id == RoomBinding.account_id)
            .join(Room, Room.id == RoomBinding.room_id)
            .join(Unit, Unit.id == Room.unit_id)
            .join(Building, Building.id == Room.building_id)
            .join(Estate, Estate.id == Building.estate_id)
            .join(Community, Community.id == Estate.community_id)
            .where(ResidentAccount.openid == bindparam("bound_openid"), RoomBinding.status == "bound")
            .order_by(RoomBinding.id))


_BOUND_ROOMS = _bound_rooms_statement()  # built once: its compiled form and cache key are reused


def bound_rooms(openid: str) -> tuple[RoomRef, ...]:
    """Rooms the openid is bound to with status 'bound', in a stable order (with unit, building and estate)."""
    refs = []
    db.session.flush()  # the connection does not autoflush as an ORM query would: a binding made just now counts
    for (room_id, number, building_id, unit_id, unit_number, building_number, estate_id, estate_name, community_id,
         community_name) in db.session.connection().execute(_BOUND_ROOMS, {"bound_openid": openid}):
        estate = EstateRef(estate_id, estate_name, community_id, CommunityRef(community_id, community_name))
        building = BuildingRef(building_id, building_number, building_name(building_number), estate_id, estate)
        refs.append(RoomRef(room_id, number, room_label(building_number, unit_number, number), building_id,
                            UnitRef(unit_id, unit_number), building))
    return tuple(refs)


def building_by_id(building_id: int | None) -> Building | None:
    """A building by id (with its estate and community), or None."""
    return db.session.get(Building, building_id, options=[_with_estate()]) if building_id else None


def _building_ref(building: Building) -> BuildingRef:
    estate = building.estate
    community = CommunityRef(estate.community.id, estate.community.name)
    return BuildingRef(building.id, building.number, building.name, estate.id,
                       EstateRef(estate.id, estate.name, estate.community_id, community))


def rooms(openid: str, generation: str | None) -> tuple[RoomRef, ...]:
    """Every room the openid is bound to, as bound_rooms orders them, kept while the register generation holds."""
    return cached("rooms", openid, generation, lambda: bound_rooms(openid))


def resident(openid: str, scanned_building_id: int | None, generation: str | None = None) -> Resident:
    """The resident's context: a scanned building wins for 'where', the first bound room is home."""
    bound = rooms(openid, generation)
    room = bound[0] if bound else None
    scanned = building(scanned_building_id, generation) if scanned_building_id else None
    return Resident(room=room, building=scanned or (room.building if room else None), generation=generation)


def building(building_id: int, generation: str | None) -> BuildingRef | None:
    """A building (with estate and community) by id, or None, kept while the register generation holds."""
    return cached("building", building_id, generation, lambda: _maybe(building_by_id(building_id), _building_ref))


def _maybe(value, convert):
    return convert(value) if value is not None else None


def _holders(role: str, scope_type: str, scope_id: int) -> list[StaffUser]:
    query = (select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id)
             .where(RoleGrant.role == role, RoleGrant.scope_type == scope_type, RoleGrant.scope_id == scope_id,
                    StaffUser.active.is_(True))
             .order_by(StaffUser.id))
    return list(db.session.scalars(query))


def contacts(who: Resident) -> list[str]:
    """Contact lines for the resident: building heads of their building, staff of their estate's community."""
    building = who.building
    if building is None:
        return []

    def load() -> tuple[str, ...]:
        lines = [_line(f"{building.name}楼栋长", user) for user in _holders("building_head", "building", building.id)]
        lines += [_line(f"{building.estate.community.name}工作人员", user)
                  for user in _holders("community_staff", "community", building.estate.community_id)]
        return tuple(lines)

    return list(cached("contacts", building.id, who.generation, load))


def office_hint() -> str:
    """General office information when no personal contact is known (configurable)."""
    return current_app.config.get("LINLI_OFFICE_INFO") or "也可以到所在社区居委会办公室当面咨询。"


def _line(label: str, user: StaffUser) -> str:
    name = user.display_name or user.username
    phone = f"，电话 {user.public_phone}" if user.public_phone else "（暂未公开电话）"
    return f"{label}：{name}{phone}"
