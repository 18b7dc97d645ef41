"""The context a real resident has, for the engine's dialogue tests: an estate with buildings, a building head and
community staff, a bound room, service providers with a catalogue, and a linked staff member. Ids only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app import clock
from app.extensions import db
from app.models import CatalogItem, Provider, ResidentAccount, RoomBinding
from factories import make_building, make_community, make_estate, make_person, make_room, make_staff_user, make_unit

# Monday 23 Nov 2026, 09:00 Shanghai: inside every service's hours, so numbers are BX-20261123-…, FW-20261123-….
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=clock.TZ)


@dataclass
class ChatWorld:
    """Ids of 幸福小区: buildings 3 (units 1, 2), 4, 5, 7 and 9; rooms 3号楼2单元501/502 and 4号楼1单元101."""

    estate: int
    b3: int
    b4: int
    b7: int
    room501: int
    room502: int
    room4101: int
    head: int  # building head of 3号楼, linked to WeChat as "o-head3"
    worker: int  # the provider's worker, linked as "o-worker"


def build_chat_world() -> ChatWorld:
    """Create the estate, its people and its service catalogue in the current app context, and commit."""
    community = make_community(name="光明社区")
    estate = make_estate(community, "幸福小区")
    b3, b4, b5, b7, b9 = (make_building(estate, n) for n in ("3", "4", "5", "7", "9"))
    u31, u32 = make_unit(b3, "1"), make_unit(b3, "2")
    u41 = make_unit(b4, "1")
    for building in (b5, b7, b9):
        make_unit(building, "1")
    room501 = make_room(u32, "501", owner=make_person("张建国"))
    room502 = make_room(u32, "502")
    make_room(u31, "101")
    room4101 = make_room(u41, "101")
    head = make_staff_user("head3", role="building_head", scope=b3, display_name="王楼长")
    head.public_phone, head.openid = "13900001111", "o-head3"
    staff = make_staff_user("shequ", role="community_staff", scope=community, display_name="李社工")
    staff.public_phone = "0571-88880000"
    worker = make_staff_user("fuwu", role="provider", scope=community, display_name="刘师傅")
    worker.openid = "o-worker"
    provider = Provider(name="邻家便民维修部", kind="company", public_phone="0571-88880003",
                        street_id=community.street_id, members=[worker])
    db.session.add(provider)
    db.session.flush()
    for code, name, unit, price, opens, closes in [
        ("unlock", "开锁", "次", 5000, "07:00", "22:00"), ("drain", "疏通下水", "次", 6000, "08:00", "18:00"),
        ("plumbing", "水暖维修", "次", 4000, "08:00", "18:00"),
        ("housekeeping", "家政保洁", "小时", 3500, "08:00", "17:00"),
    ]:
        db.session.add(CatalogItem(estate_id=estate.id, code=code, name=name, unit=unit, price_fen=price,
                                   market_price_fen=price * 2, opens=opens, closes=closes, providers=[provider]))
    db.session.commit()
    return ChatWorld(estate.id, b3.id, b4.id, b7.id, room501.id, room502.id, room4101.id, head.id, worker.id)


def live_in(openid: str, *room_ids: int, status: str = "bound") -> ResidentAccount:
    """A resident whose WeChat account is bound as owner to the rooms given (in that order), committed."""
    account = ResidentAccount(openid=openid, subscribed=True)
    db.session.add(account)
    db.session.flush()
    for room_id in room_ids:
        db.session.add(RoomBinding(account_id=account.id, room_id=room_id, relation="owner", status=status))
    db.session.commit()
    return account


def register_with_contacts():
    """阳光小区 3号楼2单元501 with 王楼长 (3号楼), 李社工 (the community) and 赵楼长 (4号楼); not committed."""
    estate = make_estate(name="阳光小区")
    building = make_building(estate, "3")
    room = make_room(make_unit(building, "2"), "501", owner=make_person())
    head = make_staff_user("head3", role="building_head", scope=building, display_name="王楼长")
    head.public_phone = "13900001111"
    staff = make_staff_user("staff1", role="community_staff", scope=estate.community, display_name="李社工")
    staff.public_phone = "0571-88880000"
    make_staff_user("other-head", role="building_head", scope=make_building(estate, "4"), display_name="赵楼长")
    db.session.flush()
    return estate, building, room
