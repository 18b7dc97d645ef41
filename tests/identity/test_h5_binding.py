"""The H5 binding page: sign-in through (fake) WeChat OAuth, consent, code, request, my data, deletion."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BindingRequest, ResidentAccount, RoomBinding
from app.services import binding
from app.wechat import h5
from factories import make_building, make_estate, make_person, make_room, make_unit


@pytest.fixture
def room(app):
    with app.app_context():
        estate = make_estate(name="幸福里小区")
        room = make_room(make_unit(make_building(estate, "5"), "1"), "302", owner=make_person("张建国", "13812345678"))
        db.session.commit()
        [issued] = binding.issue_codes([room], actor="staff:1")
        return {"id": room.id, "estate_id": estate.id, "code": issued.code}


def sign_in(app, client, openid: str) -> None:
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], openid))


def test_unknown_visitor_is_sent_to_wechat_oauth(client):
    response = client.get("/h5/bind")
    assert response.status_code == 302
    target = urlparse(response.headers["Location"])
    assert target.path == "/connect/oauth2/authorize"
    query = parse_qs(target.query)
    assert query["scope"] == ["snsapi_base"] and query["state"] == ["/h5/bind?"]


def test_forged_cookie_is_not_accepted(app, client):
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid("another-secret", "o-victim"))
    assert client.get("/h5/bind").status_code == 302


def test_consent_then_code_binds_the_cookie_openid_only(app, client, room):
    sign_in(app, client, "o-zhang")
    page = client.get("/h5/bind").get_data(as_text=True)
    assert "个人信息处理说明" in page
    refused = client.post("/h5/bind", data={"action": "code", "code": room["code"]})
    assert refused.status_code == 422 and "请先阅读并同意" in refused.get_data(as_text=True)
    client.post("/h5/bind", data={"action": "consent", "agree": "1"})
    # A form field naming someone else's openid is ignored: only the signed cookie counts.
    done = client.post("/h5/bind", data={"action": "code", "code": room["code"], "openid": "o-other"})
    assert "绑定成功" in done.get_data(as_text=True)
    with app.app_context():
        account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-zhang"))
        assert [b.relation for b in account.active_bindings()] == ["owner"]
        assert db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-other")) is None


def test_request_for_unknown_room_and_for_a_real_one(app, client, room):
    sign_in(app, client, "o-li")
    client.post("/h5/bind", data={"action": "consent", "agree": "1"})
    form = {"action": "request", "estate": str(room["estate_id"]), "building": "5", "unit": "1", "room": "999",
            "name": "李秀英", "last4": "5678", "relation": "family"}
    missing = client.post("/h5/bind", data=form)
    assert missing.status_code == 422 and "没有找到这个房屋" in missing.get_data(as_text=True)
    ok = client.post("/h5/bind", data={**form, "room": "302"})
    assert "申请已提交" in ok.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(BindingRequest.status)) == "pending"
        assert db.session.scalar(select(RoomBinding.id)) is None


def test_me_export_and_delete(app, client, room):
    sign_in(app, client, "o-zhang")
    client.post("/h5/bind", data={"action": "consent", "agree": "1"})
    client.post("/h5/bind", data={"action": "code", "code": room["code"]})
    page = client.get("/h5/me").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    exported = client.get("/h5/me/export.json").get_json()
    assert exported["绑定房屋"][0]["房屋"] == "5号楼1单元302室"
    assert client.post("/h5/me/delete", data={"confirm": "好"}).status_code == 422
    gone = client.post("/h5/me/delete", data={"confirm": "注销"})
    assert gone.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-zhang")) is None


def test_csrf_is_enforced_on_h5_forms(app, client, room):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        sign_in(app, client, "o-zhang")
        response = client.post("/h5/bind", data={"action": "consent", "agree": "1"})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-zhang")) is None or \
            not binding.has_consent(binding.account_for("o-zhang"))


@pytest.fixture
def fake_wechat(app):
    """The offline WeChat in a thread, with the app's client pointed at it."""
    from app.wechat.fake_server import serve_in_thread

    base = serve_in_thread("127.0.0.1", 0, appid=app.config["WECHAT_APPID"], secret="h5-test-secret")
    saved = {k: app.config.get(k) for k in ("WECHAT_API_BASE", "WECHAT_SECRET")}
    app.config.update(WECHAT_API_BASE=base, WECHAT_SECRET="h5-test-secret")
    app.extensions.pop("linli_wechat_client", None)
    yield base
    app.config.update(saved)
    app.extensions.pop("linli_wechat_client", None)


def test_oauth_round_trip_sets_the_cookie_and_codes_are_single_use(app, client, fake_wechat):
    import requests

    start = client.get("/h5/me")
    authorize = start.headers["Location"].split("#")[0] + "&openid=o-from-wechat"
    back = requests.get(authorize, allow_redirects=False, timeout=5).headers["Location"]
    path = back.split("//", 1)[1].split("/", 1)[1]
    signed_in = client.get("/" + path)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].startswith("/h5/me")
    assert "linli_openid" in signed_in.headers.get("Set-Cookie", "")
    assert client.get("/h5/me").status_code == 200
    fresh = app.test_client()
    assert fresh.get("/" + path).status_code == 400  # the same code cannot be used twice
