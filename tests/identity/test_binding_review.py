"""Approving a binding request against the register: a request that does not match cannot be approved from chat,
only in the dashboard with a typed reason that lands in the audit log; a matching one still approves from chat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, BindingRequest, OutboxMessage, ResidentAccount, Room
from app.services import binding, staff_links
from chatkit import run_table
from factories import login, make_building, make_estate, make_person, make_room, make_staff_user, make_unit


@pytest.fixture
def place(app):
    with app.app_context():
        estate = make_estate(name="幸福里小区")
        building = make_building(estate, "5")
        room = make_room(make_unit(building, "1"), "302", owner=make_person("张建国", "13812345678"))
        head = make_staff_user("lzz5", role="building_head", scope=building, display_name="张师傅")
        make_staff_user("shequ", role="community_staff", scope=estate.community)
        db.session.commit()
        code = staff_links.create_link_code(head)
        return {"room": room.id, "head": head.id, "link": code}


def _request(app, place, openid: str, name: str, last4: str) -> int:
    with app.app_context():
        binding.record_consent(openid)
        return binding.request_binding(openid, db.session.get(Room, place["room"]), name, last4, "owner").id


def _bound(app, openid: str) -> list[int]:
    with app.app_context():
        account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
        return [b.room_id for b in account.active_bindings()] if account else []


def test_impostor_request_cannot_be_approved_from_chat(app, place):
    with app.app_context():
        run_table("o-head", [(f"关联 {place['link']}", "已关联工作账号")])
    request_id = _request(app, place, "o-impostor", "李四", "5678")  # the phone digits are right, the name is not
    with app.app_context():
        notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.openid == "o-head"))
        text = notice.payload["text"]
        assert "姓名不一致" in text and "后台" in text and f"同意 {request_id}" not in text
        run_table("o-head", [(f"同意 {request_id}", "不能在对话中通过")])
        assert db.session.get(BindingRequest, request_id).status == "pending"
        assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "approve_binding")).all()
    assert _bound(app, "o-impostor") == []


def test_dashboard_approval_of_a_mismatch_needs_a_typed_reason(app, client, place):
    request_id = _request(app, place, "o-wife", "李秀英", "5678")
    login(client, "shequ")
    page = client.get("/admin/binding/requests").get_data(as_text=True)
    assert "不一致" in page and "核对说明" in page
    refused = client.post(f"/admin/binding/requests/{request_id}", data={"decision": "approve"},
                          follow_redirects=True).get_data(as_text=True)
    assert "请填写核对说明" in refused
    assert _bound(app, "o-wife") == []
    approved = client.post(f"/admin/binding/requests/{request_id}",
                           data={"decision": "approve", "reason": "本人持房产证到社区，系业主妻子"},
                           follow_redirects=True).get_data(as_text=True)
    assert "已通过" in approved
    assert _bound(app, "o-wife") == [place["room"]]
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "approve_binding"))
        assert entry.detail["reason"] == "本人持房产证到社区，系业主妻子"
        assert entry.detail["mismatch"] == ["姓名不一致"]


def test_matching_request_still_approves_from_chat_and_shows_the_comparison(app, place):
    with app.app_context():
        run_table("o-head", [(f"关联 {place['link']}", "已关联工作账号")])
    request_id = _request(app, place, "o-owner", "张建国", "5678")
    with app.app_context():
        notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.openid == "o-head"))
        assert "与台账一致" in notice.payload["text"] and f"同意 {request_id}" in notice.payload["text"]
        run_table("o-head", [(f"同意 {request_id}", "已通过")])
    assert _bound(app, "o-owner") == [place["room"]]
