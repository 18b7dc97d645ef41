"""A small world for service-order tests: 幸福里小区 with two bound residents, two providers and four items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app import clock
from app.extensions import db
from app.models import CatalogItem, Provider, ResidentAccount, RoomBinding
from factories import make_building, make_community, make_estate, make_person, make_room, make_staff_user, make_unit

# Every test runs at this moment unless it freezes another: Monday 23 Nov 2026, 09:00 Shanghai.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=clock.TZ)


@dataclass
class SvcWorld:
    """Ids of the world."""

    estate: int
    other_estate: int
    street: int
    room: int
    room2: int
    foreign_room: int
    provider_a: int
    provider_b: int
    worker_a: int
    worker_b: int
    office: int
    unlock: int
    drain: int
    cleaning: int
    paused: int


def bind(openid: str, room) -> ResidentAccount:
    """A resident account bound (status bound) to a room."""
    account = ResidentAccount(openid=openid, subscribed=True)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status="bound"))
    db.session.flush()
    return account


def build_svc_world() -> SvcWorld:
    """Create and commit the world."""
    community = make_community(name="光明社区")
    estate = make_estate(community, "幸福里小区")
    other = make_estate(community, "和平街17号楼")
    unit = make_unit(make_building(estate, "3"), "2")
    room, room2 = make_room(unit, "501", owner=make_person("张建国")), make_room(unit, "502")
    foreign = make_room(make_unit(make_building(other, "1"), ""), "101")
    bind("o-zhang", room)
    account = db.session.query(ResidentAccount).filter_by(openid="o-zhang").one()
    db.session.add(RoomBinding(account_id=account.id, room_id=room2.id, relation="family", status="bound"))
    bind("o-li", foreign)
    worker_a = make_staff_user("fuwu", role="provider", scope=community, display_name="王师傅")
    worker_b = make_staff_user("fuwu2", role="provider", scope=community, display_name="刘师傅")
    worker_a.openid, worker_b.openid = "o-worker-a", "o-worker-b"
    office = make_staff_user("shequ", role="community_staff", scope=community)
    street_id = community.street_id
    a = Provider(name="邻家便民维修部", kind="company", public_phone="0431-88880003", street_id=street_id,
                 members=[worker_a])
    b = Provider(name="老刘开锁", kind="worker", street_id=street_id, members=[worker_b])
    db.session.add_all([a, b])
    db.session.flush()
    unlock = CatalogItem(estate_id=estate.id, code="unlock", name="开锁", unit="次", price_fen=5000,
                         market_price_fen=8000, opens="07:00", closes="22:00", providers=[a, b])
    drain = CatalogItem(estate_id=estate.id, code="drain", name="疏通下水", unit="次", price_fen=6000,
                        market_price_fen=10000, opens="08:00", closes="18:00", providers=[a])
    cleaning = CatalogItem(street_id=street_id, code="housekeeping", name="家政保洁", unit="小时", price_fen=3500,
                           market_price_fen=5000, opens="08:00", closes="17:00", providers=[a])
    paused = CatalogItem(estate_id=estate.id, code="appliance", name="家电清洗", unit="台", price_fen=8000,
                         market_price_fen=12000, active=False, providers=[a])
    db.session.add_all([unlock, drain, cleaning, paused])
    db.session.commit()
    return SvcWorld(estate.id, other.id, street_id, room.id, room2.id, foreign.id, a.id, b.id, worker_a.id,
                    worker_b.id, office.id, unlock.id, drain.id, cleaning.id, paused.id)
