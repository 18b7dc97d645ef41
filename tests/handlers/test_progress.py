"""Dialogue tests of 查询办理进度: the resident's tickets and service orders in one reply, with links to both pages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db, kv
from app.handlers.messages import TextReply
from app.models import CatalogItem, Room
from app.models.ticket import Ticket
from app.services import orders
from chat_world import NOW
from chatkit import bind_account, run_table, send

NOTHING = "您还没有报修、投诉或预约上门服务的记录。"
TICKETS_PAGE = "http://localhost/h5/tickets"
ORDERS_PAGE = "http://localhost/h5/services/orders"


def _report_and_book(openid: str) -> None:
    """A bound resident reports a shared light and books a drain clearing, as in chat."""
    run_table(openid, [("楼道灯坏了", "请确认报修"), ("1", "BX-20261123-0001")])
    run_table(openid, [("我家马桶堵了", "什么时候上门"), ("明天下午三点", "请确认预约"), ("1", "FW-20261123-0001")])


def test_an_unbound_resident_without_records_gets_a_plain_answer(world):
    replies = run_table("o-none", [("进度", NOTHING), ("我报修的灯修好了吗", NOTHING)])
    assert replies == [NOTHING, NOTHING]
    assert kv().get("conv:o-none") is None


def test_tickets_and_orders_in_one_reply_with_both_links(world):
    bind_account("o-zhang", db.session.get(Room, world.room501))
    _report_and_book("o-zhang")
    [reply] = run_table("o-zhang", [("我报修的灯修好了吗", "您的报修和投诉")])
    lines = reply.splitlines()
    assert "BX-20261123-0001 楼道灯坏了：新建" in lines
    assert f"详情和评价：{TICKETS_PAGE}" in lines
    assert "您的上门服务订单：" in lines
    assert "FW-20261123-0001 疏通下水 11月24日（周二）15:00：待接单" in lines
    assert f"订单详情：{ORDERS_PAGE}" in lines
    assert NOTHING not in reply


def test_progress_follows_the_work_of_staff(world):
    bind_account("o-zhang", db.session.get(Room, world.room501))
    _report_and_book("o-zhang")
    ticket_id = db.session.scalar(select(Ticket.id))
    run_table("o-head3", [(f"接单 {ticket_id}", "已受理")])
    run_table("o-worker", [("接 FW-20261123-0001", "已接单")])
    [reply] = run_table("o-zhang", [("进度", "BX-20261123-0001 楼道灯坏了：已受理")])
    assert "FW-20261123-0001 疏通下水 11月24日（周二）15:00：已接单" in reply


def test_only_orders_are_listed_when_there_are_no_tickets(world):
    bind_account("o-li", db.session.get(Room, world.room502))
    run_table("o-li", [("我要开锁", "什么时候上门"), ("1", "请确认预约"), ("1", "FW-20261123-0001")])
    [reply] = run_table("o-li", [("查进度", "您的上门服务订单")])
    assert "FW-20261123-0001 开锁 11月23日（周一）10:00：待接单" in reply and ORDERS_PAGE in reply
    assert "报修" not in reply and TICKETS_PAGE not in reply


def test_an_unbound_reporter_sees_their_tickets(world):
    send("o-scan", kind="scan", scene=f"b:{world.b4}")
    run_table("o-scan", [("单元门关不上", "4号楼的几单元"), ("1", "请确认报修"), ("1", "BX-20261123-0001")])
    reply = send("o-scan", kind="click", event_key="my_tickets")
    assert isinstance(reply, TextReply)
    assert "BX-20261123-0001 单元门关不上：新建" in reply.text and TICKETS_PAGE in reply.text
    assert "上门服务订单" not in reply.text and ORDERS_PAGE not in reply.text


def test_no_one_sees_another_residents_records(world):
    bind_account("o-zhang", db.session.get(Room, world.room501))
    bind_account("o-neighbour", db.session.get(Room, world.room502))
    _report_and_book("o-zhang")
    run_table("o-neighbour", [("进度", NOTHING)])


def test_only_the_five_newest_orders_are_listed(world):
    bind_account("o-many", db.session.get(Room, world.room501))
    item = db.session.scalar(select(CatalogItem).where(CatalogItem.code == "unlock"))
    for day in range(6):
        orders.place_order("o-many", item.id, NOW.replace(hour=10) + timedelta(days=day + 1), client_key=f"k{day}")
    [reply] = run_table("o-many", [("进度", "您的上门服务订单")])
    assert reply.count("FW-20261123-") == 5
    assert "FW-20261123-0006" in reply and "FW-20261123-0001" not in reply
