"""Dialogue tables for fees in chat: owed, how to pay, standard, records, collection figures, tenants and strangers;
a building head's visit log, refused outside their building; a resident typing the same words is not a command."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import ResidentAccount, RoomBinding
from app.models.fee import Bill, FeeSchedule, Visit
from app.services import billing, payments
from chatkit import run_table
from fee_world import build

NOW = datetime(2026, 2, 20, 10)


@pytest.fixture
def world(app):
    with app.app_context():
        w = build()
        billing.generate_bills(db.session.get(FeeSchedule, w.schedule_id), date(2026, 1, 1))
        bill = db.session.scalar(select(Bill).where(Bill.room_id == w.rooms["1-102"]))
        payments.record_payment(None, bill.id, 5000, "cash", client_key="chat")
        return w


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def test_owner_asks_what_they_owe_and_how_to_pay(ctx, world):
    replies = run_table("o-1-102", [
        ("我还欠多少物业费", "还欠 40.45 元"),
        ("物业费怎么交", "交给本楼楼栋长"),
        ("收费标准是多少", "0.30 元/㎡/月，按季缴纳"),
        ("缴费记录", "最近的缴费记录"),
        ("小区物业费收缴情况", "按户收缴率"),
    ])
    assert "1号楼1单元102室" in replies[0] and "2026年1月—3月物业费" in replies[0] and "/h5/fees" in replies[0]
    assert "1号楼楼栋长" in replies[1]
    assert "100.50㎡，每期 90.45 元" in replies[2]
    assert "50.00 元" in replies[3] and "收据号 LL2026" in replies[3]
    assert "应缴6户，已缴清0户" in replies[4] and "/h5/fees/notice/" in replies[4]
    for reply in replies:
        assert "业主1" not in reply and "1381234" not in reply


def test_a_paid_up_owner_is_thanked(ctx, world):
    bill = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["1-101"]))
    payments.record_payment(None, bill.id, bill.amount_fen, "cash", client_key="all")
    run_table("o-1-101", [("物业费交了没有", "没有未缴的费用")])


def test_stranger_and_tenant(ctx, world):
    run_table("o-stranger", [("我家物业费欠多少", "要先绑定您家的房屋")])
    account = ResidentAccount(openid="o-tenant", subscribed=True)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=world.rooms["2-101"], relation="tenant", status="bound"))
    db.session.commit()
    run_table("o-tenant", [("物业费欠多少", "和房东联系"), ("小区物业费收缴情况", "按户收缴率")])


def test_building_head_logs_a_visit(ctx, world):
    replies = run_table("o-head-1", [
        ("已上门 102 答应月底交", "已记录：1号楼1单元102室「答应月底交」，约定2月28日前缴"),
        ("已上门101不在家", "1号楼1单元101室「不在家」"),
        ("已上门 2号楼 101 答应交", "没有找到101室"),
        ("已上门 305 不在家", "没有找到305室"),
    ])
    assert "该户目前欠费 40.45 元" in replies[0]
    assert db.session.scalar(select(func.count(Visit.id))) == 2


def test_residents_words_like_a_visit_are_not_a_command(ctx, world):
    reply = run_table("o-1-101", [("已上门 102 答应月底交", "")])[0]
    assert "已记录" not in reply
    assert db.session.scalar(select(func.count(Visit.id))) == 0


def test_a_head_asking_about_home_services_is_not_logging_a_visit(ctx, world):
    reply = run_table("o-head-1", [("上门服务怎么预约", "")])[0]
    assert "请这样写" not in reply and "已记录" not in reply
