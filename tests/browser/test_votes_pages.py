"""Browser tests of the resident ballot page (CSRF on, openid from the signed cookie) and the result page."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Ballot, StaffUser
from app.services import ballots, plans, vote_results
from app.wechat import h5

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "votes"))
from votes_world import build_estate, publish_plan  # noqa: E402

PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def _open_vote_now(app) -> dict:
    """The test estate with a vote that opened an hour ago (real clock: the live server runs in real time)."""
    with app.app_context():
        world = build_estate()
        staff = db.session.get(StaffUser, world["staff_id"])
        plan = publish_plan(staff, world["estate_id"])
        now = clock.now()
        with clock.frozen_at(now - timedelta(days=16)):
            vote = plans.put_to_vote(staff, plan.id, now - timedelta(hours=1), now + timedelta(days=1))
        ballots.open_due(now)
        world.update(vote_id=vote.id, closes_at=vote.closes_at)
    return world


def _phone_as(page, app, live_server, openid: str):
    context = page.context.browser.new_context(base_url=live_server, viewport=PHONE, locale="zh-CN")
    context.add_cookies([{"name": h5.OPENID_COOKIE, "value": h5.sign_openid(app.config["SECRET_KEY"], openid),
                          "url": live_server}])
    return context


def test_owner_votes_on_the_ballot_page(page, app, live_server, screenshot_dir):
    world = _open_vote_now(app)
    context = _phone_as(page, app, live_server, "o-zhang")
    tab = context.new_page()
    tab.goto(f"/h5/votes/{world['vote_id']}/ballot")
    tab.get_by_label("同意").check()
    tab.get_by_label("我确认以上选择").check()
    tab.get_by_role("button", name="提交投票").click()
    receipt = tab.locator("#receipt strong").inner_text()
    assert len(receipt) == ballots.RECEIPT_LENGTH
    tab.screenshot(path=str(screenshot_dir / "votes-ballot-receipt.png"), full_page=True)
    tab.goto(f"/h5/votes/{world['vote_id']}/ballot")
    assert "您已于" in tab.content() and "提交投票" not in tab.content()
    context.close()
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert (ballot.choice, ballot.channel) == ("agree", "h5")
        assert db.session.scalar(select(func.count(Ballot.id))) == 1


def test_tenant_is_refused_on_the_ballot_page(page, app, live_server):
    world = _open_vote_now(app)
    context = _phone_as(page, app, live_server, "o-tenant")
    tab = context.new_page()
    tab.goto(f"/h5/votes/{world['vote_id']}/ballot")
    tab.get_by_label("反对").check()
    tab.get_by_label("我确认以上选择").check()
    tab.get_by_role("button", name="提交投票").click()
    assert "只有已绑定的业主本人" in tab.get_by_role("alert").inner_text()
    context.close()
    with app.app_context():
        assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_result_page_shows_figures_per_building_only(page, app, live_server, screenshot_dir):
    world = _open_vote_now(app)
    with app.app_context():
        for openid, choice in (("o-zhang", "agree"), ("o-li", "agree"), ("o-liu", "disagree")):
            ballots.cast(openid, world["vote_id"], choice)
        vote_results.close_due(world["closes_at"])
    context = page.context.browser.new_context(base_url=live_server, viewport=PHONE, locale="zh-CN")
    tab = context.new_page()
    tab.goto(f"/h5/votes/{world['vote_id']}/result")
    outcome = tab.locator("#outcome").inner_text()
    assert "未通过" in outcome and "3 / 5 人" in outcome  # quorum short: 3 of 5 owners took part
    rows = tab.locator("#buildings tr").all_inner_texts()
    assert any("1号楼" in row and "3/4" in row for row in rows)
    text = tab.content()
    for secret in ("张建国", "李秀英", "刘海燕", "101室"):
        assert secret not in text
    tab.screenshot(path=str(screenshot_dir / "votes-result.png"), full_page=True)
    context.close()


def test_staff_enter_a_paper_ballot_with_its_scan(page, app, live_server, screenshot_dir):
    from factories import DEFAULT_PASSWORD

    world = _open_vote_now(app)
    page.goto("/login")
    page.fill("#username", "shequ")
    page.fill("#password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")
    page.goto(f"/admin/votes/{world['vote_id']}")
    page.select_option("select[name=room_id]", label="1号楼1单元202室")
    page.select_option("select[name=choice]", label="反对")
    page.set_input_files("input[name=scan]", files=[{"name": "zhao.png", "mimeType": "image/png",
                                                     "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 64}])
    page.get_by_role("button", name="登记").click()
    assert "纸质票已登记" in page.locator(".flash.ok").inner_text()
    assert "已投票 1 / 5 人" in page.locator("#turnout-total").inner_text()
    page.screenshot(path=str(screenshot_dir / "votes-staff.png"), full_page=True)
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert (ballot.channel, ballot.choice, ballot.entered_by) == ("paper", "disagree", world["staff_id"])
