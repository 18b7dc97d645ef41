"""Dashboard and H5 pages of plans and votes: access, forged requests, paper entry, results without choices."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Ballot, Plan, PlanComment, StaffUser, Vote
from app.services import ballots, vote_results
from app.wechat import h5
from factories import login
from votes_world import CLOSES, OPENS, build_estate, open_vote, publish_plan

DURING = OPENS + timedelta(days=1)


def sign_in(app, client, openid: str) -> None:
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], openid))


@pytest.fixture
def opened(app):
    with app.app_context():
        world = build_estate()
        staff = db.session.get(StaffUser, world["staff_id"])
        vote = open_vote(staff, world["estate_id"])
        world.update(vote_id=vote.id, plan_id=vote.plan_id)
    return world


def count_ballots(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Ballot.id)))


def test_staff_drafts_publishes_and_sees_comments(app, client):
    with app.app_context():
        world = build_estate()
    login(client, "shequ")
    response = client.post(f"/admin/estates/{world['estate_id']}/plans/new", data={
        "title": "幸福里方案", "tier": "ordinary", "area_scope": "全院", "six_haves": ["gate", "security"],
        "facilities": ["cctv"], "management_modes": ["menu", "volunteer"], "services": "保洁\n门岗",
        "fee_mode": "per_area", "fee_amount": "0.30", "fee_cycle": "quarterly", "funding": "业主缴费\n公共收益",
        "body": "全文"})
    assert response.status_code == 302
    with app.app_context():
        plan = db.session.scalar(select(Plan))
        assert (plan.fee_amount_fen, plan.services, plan.six_haves) == (30, ["保洁", "门岗"], ["gate", "security"])
        plan_id = plan.id
    client.post(f"/admin/plans/{plan_id}/publish")
    sign_in(app, client, "o-tenant")
    page = client.get(f"/h5/votes/plans/{plan_id}")
    assert "0.30 元/㎡/月，按季度收取" in page.get_data(as_text=True)
    assert client.post(f"/h5/votes/plans/{plan_id}", data={"text": "门岗晚上要有人"}).status_code == 200
    page = client.get(f"/admin/plans/{plan_id}").get_data(as_text=True)
    assert "门岗晚上要有人" in page and "公示征求意见" in page


def test_bad_fee_amount_shows_a_message_and_saves_nothing(app, client):
    with app.app_context():
        world = build_estate()
    login(client, "shequ")
    response = client.post(f"/admin/estates/{world['estate_id']}/plans/new",
                           data={"title": "x", "fee_mode": "per_area", "fee_amount": "0.305"})
    assert "最多两位小数" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Plan.id))) == 0


def test_plan_list_shows_versions_votes_and_the_current_plan(app, client, opened):
    login(client, "shequ")
    text = client.get("/admin/plans").get_data(as_text=True)
    assert "幸福里小区物业管理方案" in text and "表决中" in text and "尚无通过的方案" in text
    assert 'class="card plan-form"' not in client.get(f"/admin/plans/{opened['plan_id']}").get_data(as_text=True)


def test_building_head_cannot_open_plan_pages(app, client, opened):
    login(client, "lzz1")
    assert client.get("/admin/plans").status_code == 404
    assert client.get(f"/admin/votes/{opened['vote_id']}").status_code == 404
    assert client.get(f"/admin/votes/{opened['vote_id']}/export.xlsx").status_code == 404


def test_h5_ballot_casts_with_the_cookie_openid_only(app, client, opened):
    sign_in(app, client, "o-zhang")
    with clock.frozen_at(DURING):
        page = client.get(f"/h5/votes/{opened['vote_id']}/ballot")
        assert "提交投票" in page.get_data(as_text=True)
        # A forged openid in the form is ignored: the ballot is zhang's, from the signed cookie.
        response = client.post(f"/h5/votes/{opened['vote_id']}/ballot",
                               data={"choice": "agree", "confirm": "1", "openid": "o-liu"})
    assert response.status_code == 200 and "回执码" in response.get_data(as_text=True)
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert ballot.owner_key.startswith("p") and ballot.account_id is not None
        from app.models import ResidentAccount
        assert db.session.get(ResidentAccount, ballot.account_id).openid == "o-zhang"


def test_h5_ballot_without_confirmation_or_as_tenant_is_refused(app, client, opened):
    sign_in(app, client, "o-zhang")
    with clock.frozen_at(DURING):
        unconfirmed = client.post(f"/h5/votes/{opened['vote_id']}/ballot", data={"choice": "agree"})
        sign_in(app, client, "o-tenant")
        tenant = client.post(f"/h5/votes/{opened['vote_id']}/ballot", data={"choice": "agree", "confirm": "1"})
    assert unconfirmed.status_code == 422 and "我确认" in unconfirmed.get_data(as_text=True)
    assert tenant.status_code == 422 and "业主本人" in tenant.get_data(as_text=True)
    assert count_ballots(app) == 0


def test_h5_ballot_without_cookie_goes_to_wechat_sign_in(app, client, opened):
    response = client.post(f"/h5/votes/{opened['vote_id']}/ballot", data={"choice": "agree", "confirm": "1"})
    assert response.status_code == 302 and "oauth2/authorize" in response.headers["Location"]
    assert count_ballots(app) == 0


def test_h5_ballot_of_another_estate_is_not_found(app, client, opened):
    sign_in(app, client, "o-stranger")
    assert client.get(f"/h5/votes/{opened['vote_id']}/ballot").status_code == 404


def test_csrf_is_enforced_on_the_ballot_form(app, client, opened):
    sign_in(app, client, "o-zhang")
    app.config["WTF_CSRF_ENABLED"] = True  # as in production; the session app turns it off for other tests
    try:
        with clock.frozen_at(DURING):
            response = client.post(f"/h5/votes/{opened['vote_id']}/ballot", data={"choice": "agree", "confirm": "1"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert count_ballots(app) == 0


def test_paper_entry_page_and_scan(app, client, opened):
    login(client, "shequ")
    with clock.frozen_at(DURING):
        response = client.post(f"/admin/votes/{opened['vote_id']}/paper", data={
            "room_id": str(opened["room_202"]), "choice": "disagree",
            "scan": (io.BytesIO(b"%PDF-1.4 scan"), "zhao.pdf", "application/pdf")},
            content_type="multipart/form-data", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "纸质票已登记" in text and "回执码" in text
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert ballot.channel == "paper" and ballot.entered_by is not None
        scan_id = ballot.scan_id
    assert client.get(f"/admin/votes/{opened['vote_id']}/scans/{scan_id}").data == b"%PDF-1.4 scan"


def test_results_page_shows_figures_and_never_choices(app, client, opened):
    with app.app_context(), clock.frozen_at(DURING):
        ballots.cast("o-zhang", opened["vote_id"], "agree")
        ballots.cast("o-li", opened["vote_id"], "disagree")
        ballots.cast("o-liu", opened["vote_id"], "abstain")
    assert client.get(f"/h5/votes/{opened['vote_id']}/result").status_code == 404  # not yet closed
    with app.app_context():
        vote_results.close_due(CLOSES)
    text = client.get(f"/h5/votes/{opened['vote_id']}/result").get_data(as_text=True)
    assert "未通过" in text and "1号楼" in text and "3</strong> / 5 人" in text
    for name in ("张建国", "李秀英", "刘海燕", "101室", "201室"):
        assert name not in text
    login(client, "shequ")
    staff_page = client.get(f"/admin/votes/{opened['vote_id']}").get_data(as_text=True)
    assert "结果：未通过" in staff_page and "张建国" not in staff_page


def test_receipt_check_page(app, client, opened):
    with app.app_context(), clock.frozen_at(DURING):
        code = ballots.cast("o-zhang", opened["vote_id"], "agree").receipt
    sign_in(app, client, "o-zhang")
    mine = client.post("/h5/votes/receipt", data={"code": code}).get_data(as_text=True)
    assert "已记录" in mine and "您的选择：同意" in mine
    sign_in(app, client, "o-liu")
    other = client.post("/h5/votes/receipt", data={"code": code}).get_data(as_text=True)
    assert "已记录" in other and "同意" not in other
    assert client.post("/h5/votes/receipt", data={"code": "2222222222"}).status_code == 404


def test_vote_form_announces_and_exports_download(app, client):
    with app.app_context():
        world = build_estate()
        plan = publish_plan(db.session.get(StaffUser, world["staff_id"]), world["estate_id"])
        plan_id = plan.id
    login(client, "shequ")
    now = clock.now()
    response = client.post(f"/admin/plans/{plan_id}/vote", data={
        "opens_at": (now + timedelta(days=16)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"), "rule_profile": "art278",
        "notice_days": "15", "both_ways_rule": "electronic"})
    assert response.status_code == 302
    with app.app_context():
        vote_id = db.session.scalar(select(Vote.id))
    early = client.post(f"/admin/plans/{plan_id}/vote", data={"opens_at": "", "closes_at": ""},
                        follow_redirects=True)
    assert "请填写开始和截止时间" in early.get_data(as_text=True)
    xlsx = client.get(f"/admin/votes/{vote_id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get(f"/admin/votes/{vote_id}/export.pdf").data[:4] == b"%PDF"
    assert client.get(f"/admin/votes/{vote_id}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(PlanComment.id))) == 0
