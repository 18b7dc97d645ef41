"""In a real browser under the Content-Security-Policy: the dashboard's and H5 pages' scripts still work, nothing on
them is refused, and an injected inline script is."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CatalogItem, Estate
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.wechat import h5

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app):
    """The demo data set (staff logins, estates, the services catalogue) and two tickets for the ledger."""
    from app.services.tickets import create_ticket

    with app.app_context():
        seed_demo()
        estate = db.session.scalar(select(Estate).order_by(Estate.id))
        building = estate.buildings[0]
        for text in ("楼道灯坏了", "水管漏水"):
            create_ticket(openid="o-csp", kind="report", category="other", description=text, building_id=building.id)
        return {"estate": estate.id, "drain": db.session.scalar(select(CatalogItem.id)
                                                                .where(CatalogItem.code == "drain"))}


def _watch(page) -> list[str]:
    """Collect the policy's refusals on this page (console reports and securitypolicyviolation events)."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.log('Content Security Policy violation: ' + e.violatedDirective))")
    return refused


def _log_in(page) -> None:
    page.goto("/login")
    page.fill("#username", "shequ")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")


def test_dashboard_scripts_run_under_the_policy(page, demo):
    refused = _watch(page)
    _log_in(page)
    page.goto("/admin/tickets")
    boxes = page.locator("#ledger tbody input[type=checkbox]")
    assert boxes.count() >= 2
    page.check("#ledger thead input[type=checkbox]")  # select all (was an inline onclick)
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))

    page.goto(f"/admin/estates/{demo['estate']}")
    asked: list[str] = []

    def decline(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", decline)
    page.locator("form[data-confirm] button[type=submit]").first.click()
    page.wait_for_timeout(300)
    assert asked and "绑定码将作废" in asked[0]  # the confirmation still asks (was an inline onsubmit)
    assert page.url.endswith(f"/admin/estates/{demo['estate']}")  # declined: nothing was printed
    assert refused == []


def test_an_injected_inline_script_is_refused(page, demo):
    refused = _watch(page)
    _log_in(page)
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; "
                  "document.body.appendChild(s); }")
    assert page.evaluate("window.ran") is None
    assert refused


def test_the_h5_booking_script_runs_with_its_nonce(page, app, live_server, demo):
    refused = _watch(page)
    page.context.add_cookies([{"name": h5.OPENID_COOKIE, "url": live_server,
                               "value": h5.sign_openid(app.config["SECRET_KEY"], "demo-svc-li")}])
    page.goto(f"/h5/services/book/{demo['drain']}")
    page.evaluate("() => document.getElementById('book').dispatchEvent(new Event('submit', {cancelable: true}))")
    page.wait_for_function("document.getElementById('submit-order').disabled")
    assert page.locator("#submit-order").inner_text() == "提交中…"
    assert refused == []
