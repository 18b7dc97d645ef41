"""Who sees what: role grants scoped to a street, community, estate, building or unit, turned into queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Building, Community, Estate, Ownership, Room, RoleGrant, StaffUser, Street, Unit
from app.models.staff import ROLES
from app.services.errors import NotFound

# Roles that may read the register at all; a provider works on orders and tickets only.
REGISTER_ROLES = frozenset({"street_admin", "community_staff", "building_head", "unit_head"})
# Office roles: the whole estate, register upload/export, and revealing a phone number when they must call.
OFFICE_ROLES = frozenset({"street_admin", "community_staff"})
# Grants at these levels cover whole estates; building and unit grants cover only part of one.
WHOLE_ESTATE_SCOPES = frozenset({"street", "community", "estate"})


def _grants(user: StaffUser | None, roles: frozenset[str] = REGISTER_ROLES) -> list[RoleGrant]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return [grant for grant in user.grants if grant.role in roles]


def _estate_clause(grant: RoleGrant) -> ColumnElement[bool]:
    """The estates a single grant reaches (a building or unit grant reaches the estate that holds it)."""
    if grant.scope_type == "street":
        return Estate.community_id.in_(select(Community.id).where(Community.street_id == grant.scope_id))
    if grant.scope_type == "community":
        return Estate.community_id == grant.scope_id
    if grant.scope_type == "estate":
        return Estate.id == grant.scope_id
    if grant.scope_type == "building":
        return Estate.id.in_(select(Building.estate_id).where(Building.id == grant.scope_id))
    if grant.scope_type == "unit":
        return Estate.id.in_(select(Building.estate_id).join(Unit, Unit.building_id == Building.id)
                             .where(Unit.id == grant.scope_id))
    return false()


def visible_estates(user: StaffUser | None) -> Select:
    """A query of the estates whose register the user may read, ordered by name."""
    clauses = [_estate_clause(grant) for grant in _grants(user)]
    return select(Estate).where(or_(false(), *clauses)).order_by(Estate.name, Estate.id)


def estate_for(user: StaffUser | None, estate_id: int) -> Estate:
    """The estate if the user may read it; NotFound otherwise (we never say whether it exists)."""
    estate = db.session.scalars(visible_estates(user).where(Estate.id == estate_id)).first()
    if estate is None:
        raise NotFound()
    return estate


@dataclass(frozen=True)
class Reach:
    """How much of one estate a user reaches: all of it, or some buildings and units."""

    whole: bool
    building_ids: frozenset[int] = field(default_factory=frozenset)
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    def room_clause(self) -> ColumnElement[bool]:
        """A filter on Room for the reached part (combine with Room.estate_id == estate.id)."""
        if self.whole:
            return Room.id.is_not(None)
        return or_(false(), Room.building_id.in_(sorted(self.building_ids)), Room.unit_id.in_(sorted(self.unit_ids)))


def reach(user: StaffUser | None, estate: Estate) -> Reach:
    """The part of a (visible) estate that the user's grants cover."""
    grants = _grants(user)
    if any(g.scope_type in WHOLE_ESTATE_SCOPES for g in grants):
        # A whole-estate grant elsewhere does not cover this estate: check that one of them really does.
        whole = db.session.scalar(
            select(Estate.id).where(Estate.id == estate.id,
                                    or_(false(), *[_estate_clause(g) for g in grants
                                                   if g.scope_type in WHOLE_ESTATE_SCOPES]))
        )
        if whole is not None:
            return Reach(whole=True)
    building_grants = [g.scope_id for g in grants if g.scope_type == "building"]
    unit_grants = [g.scope_id for g in grants if g.scope_type == "unit"]
    building_ids = set(db.session.scalars(
        select(Building.id).where(Building.estate_id == estate.id, Building.id.in_(building_grants))))
    unit_ids = set(db.session.scalars(
        select(Unit.id).join(Building, Unit.building_id == Building.id)
        .where(Building.estate_id == estate.id, Unit.id.in_(unit_grants))))
    return Reach(whole=False, building_ids=frozenset(building_ids), unit_ids=frozenset(unit_ids))


