"""Dialogue tables for binding in chat: consent, code, request, approval by a linked building head, my data, erase."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BindingRequest, ResidentAccount, StaffUser
from app.services import binding, staff_links
from chatkit import run_table
from factories import make_building, make_estate, make_person, make_room, make_staff_user, make_unit


@pytest.fixture
def place(ctx):
    estate = make_estate(name="幸福里小区")
    building = make_building(estate, "5")
    room = make_room(make_unit(building, "1"), "302", owner=make_person("张建国", "13812345678"))
    head = make_staff_user("lzz5", role="building_head", scope=building, display_name="张师傅")
    db.session.commit()
    [issued] = binding.issue_codes([room], actor="staff:1")
    return {"room": room, "code": issued.code, "head": head}


def bound_relations(openid: str) -> list[str]:
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    return [b.relation for b in account.active_bindings()] if account else []


def test_bind_with_a_code(place):
    run_table("o-zhang", [
        ("绑定房屋", "个人信息处理说明"),
        ("同意", "8位绑定码"),
        ("ZZZZ2222", "绑定码不对"),
        (place["code"][:4] + " " + place["code"][4:], "绑定成功：幸福里小区5号楼1单元302室（业主）"),
        ("我的信息", "138****5678"),
    ])
    assert bound_relations("o-zhang") == ["owner"]


def test_code_sent_first_waits_for_consent(place):
    run_table("o-quick", [
        (place["code"].lower(), "同意后会用您发来的绑定码"),
        ("同意", "绑定成功"),
    ])
    run_table("o-late", [(place["code"], "同意后会用")])
    run_table("o-late", [("同意", "已经用过了")])
    assert bound_relations("o-late") == []


def test_declining_consent_binds_nothing(place):
    run_table("o-no", [("我要绑定", "个人信息处理说明"), ("取消", "已取消")])
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-no"))
    assert not binding.has_consent(account)


def test_request_then_approval_by_the_building_head_in_chat(place):
    code = staff_links.create_link_code(place["head"])
    run_table("o-head", [(f"关联 {code}", "已关联工作账号：张师傅")])
    run_table("o-wife", [
        ("我是5号楼302的家属", "个人信息处理说明"),
        ("同意", "8位绑定码"),
        ("申请", "幸福里小区5号楼1单元302室。请告诉我台账上登记的业主姓名"),
        ("张建国", "后四位"),
        ("5678", "1 业主本人 2 家属 3 租户"),
        ("2", "已提交绑定申请"),
    ])
    request_id = db.session.scalar(select(BindingRequest.id))
    run_table("o-stranger", [(f"同意 {request_id}", "")])  # not staff: not treated as a command
    assert db.session.scalar(select(BindingRequest.status)) == "pending"
    run_table("o-head", [(f"同意 {request_id}", "已通过"), (f"拒绝 {request_id}", "已经处理过了")])
    assert bound_relations("o-wife") == ["family"]


def test_request_for_a_room_that_does_not_exist(place):
    run_table("o-x", [
        ("绑定", "个人信息处理说明"), ("同意", "绑定码"), ("申请", "楼号、单元和房号"),
        ("5号楼1单元999", "没有找到5号楼1单元999室"),
        ("5号楼1单元302", "请告诉我台账上登记的业主姓名"),
    ])


def test_erase_account_in_chat(place):
    run_table("o-zhang", [("绑定", "个人信息"), ("同意", "绑定码"), (place["code"], "绑定成功")])
    run_table("o-zhang", [("注销账号", "确认注销"), ("算了", "")])
    assert bound_relations("o-zhang") == ["owner"]
    run_table("o-zhang", [("注销账号", "确认注销"), ("确认注销", "已注销")])
    assert bound_relations("o-zhang") == []
    assert db.session.scalar(select(StaffUser).where(StaffUser.openid == "o-zhang")) is None
