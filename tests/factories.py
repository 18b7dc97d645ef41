"""Small factories for tests: places, rooms, owners and staff users with grants. They flush, never commit.

Build data in an app context of its own and commit before requests read it; do not keep the `ctx` fixture
open while using `client`, or Flask reuses that context (its `g`, login cache and session) for every request:

    with app.app_context():
        estate = make_estate(name="阳光小区")
        make_room(make_unit(make_building(estate, "1")), "101", owner=make_person("张三", "13812341234"))
        make_staff_user("wang", role="community_staff", scope=estate.community)
        db.session.commit()
        estate_id = estate.id
    login(client, "wang")
    client.get(f"/admin/estates/{estate_id}")
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from werkzeug.security import generate_password_hash

from app import privacy
from app.extensions import db
from app.models import (Building, Community, Estate, EstateStandard, Ownership, Person, RoleGrant, Room,
                        StaffUser, Street, Unit)
from app.models.place import natural_key

DEFAULT_PASSWORD = "linli-test-pass"
# Cheap hashing for tests (the real default, scrypt, costs ~60 ms per check).
_FAST_HASH = generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256:1000")
_seq = itertools.count(1)


def _add(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def make_street(name: str | None = None) -> Street:
    """A street (街道)."""
    return _add(Street(name=name or f"测试街道{next(_seq)}"))


def make_community(street: Street | None = None, name: str | None = None) -> Community:
    """A community (社区), in a new street unless given."""
    return _add(Community(street=street or make_street(), name=name or f"测试社区{next(_seq)}"))


def make_estate(community: Community | None = None, name: str | None = None, *, six_haves: dict | None = None,
                **fields) -> Estate:
    """An estate; `six_haves` maps 六有 codes to the date achieved, e.g. {"gate": date(2024, 5, 1)}."""
    estate = Estate(community=community or make_community(), name=name or f"测试小区{next(_seq)}", **fields)
    for code, achieved in (six_haves or {}).items():
        estate.standards.append(EstateStandard(item=code, achieved_on=achieved or date(2024, 1, 1)))
    return _add(estate)


def make_building(estate: Estate | None = None, number: str = "1") -> Building:
    """A building numbered `number` ("1" → 1号楼)."""
    return _add(Building(estate=estate or make_estate(), number=number, sort_key=natural_key(number)))


def make_unit(building: Building | None = None, number: str = "1") -> Unit:
    """A unit of a building; number "" for a building without units."""
    return _add(Unit(building=building or make_building(), number=number, sort_key=natural_key(number)))


def make_person(name: str = "张三", phone: str | None = "13812341234", *, is_developer: bool = False) -> Person:
    """A person on the register, phone encrypted as the app stores it."""
    person = Person(name=name, identity_key=privacy.keyed_hash(f"test-person-{next(_seq)}"),
                    is_developer=is_developer)
    person.set_phone(phone)
    return _add(person)


def make_room(unit: Unit | None = None, number: str = "101", *, area: str | Decimal | None = "89.50",
              floor: int | None = None, owner: Person | None = None, co_owners: tuple[Person, ...] = (),
              developer_held: bool = False) -> Room:
    """A room with its owner (designated voter) and any co-owners."""
    unit = unit or make_unit()
    if floor is None and number[:-2].isdigit():
        floor = int(number[:-2])
    room = _add(Room(unit=unit, building=unit.building, estate=unit.building.estate, number=number,
                     sort_key=natural_key(number), floor=floor,
                     area=Decimal(str(area)) if area is not None else None))
    for index, person in enumerate(([owner] if owner else []) + list(co_owners)):
        _add(Ownership(room=room, person=person, is_designated_voter=index == 0, developer_held=developer_held))
    return room


def make_staff_user(username: str | None = None, *, role: str | None = None, scope=None,
                    password: str = DEFAULT_PASSWORD, display_name: str = "", active: bool = True) -> StaffUser:
    """A staff user; with `role` and `scope` (a Street/Community/Estate/Building/Unit) also one grant."""
    username = username or f"staff{next(_seq)}"
    user = StaffUser(username=username, display_name=display_name or username, active=active,
                     password_hash=_FAST_HASH if password == DEFAULT_PASSWORD
                     else generate_password_hash(password, method="pbkdf2:sha256:1000"))
    _add(user)
    if role:
        grant(user, role, scope)
    return user


def grant(user: StaffUser, role: str, scope) -> RoleGrant:
    """Give a user one more role over a place object."""
    scope_type = {Street: "street", Community: "community", Estate: "estate", Building: "building",
                  Unit: "unit"}[type(scope)]
    return _add(RoleGrant(user=user, role=role, scope_type=scope_type, scope_id=scope.id))


def login(client, username: str, password: str = DEFAULT_PASSWORD):
    """Sign in through the real login form; returns the response (a redirect on success)."""
    return client.post("/login", data={"username": username, "password": password})
