"""Vote test world: a small estate with every kind of voter (two-room owner, co-owned room, tenant, family,
developer rooms), and helpers to publish a plan and open a vote."""

from __future__ import annotations

from datetime import datetime, timedelta

from app import clock
from app.extensions import db
from app.models import ResidentAccount, RoomBinding
from app.services import ballots, plans
from factories import make_building, make_estate, make_person, make_room, make_staff_user, make_unit

T0 = clock.localize(datetime(2026, 11, 1, 9, 0))
OPENS = T0 + timedelta(days=15)
CLOSES = T0 + timedelta(days=30)
# Heads: zhang (101+102), li (201, co-owned with wang), zhao (202), developer (2-101, 2-102), liu (2-201).
TOTAL_AREA, TOTAL_HEADS = "570.00", 5


def bind(openid: str, room, person=None, relation: str = "owner", status: str = "bound") -> ResidentAccount:
    """A resident account bound to a room (person set as the binding service sets it for owners)."""
    account = ResidentAccount(openid=openid, subscribed=True, person_id=person.id if person else None)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation=relation, status=status))
    db.session.flush()
    return account


def build_estate() -> dict:
    """The estate, its staff and its accounts; returns ids (commits)."""
    estate = make_estate(name="幸福里小区")
    u1, u2 = make_unit(make_building(estate, "1"), "1"), make_unit(make_building(estate, "2"), "1")
    zhang, li, wang, zhao, liu = (make_person(n, None) for n in ("张建国", "李秀英", "王某", "赵德明", "刘海燕"))
    developer = make_person("幸福里置业", None, is_developer=True)
    r101 = make_room(u1, "101", area="100.00", owner=zhang)
    make_room(u1, "102", area="50.00", owner=zhang)
    r201 = make_room(u1, "201", area="80.00", owner=li, co_owners=(wang,))
    r202 = make_room(u1, "202", area="90.00", owner=zhao)
    make_room(u2, "101", area="120.00", owner=developer, developer_held=True)
    make_room(u2, "102", area="60.00", owner=developer, developer_held=True)
    r2201 = make_room(u2, "201", area="70.00", owner=liu)
    staff = make_staff_user("shequ", role="community_staff", scope=estate.community)
    head = make_staff_user("lzz1", role="building_head", scope=u1.building)
    head.openid = "o-head-1"
    bind("o-zhang", r101, zhang)
    bind("o-li", r201, li)
    bind("o-wang", r201, li)  # the co-owner's account acts for the room's designated voter
    bind("o-liu", r2201, liu)
    bind("o-tenant", r202, relation="tenant")
    bind("o-family", r101, relation="family")
    bind("o-pending", r202, zhao, status="pending")
    db.session.commit()
    return {"estate_id": estate.id, "staff_id": staff.id, "room_101": r101.id, "room_201": r201.id,
            "room_202": r202.id, "building_1": u1.building_id, "head_id": head.id}


def publish_plan(staff, estate_id: int, **fields):
    """A published plan with a fee standard."""
    plan = plans.create_plan(staff, estate_id, title="幸福里小区物业管理方案", area_scope="光明路88号院内1-2号楼",
                             body="全文……", management_modes=["menu", "volunteer"], fee_mode="per_area",
                             fee_amount_fen=30, fee_cycle="quarterly", **fields)
    return plans.publish(staff, plan.id)


def open_vote(staff, estate_id: int, **rules):
    """Announce at T0, open at T0+15 days (snapshot taken); returns the vote."""
    plan = publish_plan(staff, estate_id)
    with clock.frozen_at(T0):
        vote = plans.put_to_vote(staff, plan.id, OPENS, CLOSES, **rules)
    ballots.open_due(OPENS)
    db.session.refresh(vote)
    return vote
