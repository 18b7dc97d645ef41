"""A small two-street world for the dashboard and API tests, with one user per role."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from factories import (make_building, make_community, make_estate, make_person, make_room, make_staff_user,
                       make_street, make_unit)

# Phone numbers of the world; each must show only as 138****xxxx etc.
PHONES = {"A1-1-101": "13812341234", "A1-2-201": "13900001111", "A2-1-101": "13722223333",
          "B1-1-101": "13644445555", "D1-1-101": "13555556666"}


@dataclass
class World:
    """Ids of: street 1 → community 1 (estates A, B) and community 2 (estate C); street 2 → community 3 (D).

    Ids, not objects: requests must not share the test's app context (Flask would reuse it, and with it `g`
    and the session, hiding bugs), so the world is built in a context of its own that is closed afterwards.
    """

    street1: int
    street2: int
    community1: int
    community2: int
    community3: int
    estate_a: int
    estate_b: int
    estate_c: int
    estate_d: int
    a1: int
    a2: int
    a1_unit2: int
    rooms: dict


def build_world() -> World:
    """Create the world in the current app context and commit."""
    s1, s2 = make_street("红旗街道"), make_street("东风街道")
    c1, c2, c3 = make_community(s1, "光明社区"), make_community(s1, "向阳社区"), make_community(s2, "前进社区")
    a = make_estate(c1, "幸福里小区", six_haves={"gate": None, "cleaning": None}, management_modes=["menu"],
                    has_owners_committee=True)
    b = make_estate(c1, "和平楼", estate_type="single_building")
    c = make_estate(c2, "向阳小区")
    d = make_estate(c3, "前进小区")
    a1, a2 = make_building(a, "1"), make_building(a, "2")
    a1u1, a1u2, a2u1 = make_unit(a1, "1"), make_unit(a1, "2"), make_unit(a2, "1")
    rooms = {
        "A1-1-101": make_room(a1u1, "101", owner=make_person("张建国", PHONES["A1-1-101"]),
                              co_owners=(make_person("李秀英", None),)),
        "A1-2-201": make_room(a1u2, "201", owner=make_person("王桂英", PHONES["A1-2-201"])),
        "A2-1-101": make_room(a2u1, "101", owner=make_person("赵志强", PHONES["A2-1-101"])),
        "A2-1-601": make_room(a2u1, "601", owner=make_person("幸福里置业", None, is_developer=True),
                              developer_held=True),
        "B1-1-101": make_room(make_unit(make_building(b, "1"), ""), "101",
                              owner=make_person("孙丽华", PHONES["B1-1-101"])),
        "D1-1-101": make_room(make_unit(make_building(d, "1"), "1"), "101",
                              owner=make_person("周明", PHONES["D1-1-101"])),
    }
    make_staff_user("street_admin", role="street_admin", scope=s1)
    make_staff_user("community_staff", role="community_staff", scope=c1)
    make_staff_user("building_head", role="building_head", scope=a1)
    make_staff_user("unit_head", role="unit_head", scope=a1u2)
    make_staff_user("provider", role="provider", scope=c1)
    db.session.commit()
    return World(s1.id, s2.id, c1.id, c2.id, c3.id, a.id, b.id, c.id, d.id, a1.id, a2.id, a1u2.id,
                 {key: room.id for key, room in rooms.items()})
