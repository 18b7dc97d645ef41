"""Plans: drafts, versions, publication, comments, putting to a vote, and the adopted fee standard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import OutboxMessage, Plan, PlanComment, StaffUser
from app.services import plans
from app.services.errors import DomainError, NotFound, PermissionDenied
from votes_world import T0, publish_plan


def test_draft_edit_version_publish(world, staff):
    plan = plans.create_plan(staff, world["estate_id"], title="方案", body="正文", six_haves=["gate", "security"],
                             facilities=["cctv"], management_modes=["menu"])
    assert (plan.version, plan.status) == (1, "draft")
    plans.update_plan(staff, plan.id, fee_mode="per_area", fee_amount_fen=30, fee_cycle="quarterly")
    assert plan.fee_text == "0.30 元/㎡/月，按季度收取"
    plans.publish(staff, plan.id)
    with pytest.raises(DomainError, match="不能修改"):
        plans.update_plan(staff, plan.id, title="改")
    second = plans.new_version(staff, plan.id)
    assert (second.version, second.previous_id, second.fee_amount_fen) == (2, plan.id, 30)
    plans.publish(staff, second.id)
    assert db.session.get(Plan, plan.id).status == "superseded"


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "标题"), ({"tier": "huge"}, "事项类别"), ({"six_haves": ["pool"]}, "六有"),
    ({"management_modes": ["mafia"]}, "管理方式"), ({"fee_mode": "per_car", "fee_amount_fen": 1}, "收费方式"),
    ({"fee_mode": "per_area", "fee_amount_fen": 30, "fee_cycle": "weekly"}, "缴费周期"),
    ({"fee_mode": "per_area", "fee_amount_fen": -1, "fee_cycle": "monthly"}, "收费标准")])
def test_bad_plan_fields_are_refused(world, staff, fields, message):
    with pytest.raises(DomainError, match=message):
        plans.create_plan(staff, world["estate_id"], **{"title": "方案", **fields})
    assert db.session.scalar(select(func.count(Plan.id))) == 0


@pytest.mark.parametrize("text, fen", [("0.30", 30), ("1", 100), ("", None)])
def test_parse_yuan(text, fen):
    assert plans.parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["0.305", "abc", "-1"])
def test_parse_yuan_refuses(text):
    with pytest.raises(DomainError):
        plans.parse_yuan(text)


def test_building_head_cannot_draft(world):
    head = db.session.get(StaffUser, world["head_id"])
    with pytest.raises(PermissionDenied):
        plans.create_plan(head, world["estate_id"], title="方案")


def test_comments_from_residents_of_the_estate_only(world, staff):
    plan = publish_plan(staff, world["estate_id"])
    plans.add_comment("o-tenant", plan.id, "希望增加监控", channel="chat")
    with pytest.raises(PermissionDenied, match="已绑定房屋的居民"):
        plans.add_comment("o-stranger", plan.id, "路过")
    with pytest.raises(DomainError, match="500字"):
        plans.add_comment("o-zhang", plan.id, "长" * 501)
    comments = db.session.scalars(select(PlanComment)).all()
    assert [(c.text, c.channel) for c in comments] == [("希望增加监控", "chat")]


def test_comment_on_a_draft_is_refused(world, staff):
    plan = plans.create_plan(staff, world["estate_id"], title="方案", body="x")
    with pytest.raises(NotFound):
        plans.add_comment("o-zhang", plan.id, "意见")


def test_vote_needs_fifteen_days_notice(world, staff):
    plan = publish_plan(staff, world["estate_id"])
    with clock.frozen_at(T0):
        with pytest.raises(DomainError, match="15天"):
            plans.put_to_vote(staff, plan.id, T0 + timedelta(days=14, hours=23), T0 + timedelta(days=30))
        with pytest.raises(DomainError, match="至少提前15天"):
            plans.put_to_vote(staff, plan.id, T0 + timedelta(days=20), T0 + timedelta(days=30), notice_days=7)
        with pytest.raises(DomainError, match="截止时间"):
            plans.put_to_vote(staff, plan.id, T0 + timedelta(days=15), T0 + timedelta(days=15))
        vote = plans.put_to_vote(staff, plan.id, T0 + timedelta(days=15), T0 + timedelta(days=30))
    assert vote.status == "announced" and plan.status == "voting"
    # Every bound owner account (not tenants, family or pending) is told once.
    openids = set(db.session.scalars(select(OutboxMessage.openid)))
    assert openids == {"o-zhang", "o-li", "o-wang", "o-liu"}


def test_stricter_notice_is_allowed(world, staff):
    plan = publish_plan(staff, world["estate_id"])
    with clock.frozen_at(T0):
        with pytest.raises(DomainError, match="20天"):
            plans.put_to_vote(staff, plan.id, T0 + timedelta(days=15), T0 + timedelta(days=30), notice_days=20)
        vote = plans.put_to_vote(staff, plan.id, T0 + timedelta(days=20), T0 + timedelta(days=30), notice_days=20,
                                 rule_profile="half_of_all")
    assert (vote.notice_days, vote.rule_profile) == (20, "half_of_all")


def test_no_fee_standard_until_a_plan_is_adopted(world, staff):
    assert plans.current_fee_standard(world["estate_id"]) is None
    plan = publish_plan(staff, world["estate_id"])
    assert plans.current_fee_standard(world["estate_id"]) is None
    plan.status, plan.decided_at = "adopted", clock.now()
    db.session.commit()
    assert plans.current_fee_standard(world["estate_id"]) == ("per_area", 30, "quarterly")
