"""Dialogue tables of home services through respond(): which service, which home, when, confirm → FW-… number.

The resident has a bound room in 幸福小区 (chat_world.py), whose catalogue has 开锁, 疏通下水, 水暖维修 and 家政保洁.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.clock import TZ
from app.extensions import db, kv
from app.models import Order, Room
from chat_world import live_in
from chatkit import bind_account, run_table


def _home(openid: str, world, room_id: int | None = None):
    """A resident bound to 3号楼2单元501 (or the room given)."""
    return bind_account(openid, db.session.get(Room, room_id or world.room501))


def _orders() -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(select(Order).order_by(Order.id)))


def test_home_service_dialogue(world):
    _home("o-service", world)
    replies = run_table("o-service", [
        ("我家马桶堵了", "请问什么时候上门"),
        ("明天下午三点", "请确认预约"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    assert "疏通下水：60元/次" in replies[1] and "幸福小区3号楼2单元501室" in replies[1]
    assert "11月24日（周二）15:00" in replies[1]
    assert kv().get("conv:o-service") is None
    [order] = _orders()
    assert (order.item_code, order.room_id, order.status, order.note) == ("drain", world.room501, "ordered",
                                                                          "我家马桶堵了")
    assert order.scheduled_at == datetime(2026, 11, 24, 15, 0, tzinfo=TZ)


def test_home_service_asks_which_service(world):
    _home("o-which", world)
    replies = run_table("o-which", [
        ("我想预约上门服务", "哪项上门服务"),
        ("4", "什么时候上门"),
        ("下午", "11月23日（周一）13:00"),
        ("2", "什么时候上门"),
        ("尽快", "11月23日（周一）10:00"),
        ("取消", "已取消"),
    ])
    assert "1 开锁 50元/次" in replies[0] and "4 家政保洁 35元/小时" in replies[0]
    assert "服务时间 08:00-17:00" in replies[1] and "家政保洁" in replies[2]
    assert _orders() == [] and kv().get("conv:o-which") is None


def test_a_time_given_at_confirmation_corrects_it(world):
    _home("o-fix2", world)
    run_table("o-fix2", [
        ("明天上午来开锁", "11月24日（周二）08:00"),
        ("改到后天下午三点吧", "11月25日（周三）15:00"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    [order] = _orders()
    assert (order.item_code, order.scheduled_at) == ("unlock", datetime(2026, 11, 25, 15, 0, tzinfo=TZ))


def test_home_service_asks_which_home_when_two_rooms_are_bound(world):
    live_in("o-door", world.room501, world.room4101)
    run_table("o-door", [
        ("我家水龙头坏了", "到哪一户上门？回复数字：1 3号楼2单元501室 2 4号楼1单元101室"),
        ("2", "什么时候上门"),
        ("周六上午", "幸福小区4号楼1单元101室"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    [order] = _orders()
    assert (order.item_code, order.room_id) == ("plumbing", world.room4101)
    assert order.scheduled_at == datetime(2026, 11, 28, 8, 0, tzinfo=TZ)


def test_price_questions_without_a_binding_are_answered_without_a_flow(world):
    run_table("o-price", [("开锁多少钱", "请先绑定房屋")])
    assert kv().get("conv:o-price") is None


def test_price_questions_offer_a_booking_to_a_bound_resident(world):
    _home("o-price2", world)
    replies = run_table("o-price2", [("开锁多少钱", "开锁：50元/次"), ("1", "请问什么时候上门")])
    assert "回复 1 预约，回复 2 不用了" in replies[0] and "服务时间 07:00-22:00" in replies[1]
    run_table("o-price2", [("算了", "已取消"), ("开锁多少钱", "开锁：50元/次"), ("2", "好的")])
    assert kv().get("conv:o-price2") is None and _orders() == []


def test_back_steps_back(world):
    live_in("o-back", world.room501, world.room4101)
    run_table("o-back", [
        ("我家马桶堵了", "到哪一户上门"),
        ("1", "什么时候上门"),
        ("返回", "到哪一户上门"),
        ("2", "什么时候上门"),
        ("明天上午9点", "幸福小区4号楼1单元101室"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    assert _orders()[0].room_id == world.room4101


def test_bound_room_fills_the_service_address(world):
    _home("o-bound", world)
    replies = run_table("o-bound", [
        ("我家水龙头坏了", "什么时候上门"),
        ("后天", "11月25日（周三）几点呢"),
        ("2", "幸福小区3号楼2单元501室"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    assert "到哪一户" not in replies[0] and "水暖维修" in replies[2] and "11月25日（周三）09:00" in replies[2]
    assert _orders()[0].room_id == world.room501