def visible_buildings(user: StaffUser | None, estate: Estate) -> list[Building]:
    """The buildings of the estate the user may see (a unit head sees the building of their unit)."""
    r = reach(user, estate)
    query = select(Building).where(Building.estate_id == estate.id)
    if not r.whole:
        unit_buildings = select(Unit.building_id).where(Unit.id.in_(sorted(r.unit_ids)))
        query = query.where(or_(false(), Building.id.in_(sorted(r.building_ids)), Building.id.in_(unit_buildings)))
    return list(db.session.scalars(query.order_by(Building.sort_key, Building.id)))


def visible_units(user: StaffUser | None, building: Building) -> list[Unit]:
    """The units of a building the user may see."""
    r = reach(user, building.estate)
    query = select(Unit).where(Unit.building_id == building.id)
    if not r.whole and building.id not in r.building_ids:
        query = query.where(Unit.id.in_(sorted(r.unit_ids)))
    return list(db.session.scalars(query.order_by(Unit.sort_key, Unit.id)))


def visible_rooms(user: StaffUser | None, estate: Estate, building_id: int | None = None) -> Select:
    """A query of the rooms of an estate the user may see, optionally of one building, in natural order."""
    query = (select(Room).join(Building, Room.building_id == Building.id).join(Unit, Room.unit_id == Unit.id)
             .where(Room.estate_id == estate.id, reach(user, estate).room_clause()))
    if building_id is not None:
        query = query.where(Room.building_id == building_id)
    return query.order_by(Building.sort_key, Unit.sort_key, Room.sort_key, Room.id)


def building_for(user: StaffUser | None, estate: Estate, building_id: int) -> Building:
    """A building of the estate that the user may see; NotFound otherwise."""
    for building in visible_buildings(user, estate):
        if building.id == building_id:
            return building
    raise NotFound()


def person_rooms(user: StaffUser | None, person_id: int) -> list[Room]:
    """The rooms of a person that the user may see; NotFound when there are none (or no such person)."""
    rooms = db.session.scalars(select(Room).join(Ownership, Ownership.room_id == Room.id)
                               .where(Ownership.person_id == person_id).order_by(Room.id)).all()
    seen = [room for room in rooms
            if db.session.scalar(visible_estates(user).where(Estate.id == room.estate_id)) is not None
            and db.session.scalar(visible_rooms(user, room.estate).where(Room.id == room.id)) is not None]
    if not seen:
        raise NotFound()
    return seen


def has_role(user: StaffUser | None, *roles: str) -> bool:
    """Whether the user holds any of these roles (in any scope)."""
    return bool(_grants(user, frozenset(roles)))


def can_read_register(user: StaffUser | None) -> bool:
    """Whether the user may open register pages at all (providers may not)."""
    return bool(_grants(user))


def can_manage_register(user: StaffUser | None) -> bool:
    """Upload and export the register: street and community offices only."""
    return bool(_grants(user, OFFICE_ROLES))


def can_see_phone(user: StaffUser | None) -> bool:
    """Whether the user may reveal a full phone number (each reveal is audit-logged); others see 138****1234."""
    return bool(_grants(user, OFFICE_ROLES))


def describe_grant(grant: RoleGrant) -> str:
    """'社区工作人员 · 幸福社区' — a grant in words, for the navigation bar and the CLI."""
    role = ROLES.get(grant.role, grant.role)
    return f"{role} · {scope_name(grant.scope_type, grant.scope_id)}"


def scope_name(scope_type: str, scope_id: int) -> str:
    """The name of a scope object, e.g. '阳光小区 3号楼 2单元'; '（已删除）' when it no longer exists."""
    model = {"street": Street, "community": Community, "estate": Estate, "building": Building, "unit": Unit}
    obj = db.session.get(model[scope_type], scope_id) if scope_type in model else None
    if obj is None:
        return "（已删除）"
    if isinstance(obj, Unit):
        return f"{obj.building.estate.name} {obj.building.name} {obj.name}"
    if isinstance(obj, Building):
        return f"{obj.estate.name} {obj.name}"
    return obj.name
