"""In a real browser: the office edits a posted price in 元 (orders keep theirs), reads orders and the provider
directory, downloads a statement; the provider fuwu sees orders but not the catalogue."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import CatalogItem, Order
from app.services.demo import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo()


def _login(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")


def test_office_edits_price_and_reads_orders_and_directory(page, app, demo, screenshot_dir):
    _login(page, "shequ")
    page.click("nav.nav >> text=服务目录")
    page.wait_for_url("**/admin/services/catalogue")
    assert "50元/次" in page.content() and "80元" in page.content()
    page.screenshot(path=str(screenshot_dir / "services-catalogue-desktop.png"), full_page=True)
    page.click("table.data >> text=开锁")
    page.fill("#price", "55.5")
    page.click("button.primary")
    page.wait_for_url("**/admin/services/catalogue")
    assert "已保存：开锁 55.50元/次" in page.content()
    with app.app_context():
        item = db.session.scalar(select(CatalogItem).where(CatalogItem.code == "unlock"))
        assert item.price_fen == 5550
        kept = db.session.scalar(select(Order).where(Order.item_code == "unlock"))
        assert kept.price_fen == 5000  # last week's order keeps its price
    page.click("table.data >> text=开锁")
    page.fill("#price", "abc")
    page.click("button.primary")
    assert "价格请填数字" in page.locator(".flash.error").inner_text()

    page.click("nav.nav >> text=服务订单")
    assert page.locator("table.data tbody tr").count() == 3
    page.click("table.data tr:has-text('开锁') a")
    page.wait_for_url(re.compile(r".*/admin/services/orders/\d+$"))
    assert "50元/次（下单时价格）" in page.content() and "5分" in page.content()

    page.click("nav.nav >> text=服务单位")
    assert "邻家便民维修部" in page.content()
    page.screenshot(path=str(screenshot_dir / "services-providers-desktop.png"), full_page=True)
    with page.expect_download() as download:
        page.click("table.data tr:has-text('邻家便民维修部') a:has-text('对账单')")
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert book["订单明细"]["A1"].value.startswith("邻家便民维修部")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/services/orders")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "services-orders-phone.png"), full_page=True)


def test_provider_sees_orders_not_catalogue(page, demo):
    _login(page, "fuwu")
    nav = page.locator("nav.nav").inner_text()
    assert "服务订单" in nav and "服务目录" not in nav
    page.click("nav.nav >> text=服务订单")
    assert page.locator("table.data tbody tr").count() == 3
    assert page.goto("/admin/services/catalogue").status == 404
