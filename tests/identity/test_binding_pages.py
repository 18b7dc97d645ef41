"""Dashboard identity pages: requests beside the register, slips for one's own scope, linking WeChat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, BindingCode, BindingRequest
from app.services import binding
from factories import login, make_building, make_estate, make_person, make_room, make_staff_user, make_unit


@pytest.fixture
def place(app):
    with app.app_context():
        estate = make_estate(name="幸福里小区")
        b5, b6 = make_building(estate, "5"), make_building(estate, "6")
        room = make_room(make_unit(b5, "1"), "302", owner=make_person("张建国", "13812345678"))
        make_room(make_unit(b6, "1"), "101", owner=make_person("王芳", "13900001111"))
        make_staff_user("shequ", role="community_staff", scope=estate.community)
        make_staff_user("lzz5", role="building_head", scope=b5)
        make_staff_user("lzz6", role="building_head", scope=b6)
        make_staff_user("fuwu", role="provider", scope=estate.community)
        db.session.commit()
        binding.record_consent("o-li")
        request = binding.request_binding("o-li", room, "张建国", "5678", "owner")
        return {"estate": estate.id, "request": request.id, "b5": b5.id}


def test_requests_page_shows_register_side_by_side_for_own_building_only(app, client, place):
    login(client, "lzz5")
    page = client.get("/admin/binding/requests").get_data(as_text=True)
    assert "5号楼1单元302室" in page and "5678" in page and "一致" in page
    assert "13812345678" not in page
    client = app.test_client()
    login(client, "lzz6")
    assert "5号楼1单元302室" not in client.get("/admin/binding/requests").get_data(as_text=True)
    assert client.post(f"/admin/binding/requests/{place['request']}", data={"decision": "approve"}).status_code == 404


def test_provider_cannot_open_identity_pages(client, place):
    login(client, "fuwu")
    assert client.get("/admin/binding/requests").status_code == 404
    assert client.post(f"/admin/estates/{place['estate']}/binding-codes").status_code == 404


def test_approve_once_then_refused(app, client, place):
    login(client, "shequ")
    assert "张建国" in client.get("/admin/binding/requests").get_data(as_text=True)
    first = client.post(f"/admin/binding/requests/{place['request']}", data={"decision": "approve"},
                        follow_redirects=True)
    assert "已通过" in first.get_data(as_text=True)
    second = client.post(f"/admin/binding/requests/{place['request']}", data={"decision": "reject"},
                         follow_redirects=True)
    assert "已经处理过了" in second.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(BindingRequest.status)) == "approved"
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view",
                                                          AuditEntry.subject_type == "binding_request"))


def test_building_head_prints_slips_for_own_building_only(app, client, place):
    login(client, "lzz5")
    response = client.post(f"/admin/estates/{place['estate']}/binding-codes")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    with app.app_context():
        codes = db.session.scalars(select(BindingCode)).all()
        assert len(codes) == 1 and codes[0].room.building_id == place["b5"]


def test_slips_without_the_print_font_say_so_and_keep_the_old_codes(app, client, place, monkeypatch):
    from app.services import fonts

    login(client, "lzz5")
    assert client.post(f"/admin/estates/{place['estate']}/binding-codes").status_code == 200
    with app.app_context():
        before = db.session.scalars(select(BindingCode.code_hash)).all()

    def missing():
        raise fonts.FontMissing(fonts.MISSING)

    monkeypatch.setattr(fonts, "register_pdf_font", missing)
    response = client.post(f"/admin/estates/{place['estate']}/binding-codes")
    assert response.status_code == 503 and "中文字体" in response.get_data(as_text=True)
    with app.app_context():  # the printed codes still work: nothing was revoked for a print that failed
        assert db.session.scalars(select(BindingCode.code_hash)).all() == before
        assert set(db.session.scalars(select(BindingCode.status))) == {"active"}


def test_link_wechat_shows_a_code(client, place):
    login(client, "lzz5")
    page = client.post("/admin/wechat-link", data={"action": "code"}).get_data(as_text=True)
    assert "关联 " in page
