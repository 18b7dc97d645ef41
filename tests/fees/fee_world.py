"""A small estate for fee tests: two buildings, bound owners, building heads linked to WeChat, a community officer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app import clock
from app.extensions import db
from app.models import ResidentAccount, RoomBinding
from app.services.billing import create_schedule
from factories import make_building, make_estate, make_person, make_room, make_staff_user, make_unit


@dataclass
class World:
    """Ids of what was built (plain ints, safe to use after the context closes)."""

    estate_id: int
    schedule_id: int | None = None
    rooms: dict[str, int] = field(default_factory=dict)  # "1-101" → room id
    buildings: dict[str, int] = field(default_factory=dict)
    openids: dict[str, str] = field(default_factory=dict)  # room key → owner openid
    users: dict[str, int] = field(default_factory=dict)


def build(*, cycle: str = "quarterly", rate_fen: str = "30", starts_on: date = date(2026, 1, 1),
          bind: tuple[str, ...] = ("1-101", "1-102", "2-101"), schedule: bool = True, due_days: int = 15) -> World:
    """Two buildings with rooms 101/102/201 each (areas 80, 100.5, 60), owners bound for `bind`."""
    estate = make_estate(name="幸福里小区")
    world = World(estate_id=estate.id)
    areas = {"101": "80.00", "102": "100.50", "201": "60.00"}
    for number in ("1", "2"):
        building = make_building(estate, number)
        world.buildings[number] = building.id
        unit = make_unit(building, "1")
        for room_no, area in areas.items():
            owner = make_person(f"业主{number}{room_no}", f"1381234{number}{room_no}")
            room = make_room(unit, room_no, area=area, owner=owner)
            key = f"{number}-{room_no}"
            world.rooms[key] = room.id
            if key in bind:
                account = ResidentAccount(openid=f"o-{key}", person_id=owner.id, subscribed=True)
                db.session.add(account)
                db.session.flush()
                db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status="bound",
                                           decided_at=clock.now()))
                world.openids[key] = account.openid
    head1 = make_staff_user("lzz1", role="building_head", scope=db.session.get(type(building), world.buildings["1"]))
    head1.openid = "o-head-1"
    head2 = make_staff_user("lzz2", role="building_head", scope=building)
    head2.openid = "o-head-2"
    office = make_staff_user("shequ", role="community_staff", scope=estate.community)
    office.openid = "o-shequ"
    world.users = {"lzz1": head1.id, "lzz2": head2.id, "shequ": office.id}
    if schedule:
        world.schedule_id = create_schedule(estate, basis="per_area", rate_fen=Decimal(rate_fen), cycle=cycle,
                                            starts_on=starts_on, due_days=due_days, actor="test").id
    db.session.commit()
    return world
