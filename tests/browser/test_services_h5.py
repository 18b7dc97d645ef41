"""In a real browser at phone width: the 菜单式 catalogue with prices and savings, booking a slot (a double submit
makes one order), my orders and cancelling, and the provider accepting on the work page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, StaffUser
from app.services.demo import seed_demo
from app.wechat import h5

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(app):
    """The demo data set with the services seed; fuwu linked to a WeChat user so the work page opens."""
    with app.app_context():
        seed_demo()
        fuwu = db.session.scalar(select(StaffUser).where(StaffUser.username == "fuwu"))
        fuwu.openid = "demo-fuwu-openid"
        db.session.commit()


def _as(page, app, live_server, openid: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": h5.OPENID_COOKIE, "url": live_server,
                               "value": h5.sign_openid(app.config["SECRET_KEY"], openid)}])


def _fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _orders_of(app, openid: str) -> list[Order]:
    with app.app_context():
        return list(db.session.scalars(select(Order).where(Order.openid == openid).order_by(Order.id)))


def test_catalogue_booking_cancel_and_provider_accepts(page, app, live_server, demo, screenshot_dir):
    page.set_viewport_size(PHONE)
    _as(page, app, live_server, "demo-svc-li")
    page.goto("/h5/services")
    cards = page.locator(".card.service")
    assert cards.count() == 6
    unlock = page.locator(".card.service[data-code=unlock]")
    assert "50元/次" in unlock.inner_text().replace("\n", "") and "市场价 80元" in unlock.inner_text()
    assert "省30元" in unlock.inner_text()
    assert _fits_width(page), "the catalogue scrolls sideways on a phone"
    page.screenshot(path=str(screenshot_dir / "services-catalogue-phone.png"), full_page=True)

    before = len(_orders_of(app, "demo-svc-li"))
    page.locator(".card.service[data-code=drain] a.book").click()
    page.wait_for_url(re.compile(r".*/h5/services/book/\d+$"))
    options = page.locator("#slot option")
    assert options.count() > 5
    chosen = options.nth(3).get_attribute("value")
    page.select_option("#slot", chosen)
    assert "4号楼2单元301室" in page.locator("#room").inner_text()
    page.fill("#note", "厨房水槽堵了")
    assert _fits_width(page)
    page.screenshot(path=str(screenshot_dir / "services-book-phone.png"), full_page=True)
    # Two submits of the same form (an impatient double tap that beats the button's disabling).
    page.evaluate("() => { const f = document.getElementById('book'); "
                  "HTMLFormElement.prototype.submit.call(f); HTMLFormElement.prototype.submit.call(f); }")
    page.wait_for_url(re.compile(r".*/h5/services/orders/FW-\d{8}-\d{4}\?new=1$"))
    assert "预约成功" in page.content()
    after = _orders_of(app, "demo-svc-li")
    assert len(after) == before + 1
    order = after[-1]
    assert (order.item_name, order.price_fen, order.note) == ("疏通下水", 6000, "厨房水槽堵了")
    assert order.scheduled_at.isoformat() == chosen
    page.screenshot(path=str(screenshot_dir / "services-order-phone.png"), full_page=True)

    page.goto("/h5/services/orders")
    assert order.number in page.content()
    page.click(f"text={order.number}")
    page.click("button[value=cancel]")
    assert page.locator("#status").inner_text() == "已取消"

    # The housekeeping booking of the demo: the provider accepts it on the work page.
    [cleaning] = [o for o in after if o.item_code == "housekeeping"]
    _as(page, app, live_server, "demo-fuwu-openid")
    page.goto("/h5/services/work")
    assert order.number not in page.content()  # cancelled orders leave the to-do list
    page.click(f"text={cleaning.number}")
    page.click("button[value=accept]")
    assert page.locator("#status").inner_text() == "已接单"
    assert _fits_width(page)
    page.screenshot(path=str(screenshot_dir / "services-work-phone.png"), full_page=True)
    for name in ("services-catalogue-phone", "services-book-phone", "services-work-phone"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000
