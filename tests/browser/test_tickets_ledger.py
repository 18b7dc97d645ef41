"""In a real browser: the ticket ledger highlights overdue rows, filters, opens a ticket, accepts it; phone width."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from factories import DEFAULT_PASSWORD, make_building, make_estate, make_staff_user, make_unit

pytestmark = pytest.mark.browser


@pytest.fixture
def ledger_world(app):
    """An estate with one overdue water ticket and one fresh lighting ticket; a community staff login."""
    from app.services.tickets import create_ticket

    with app.app_context():
        estate = make_estate(name="浏览器小区")
        building = make_building(estate, "5")
        make_unit(building, "1")
        make_staff_user("bshequ", role="community_staff", scope=estate.community, display_name="社区小王")
        db.session.commit()
        with clock.frozen_at(clock.now() - timedelta(days=3)):
            late = create_ticket(openid="o-b1", kind="report", category="water", description="地下室水管爆了",
                                 building_id=building.id).ticket.number
        fresh = create_ticket(openid="o-b2", kind="report", category="lighting", description="楼道灯一闪一闪",
                              building_id=building.id).ticket.number
    return late, fresh


def test_ledger_overdue_filter_detail_accept(page, ledger_world, screenshot_dir):
    late, fresh = ledger_world
    page.goto("/login")
    page.fill("#username", "bshequ")
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")
    page.click("nav.nav >> text=报修台账")
    page.wait_for_url("**/admin/tickets")
    rows = page.locator("#ledger tbody tr")
    assert rows.count() == 2
    by_unit = page.locator("a.button", has_text="按单元打印")  # the sheet with a page per unit (issue 6)
    assert by_unit.count() == 1 and by_unit.get_attribute("href").endswith(".pdf?units=1")
    overdue = page.locator(f"tr[data-number='{late}']")
    assert "overdue" in overdue.get_attribute("class")
    colour = overdue.locator("td").nth(1).evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(253, 236, 234)", colour  # highlighted red
    assert "overdue" not in (page.locator(f"tr[data-number='{fresh}']").get_attribute("class") or "")
    page.screenshot(path=str(screenshot_dir / "tickets-ledger-desktop.png"), full_page=True)
    page.select_option("select[name=category]", "lighting")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*category=lighting.*"))
    assert page.locator("#ledger tbody tr").count() == 1
    page.click(f"text={fresh}")
    page.wait_for_url(re.compile(r".*/admin/tickets/\d+$"))
    page.click("button[value=accept]")
    page.wait_for_url(re.compile(r".*/admin/tickets/\d+$"))
    assert "已受理" in page.locator("h1").inner_text()
    assert page.locator("ol.timeline li").count() == 2
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/tickets")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "tickets-ledger-phone.png"), full_page=True)
