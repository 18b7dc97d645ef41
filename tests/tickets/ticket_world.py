"""The world of the ticket tests: one estate with two buildings, bound residents and one staff user per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.clock import TZ
from app.extensions import db
from app.models import ResidentAccount, RoomBinding
from factories import make_building, make_estate, make_person, make_room, make_staff_user, make_unit

# A Tuesday morning, well outside quiet hours.
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)


@dataclass
class TicketWorld:
    """Ids only: tests open their own app contexts."""

    estate: int
    other_estate: int
    b1: int
    b2: int
    other_building: int
    u1: int
    room1: int
    room2: int
    staff: dict  # username → id


def bind(openid: str, room_id: int, person_id: int | None = None) -> ResidentAccount:
    """A subscribed account bound to a room as its owner (flushes)."""
    account = ResidentAccount(openid=openid, subscribed=True, person_id=person_id)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=room_id, relation="owner", status="bound"))
    db.session.flush()
    return account


def build_ticket_world() -> TicketWorld:
    """Create the world in the current app context and commit."""
    estate = make_estate(name="幸福里小区")
    other = make_estate(name="别的小区")
    b1, b2 = make_building(estate, "1"), make_building(estate, "2")
    u1, u2 = make_unit(b1, "1"), make_unit(b2, "1")
    zhang, li = make_person("张三", "13812341234"), make_person("李四", "13912341234")
    room1 = make_room(u1, "101", owner=zhang)
    room2 = make_room(u2, "201", owner=li)
    other_building = make_building(other, "9")
    make_room(make_unit(other_building, "1"), "101")
    staff = {}
    for username, role, place, openid in [
        ("shequ", "community_staff", estate.community, "o-shequ"),
        ("lzz1", "building_head", b1, "o-lzz1"),
        ("lzz2", "building_head", b2, "o-lzz2"),
        ("fuwu", "provider", estate.community, "o-fuwu"),
        ("jiedao", "street_admin", estate.community.street, "o-jiedao"),
        ("waibu", "community_staff", other.community, "o-waibu"),
    ]:
        user = make_staff_user(username, role=role, scope=place, display_name=username)
        user.openid = openid
        staff[username] = user.id
    bind("o-res1", room1.id, zhang.id)
    bind("o-res2", room2.id, li.id)
    db.session.commit()
    return TicketWorld(estate.id, other.id, b1.id, b2.id, other_building.id, u1.id, room1.id, room2.id, staff)
