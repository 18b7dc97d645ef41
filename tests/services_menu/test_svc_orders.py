"""Placing orders: every refusal, idempotency by client key, price snapshots, numbering, notifications."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import CatalogItem, Order, OrderEvent, OutboxMessage
from app.services import catalogue, orders
from app.services.errors import DomainError
from svc_world import NOW

TOMORROW_10 = datetime(2026, 11, 24, 10, 0, tzinfo=clock.TZ)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_order_snapshots_price_numbers_and_notifies(ctx, svc):
    with clock.frozen_at(NOW):
        order, created = orders.place_order("o-zhang", svc.unlock, TOMORROW_10, client_key="k1", note="钥匙锁屋里了")
    assert created and order.number == "FW-20261123-0001"
    assert (order.item_name, order.price_fen, order.market_price_fen, order.status) == ("开锁", 5000, 8000, "ordered")
    assert order.room_id == svc.room  # the first bound room by default
    assert order.provider_id is None  # two providers: open to both until one accepts
    texts = {m.openid: m.payload["text"] for m in db.session.scalars(select(OutboxMessage))}
    assert set(texts) == {"o-zhang", "o-worker-a", "o-worker-b"}
    assert "接 FW-20261123-0001" in texts["o-worker-a"] and "钥匙锁屋里了" in texts["o-worker-a"]
    assert "50元/次" in texts["o-zhang"] and "11月24日（周二）10:00" in texts["o-zhang"]
    with clock.frozen_at(NOW):
        second, _ = orders.place_order("o-zhang", svc.drain, TOMORROW_10, client_key="k2")
    assert second.number == "FW-20261123-0002" and second.provider_id == svc.provider_a


def test_price_change_never_alters_existing_orders(ctx, svc):
    with clock.frozen_at(NOW):
        order, _ = orders.place_order("o-zhang", svc.unlock, TOMORROW_10, client_key="k1")
        office = db.session.get(__import__("app.models", fromlist=["StaffUser"]).StaffUser, svc.office)
        item = db.session.get(CatalogItem, svc.unlock)
        catalogue.save_item(office, item=item, estate_id=svc.estate, street_id=None, code="unlock", name="开锁（普通锁）",
                            description="", unit="次", price="65", market_price="80", opens="07:00", closes="22:00",
                            active=True, provider_ids=[svc.provider_a])
        later, _ = orders.place_order("o-zhang", svc.unlock, TOMORROW_10 + timedelta(hours=1), client_key="k2")
    db.session.expire_all()
    first = db.session.get(Order, order.id)
    assert (first.item_name, first.price_fen) == ("开锁", 5000)
    assert (later.item_name, later.price_fen) == ("开锁（普通锁）", 6500)


def test_same_client_key_returns_the_first_order(ctx, svc):
    with clock.frozen_at(NOW):
        first, created = orders.place_order("o-zhang", svc.unlock, TOMORROW_10, client_key="form-1")
        again, created_again = orders.place_order("o-zhang", svc.unlock, TOMORROW_10, client_key="form-1")
    assert created and not created_again and again.id == first.id
    assert _count(Order) == 1 and _count(OrderEvent) == 1
    assert _count(OutboxMessage) == 3  # not six


@pytest.mark.parametrize("case, expected", [
    ("inactive", "已暂停"),
    ("past", "已经过去"),
    ("early", "服务时间是每天 08:00-18:00"),
    ("late", "服务时间是每天 08:00-18:00"),
    ("far", "30天以内"),
    ("foreign_room", "已绑定的房屋"),
    ("unbound", "请先绑定房屋"),
    ("other_estate_item", "不在您小区的服务目录"),
    ("long_note", "不要超过"),
    ("no_key", "页面已过期"),
    ("no_time", "请选择上门时间"),
])
def test_bad_orders_are_refused_and_nothing_is_written(ctx, svc, case, expected):
    args = {"openid": "o-zhang", "item_id": svc.drain, "scheduled_at": TOMORROW_10, "client_key": "k"}
    if case == "inactive":
        args["item_id"] = svc.paused
    elif case == "past":
        args["scheduled_at"] = NOW - timedelta(minutes=5)
    elif case == "early":
        args["scheduled_at"] = TOMORROW_10.replace(hour=7, minute=59)
    elif case == "late":
        args["scheduled_at"] = TOMORROW_10.replace(hour=18)
    elif case == "far":
        args["scheduled_at"] = TOMORROW_10 + timedelta(days=40)
    elif case == "foreign_room":
        args["room_id"] = svc.foreign_room
    elif case == "unbound":
        args["openid"] = "o-stranger"
    elif case == "other_estate_item":
        args["openid"] = "o-li"  # bound in 和平街17号楼, whose catalogue has no 疏通下水 of 幸福里
    elif case == "long_note":
        args["note"] = "很" * 301
    elif case == "no_key":
        args["client_key"] = " "
    elif case == "no_time":
        args["scheduled_at"] = None
    with clock.frozen_at(NOW), pytest.raises(DomainError) as error:
        orders.place_order(**args)
    assert expected in error.value.message
    db.session.rollback()
    assert _count(Order) == 0 and _count(OutboxMessage) == 0 and _count(OrderEvent) == 0


def test_street_wide_item_reaches_every_estate_and_a_full_slot_is_refused(ctx, svc):
    with clock.frozen_at(NOW):
        # 家政保洁 is posted for the whole street: 和平街17号楼 can book it too.
        order, _ = orders.place_order("o-li", svc.cleaning, TOMORROW_10, client_key="a")
        assert order.estate_id == svc.other_estate
        # One provider does one job per slot: the same hour is now full.
        with pytest.raises(DomainError, match="约满"):
            orders.place_order("o-zhang", svc.cleaning, TOMORROW_10, client_key="b")
        slots = catalogue.free_slots(db.session.get(CatalogItem, svc.cleaning))
    assert TOMORROW_10 not in slots and TOMORROW_10 + timedelta(hours=1) in slots
    assert all(s >= NOW + timedelta(hours=1) and 8 <= s.hour < 17 for s in slots)


def test_price_answer_and_estate_override(ctx, svc):
    from app.models import Estate

    estate = db.session.get(Estate, svc.estate)
    text, item = catalogue.price_answer(estate, "unlock")
    assert item.id == svc.unlock
    assert text.startswith("开锁：50元/次（市场价约80元，省30元）") and "回复 1 预约" in text
    text, item = catalogue.price_answer(estate, "appliance")  # paused: not offered
    assert item is None and "开锁" in text and "家电清洗" not in text
    assert catalogue.price_answer(None, "unlock")[0].startswith("请先绑定房屋")


@pytest.mark.parametrize("raw, fen", [("50", 5000), ("49.5", 4950), ("¥0.01", 1), ("1,200元", 120000)])
def test_parse_yuan(raw, fen):
    assert catalogue.parse_yuan(raw) == fen and catalogue.yuan(fen) in raw.replace(",", "") + "0"


@pytest.mark.parametrize("raw", ["-1", "1.234", "五十", "20000", "nan", "inf"])
def test_parse_yuan_refuses(raw):
    with pytest.raises(DomainError):
        catalogue.parse_yuan(raw)
