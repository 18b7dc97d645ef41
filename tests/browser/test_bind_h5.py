"""In a real browser at phone width: the H5 binding page — consent, a wrong code, the right code, then my data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ResidentAccount
from app.services import binding
from app.wechat import h5
from factories import make_building, make_estate, make_person, make_room, make_unit

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def code(app):
    with app.app_context():
        estate = make_estate(name="幸福里小区")
        room = make_room(make_unit(make_building(estate, "5"), "1"), "302", owner=make_person("张建国", "13812345678"))
        db.session.commit()
        return binding.issue_codes([room], actor="staff:1")[0].code


def test_bind_page_consent_code_and_my_data(page, app, live_server, code, screenshot_dir):
    page.set_viewport_size(PHONE)
    page.context.add_cookies([{"name": h5.OPENID_COOKIE, "url": live_server,
                               "value": h5.sign_openid(app.config["SECRET_KEY"], "o-browser")}])
    page.goto("/h5/bind")
    assert "个人信息处理说明" in page.content()
    page.click("text=同意并继续")
    assert page.locator("[role=alert]").inner_text() == "请勾选“我已阅读并同意”。"
    page.check("input[name=agree]")
    page.click("text=同意并继续")
    assert "已记录您的同意" in page.locator("[role=status]").inner_text()
    page.fill("#code", "ZZZZ 2222")
    page.click("button:has-text('绑定')")
    assert "绑定码不对" in page.locator("[role=alert]").inner_text()
    page.fill("#code", code[:4] + " " + code[4:])
    page.click("button:has-text('绑定')")
    assert "绑定成功：幸福里小区5号楼1单元302室" in page.locator("[role=status]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "h5-bind.png"), full_page=True)
    page.click("text=我的信息")
    content = page.content()
    assert "138****5678" in content and "13812345678" not in content
    with app.app_context():
        account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-browser"))
        assert [b.relation for b in account.active_bindings()] == ["owner"]
