"""Demo data for 菜单式 services: 邻家便民维修部 (staff user fuwu), the 幸福里小区 catalogue, a few orders, 公益岗 hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import (Building, CatalogItem, Community, Estate, Provider, ResidentAccount, Room, RoomBinding,
                        StaffUser, Unit, VolunteerHours)
from app.services import orders, providers
from app.services.demo import OLD_ESTATE

# code, name, description, unit, price, market price (fen), opens, closes
CATALOGUE = [
    ("unlock", "开锁", "普通门锁，需出示身份证和房屋证明", "次", 5000, 8000, "07:00", "22:00"),
    ("drain", "疏通下水", "厨房、卫生间下水道及马桶疏通", "次", 6000, 10000, "08:00", "20:00"),
    ("plumbing", "水龙头更换", "含人工，龙头可自备或按进价另付", "个", 3000, 5000, "08:00", "18:00"),
    ("appliance", "家电清洗", "挂机空调、油烟机、洗衣机深度清洗", "台", 8000, 15000, "08:00", "18:00"),
    ("electrical", "电路检修", "开关插座、跳闸排查（材料另计）", "次", 4000, 7000, "08:00", "18:00"),
    ("housekeeping", "家政保洁", "日常保洁，2小时起", "小时", 3500, 5000, "08:00", "17:00"),
]
RESIDENTS = [("demo-svc-zhang", "3", "1", "502"), ("demo-svc-li", "4", "2", "301")]


def _room(estate: Estate, building: str, unit: str, number: str) -> Room | None:
    return db.session.scalar(select(Room).join(Building, Room.building_id == Building.id)
                             .join(Unit, Room.unit_id == Unit.id)
                             .where(Room.estate_id == estate.id, Building.number == building,
                                    Unit.number == unit, Room.number == number))


def _bind(openid: str, room: Room) -> None:
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if account is None:
        account = ResidentAccount(openid=openid, subscribed=True)
        db.session.add(account)
        db.session.flush()
    if db.session.scalar(select(RoomBinding.id).where(RoomBinding.account_id == account.id,
                                                      RoomBinding.room_id == room.id)) is None:
        db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status="bound",
                                   method="demo", decided_at=clock.now()))


def _provider(name: str, kind: str, phone: str, street_id: int, members: list[StaffUser]) -> Provider:
    provider = db.session.scalar(select(Provider).where(Provider.name == name))
    if provider is None:
        provider = Provider(name=name, kind=kind, public_phone=phone, street_id=street_id, members=members)
        db.session.add(provider)
        db.session.flush()
    return provider


def seed() -> None:
    """Add the provider, catalogue, two bound demo residents with orders, and 公益岗 hours; safe to run twice."""
    estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
    fuwu = db.session.scalar(select(StaffUser).where(StaffUser.username == "fuwu"))
    if estate is None or fuwu is None:
        return
    street_id = db.session.scalar(select(Community.street_id).where(Community.id == estate.community_id))
    shop = _provider("邻家便民维修部", "company", fuwu.public_phone or "0431-88880003", street_id, [fuwu])
    station = _provider("光明社区公益岗服务站", "public_post", "0431-88880002", street_id, [])
    items = {}
    for order_, (code, name, text, unit, price, market, opens, closes) in enumerate(CATALOGUE):
        item = db.session.scalar(select(CatalogItem).where(CatalogItem.estate_id == estate.id,
                                                           CatalogItem.code == code))
        if item is None:
            item = CatalogItem(estate_id=estate.id, code=code, name=name, description=text, unit=unit,
                               price_fen=price, market_price_fen=market, opens=opens, closes=closes,
                               sort_order=order_, providers=[shop])
            db.session.add(item)
        items[code] = item
    for openid, building, unit, number in RESIDENTS:
        room = _room(estate, building, unit, number)
        if room is not None:
            _bind(openid, room)
    db.session.commit()
    _orders(items, fuwu)
    _hours(estate, station, db.session.scalar(select(StaffUser).where(StaffUser.username == "shequ")) or fuwu)


def _at(days: int, hour: int) -> datetime:
    return datetime.combine(clock.now().date() + timedelta(days=days), time(hour), tzinfo=clock.TZ)


def _orders(items: dict[str, CatalogItem], fuwu: StaffUser) -> None:
    """Last week's unlock (done, paid, rated 5), tomorrow's drain (accepted), a cleaning booking (new)."""
    accounts = {a.openid for a in db.session.scalars(select(ResidentAccount).where(
        ResidentAccount.openid.in_([r[0] for r in RESIDENTS])))}
    if "demo-svc-zhang" not in accounts:
        return
    booked, visit = _at(-6, 20), _at(-6, 21)  # computed before the clock is set back
    drain_at, cleaning_at = _at(1, 10), _at(2, 9)
    with clock.frozen_at(booked):
        done, _ = orders.place_order("demo-svc-zhang", items["unlock"].id, visit, client_key="demo-1",
                                     note="钥匙锁在屋里了")
        if done.status == "ordered":
            orders.accept(fuwu, done.number)
    with clock.frozen_at(visit + timedelta(minutes=35)):
        if done.status == "accepted":
            orders.complete(fuwu, done.number)
            providers.record_payment(fuwu, done, 5000, "cash")
            orders.confirm("demo-svc-zhang", done.number, 5, "二十分钟就到了，师傅很细心")
    drain, _ = orders.place_order("demo-svc-zhang", items["drain"].id, drain_at, client_key="demo-2",
                                  note="卫生间地漏返味、下水慢")
    if drain.status == "ordered":
        orders.accept(fuwu, drain.number)
    if "demo-svc-li" in accounts:
        orders.place_order("demo-svc-li", items["housekeeping"].id, cleaning_at, client_key="demo-3",
                           note="擦窗户和厨房，约3小时")


def _hours(estate: Estate, station: Provider, recorder: StaffUser) -> None:
    room = _room(estate, "1", "1", "101")
    day = clock.now().date() - timedelta(days=2)
    exists = db.session.scalar(select(VolunteerHours.id).where(VolunteerHours.provider_id == station.id,
                                                               VolunteerHours.task == "1-2号楼楼道清扫"))
    if room is not None and exists is None:
        providers.record_hours(recorder, station, estate_id=estate.id, worked_on=day, hours="3",
                               task="1-2号楼楼道清扫", rate_yuan="15", room_id=room.id)
