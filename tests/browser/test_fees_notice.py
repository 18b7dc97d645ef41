"""In a real browser at phone width: the collection notice shows per-building aggregates and a chart, names no room
or owner, fits the screen, and links to the PNG for the WeChat group."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.fee import Bill, FeeSchedule
from app.services import billing, payments

pytestmark = pytest.mark.browser


@pytest.fixture
def estate_id(app):
    from fees.fee_world import build  # tests/ is on the path (rootdir conftest); fees/ is a namespace package

    with app.app_context():
        world = build()
        billing.generate_bills(db.session.get(FeeSchedule, world.schedule_id), date(2026, 1, 1))
        for key in ("1-101", "2-101", "2-102"):
            bill = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms[key]))
            payments.record_payment(None, bill.id, bill.amount_fen, "cash", client_key=key)
        return world.estate_id


def test_notice_page_on_a_phone(page, estate_id, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/h5/fees/notice/{estate_id}")
    assert "收缴情况公示" in page.title()
    rows = page.locator("#buildings tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split() == ["1号楼", "3", "1", "2", "33.3%", "33.3%"]
    assert rows.nth(1).inner_text().split()[:4] == ["2号楼", "3", "2", "1"]
    chart = page.locator("svg.chart")
    assert chart.is_visible() and chart.bounding_box()["width"] > 200
    assert chart.locator("rect").count() == 2 + 8  # legend + two buildings × (track + bar) × (household, amount)
    text = page.inner_text("body")
    assert "应缴 6 户，已缴清 3 户，未缴清 3 户" in text
    assert not re.search(r"\d{3}室|业主|138\d{8}", text), "the notice names a room or a person"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "fees-notice-phone.png"), full_page=True)
    with page.expect_response(re.compile(r".*\.png\?period=.*")) as response:
        page.click("text=保存图片，发到小区群")
    assert response.value.status == 200 and response.value.headers["content-type"] == "image/png"
