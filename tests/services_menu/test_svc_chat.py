"""Dialogue tables of 菜单式 services in chat: 开锁多少钱 → price → book → time → confirm → order number →
provider 接/完成 → resident 评价; cancel, reschedule, a proposed time, and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Order, OutboxMessage, Room
from chatkit import run_table, send
from svc_world import NOW, bind


@pytest.fixture
def wang(ctx, svc):
    """A resident bound to one room (3号楼2单元502) of 幸福里小区; the clock at Monday 09:00."""
    bind("o-wang", db.session.get(Room, svc.room2))
    db.session.commit()
    with clock.frozen_at(NOW):
        yield svc


def _order() -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).order_by(Order.id.desc()))


def _last_message(openid: str) -> str:
    return db.session.scalars(select(OutboxMessage.payload).where(OutboxMessage.openid == openid)
                              .order_by(OutboxMessage.id.desc())).first()["text"]


def test_price_book_accept_complete_rate(wang):
    replies = run_table("o-wang", [
        ("开锁多少钱", "开锁：50元/次（市场价约80元，省30元）"),
        ("1", "请问什么时候上门"),
        ("明天下午三点", "请确认预约"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    assert "回复 1 预约" in replies[0] and "服务时间 07:00-22:00" in replies[0]
    assert "1 11月23日（周一）10:00" in replies[1]  # the first free slot, an hour or more ahead
    assert "11月24日（周二）15:00" in replies[2] and "幸福里小区3号楼2单元502室" in replies[2]
    assert "接 FW-20261123-0001" in _last_message("o-worker-a")
    run_table("o-worker-b", [("接 FW-20261123-0001", "已接单 FW-20261123-0001：开锁，幸福里小区3号楼2单元502室")])
    assert "老刘开锁已接单" in _last_message("o-wang")
    run_table("o-worker-a", [("接 fw202611230001", "已经有师傅接单了")])
    run_table("o-worker-b", [("完成 FW-20261123-0001", "收款 FW-20261123-0001 50 现金"),
                             ("收款 FW-20261123-0001 50 现金", "已登记收款 FW-20261123-0001：50元（现金）"),
                             ("收款 FW-20261123-0001 50 转账", "已经登记过收款")])
    assert "【收据】订单 FW-20261123-0001" in _last_message("o-wang")
    assert "师傅已完工" in [m.payload["text"] for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.openid == "o-wang").order_by(OutboxMessage.id))][-2]
    run_table("o-wang", [("评价 5 师傅很麻利", "谢谢您的评价！FW-20261123-0001 已确认完工（5分）")])
    order = _order()
    assert (order.status, order.rating, order.comment, order.price_fen) == ("confirmed", 5, "师傅很麻利", 5000)
    assert [e.action for e in order.events] == ["place", "accept", "complete", "rate"]


def test_service_need_date_then_hour_change_time_then_cancel(wang):
    replies = run_table("o-wang", [
        ("我家马桶堵了", "请问什么时候上门"),
        ("后天", "几点呢"),
        ("2", "请确认预约"),
        ("2", "请问什么时候上门"),
        ("尽快", "请确认预约"),
        ("确认", "预约成功"),
    ])
    assert replies[1].startswith("11月25日（周三）几点呢？")
    assert all("11月25日" in line for line in replies[1].splitlines()[2:])
    assert "疏通下水：60元/次" in replies[2] and "11月25日（周三）09:00" in replies[2]
    assert "11月23日（周一）10:00" in replies[4]
    order = _order()
    assert (order.item_name, order.note, order.scheduled_at) == ("疏通下水", "我家马桶堵了", NOW + timedelta(hours=1))
    run_table("o-wang", [
        ("改时间", "现在约的是11月23日（周一）10:00"),
        ("明天上午10点", "已改到11月24日（周二）10:00"),
        ("我的订单", f"{order.number} 疏通下水 11月24日（周二）10:00 待接单"),
        ("取消订单", f"已取消 {order.number}"),
        ("取消订单", "没有可以取消的服务订单"),
    ])
    assert _order().status == "cancelled"
    assert "居民已取消" in _last_message("o-worker-a")


def test_provider_proposes_another_time_and_resident_agrees(wang):
    run_table("o-wang", [("我家马桶堵了", "什么时候上门"), ("明天上午9点", "请确认"), ("1", "预约成功")])
    number = _order().number
    run_table("o-worker-a", [(f"改 {number} 明天下午4点", "已把新时间11月24日（周二）16:00发给居民")])
    assert "回复“同意改时间”" in _last_message("o-wang")
    run_table("o-wang", [("同意改时间", "改到11月24日（周二）16:00")])
    order = _order()
    assert (order.status, order.scheduled_at.hour, order.provider_id) == ("accepted", 16, wang.provider_a)
    # Accepted: no more online cancellation; the provider's phone is given instead.
    run_table("o-wang", [("取消订单", "师傅已经接单，不能在线取消了，请联系邻家便民维修部（电话 0431-88880003）")])


@pytest.mark.parametrize("when, expected", [
    ("今天早上8点", "这个时间已经过去了"),
    ("明天晚上11点", "服务时间是每天 07:00-22:00"),
])
def test_bad_times_are_refused_and_slots_offered_again(wang, when, expected):
    replies = run_table("o-wang", [("我要开锁", "什么时候上门"), (when, expected)])
    assert "请问什么时候上门" in replies[1]
    assert db.session.scalar(select(Order.id)) is None


def test_a_taken_slot_is_refused(wang):
    run_table("o-wang", [("我家马桶堵了", "什么时候"), ("明天下午两点", "请确认"), ("1", "预约成功")])
    run_table("o-wang", [("卫生间马桶又堵了", "什么时候"), ("明天下午两点", "这个时间已经约满了")])


def test_unbound_resident_is_told_to_bind_first(ctx, svc):
    with clock.frozen_at(NOW):
        run_table("o-nobody", [("开锁多少钱", "请先绑定房屋"), ("我想预约上门服务", "要先绑定房屋")])
        # "接 FW…" from someone who is not a provider is not a command: nothing is accepted.
        send("o-nobody", "接 FW-20261123-0001")
    assert db.session.scalar(select(Order.id)) is None


def test_two_bound_rooms_ask_which_and_no_thanks_ends(ctx, svc):
    with clock.frozen_at(NOW):
        run_table("o-zhang", [("开锁多少钱", "50元/次"), ("不用了", "好的")])
        replies = run_table("o-zhang", [("开锁多少钱", "50元/次"), ("1", "到哪一户上门"), ("2", "什么时候"),
                                        ("1", "请确认预约")])
    assert "1 3号楼2单元501室 2 3号楼2单元502室" in replies[1] and "502室" in replies[3]


def test_double_confirmation_makes_one_order(wang):
    run_table("o-wang", [("我要开锁", "什么时候"), ("1", "请确认预约"), ("1", "预约成功")])
    send("o-wang", "1")  # a repeated "1" after the booking starts nothing new
    assert len(db.session.scalars(select(Order)).all()) == 1


def test_which_service_list_with_link_and_a_photo_goes_with_the_order(wang):
    replies = run_table("o-wang", [
        ("我想预约上门服务", "请问需要哪项上门服务？回复数字"),
        ("3", "请问什么时候上门"),
        ("1", "请确认预约"),
    ])
    assert "1 开锁 50元/次" in replies[0] and "3 家政保洁 35元/小时" in replies[0]
    assert "家电清洗" not in replies[0] and "http://localhost/h5/services" in replies[0]
    photo = send("o-wang", kind="image", media_id="MEDIA-1", pic_url="http://x/1.jpg")
    assert "照片收到了" in photo.text and "请确认预约" in photo.text
    run_table("o-wang", [("1", "预约成功")])
    order = _order()
    assert (order.item_name, order.photo_media_id) == ("家政保洁", "MEDIA-1")


def test_resident_keeps_the_time_then_every_provider_declines(wang):
    run_table("o-wang", [("我要开锁", "什么时候"), ("明天上午9点", "请确认"), ("1", "预约成功")])
    number = _order().number
    run_table("o-worker-a", [(f"改 {number}", "请选择上门时间"),
                             (f"改 {number} 明天下午4点", "已把新时间")])
    run_table("o-wang", [("不同意改时间", "保持原时间11月24日（周二）09:00")])
    run_table("o-worker-a", [(f"拒 {number} 没空", f"已记录不接 {number}")])
    run_table("o-worker-b", [(f"拒 {number}", f"已记录不接 {number}")])
    assert "暂时没有师傅能上门" in _last_message("o-wang")
    assert _order().status == "declined"
    run_table("o-wang", [("取消订单", "没有可以取消的服务订单")])


def test_rating_in_words_and_a_low_one_is_a_complaint(wang):
    run_table("o-wang", [("我要开锁", "什么时候"), ("1", "请确认"), ("1", "预约成功")])
    number = _order().number
    run_table("o-worker-a", [(f"接 {number}", "已接单"), (f"完成 {number}", "已完工")])
    run_table("o-wang", [("评价 二分 来得太慢", "抱歉这次没让您满意")])
    order = _order()
    assert (order.rating, order.comment, order.complaint) == (2, "来得太慢", True)
