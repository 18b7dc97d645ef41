"""Dialogue tables for the plan and the vote in chat, through respond() against the real database and store."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Ballot, PlanComment, StaffUser
from app.services import ballots, vote_results
from chatkit import run_table
from votes_world import CLOSES, OPENS, open_vote, publish_plan

DURING = OPENS + timedelta(days=1)


def n_ballots() -> int:
    return db.session.scalar(select(func.count(Ballot.id)))


def test_owner_votes_with_numbered_replies_and_gets_a_receipt(world, staff):
    open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        replies = run_table("o-zhang", [
            ("投票", "1 同意　2 反对　3 弃权"),
            ("1", "您选择：同意。确认提交请回复 1"),
            ("1", "投票成功：同意"),
            ("投票", "您已经投过票了"),
        ])
    assert "0.30 元/㎡/月" in replies[0] and "提交后不能更改" in replies[1]
    receipt = replies[2].split("回执码：")[1][:ballots.RECEIPT_LENGTH]
    assert ballots.check_receipt(receipt)["status"] == "counted"
    ballot = db.session.scalar(select(Ballot))
    assert (ballot.channel, ballot.choice, n_ballots()) == ("chat", "agree", 1)


def test_reselecting_before_confirming(world, staff):
    open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        run_table("o-liu", [
            ("我要投票", "请回复数字"),
            ("反对", "您选择：反对"),
            ("2", "请回复数字"),
            ("3", "您选择：弃权"),
            ("确认", "投票成功：弃权"),
        ])
    assert db.session.scalar(select(Ballot.choice)) == "abstain"


def test_a_non_answer_repeats_the_question_and_cancel_records_nothing(world, staff):
    open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        run_table("o-li", [
            ("投票", "请回复数字"),
            ("嗯嗯", "没听明白"),
            ("1", "您选择：同意"),
            ("取消", "已取消"),
        ])
    assert n_ballots() == 0


def test_tenant_family_and_unbound_cannot_vote(world, staff):
    open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        run_table("o-tenant", [("投票", "只有已绑定的业主本人")])
        run_table("o-family", [("投票", "只有已绑定的业主本人"), ("1", "")])
        run_table("o-stranger", [("投票", "需要先绑定房屋")])
    assert n_ballots() == 0


def test_co_owner_after_the_designated_voter_is_told_it_is_done(world, staff):
    open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        run_table("o-li", [("投票", "请回复数字"), ("1", "确认"), ("1", "投票成功")])
        run_table("o-wang", [("投票", "您已经投过票了")])
    assert n_ballots() == 1


def test_deadline_passing_mid_dialogue_refuses(world, staff):
    open_vote(staff, world["estate_id"])
    with clock.frozen_at(CLOSES - timedelta(minutes=1)):
        run_table("o-zhang", [("投票", "请回复数字"), ("1", "您选择")])
    with clock.frozen_at(CLOSES + timedelta(minutes=1)):
        run_table("o-zhang", [("1", "已经截止")])
    assert n_ballots() == 0


def test_results_in_chat_show_figures_only(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "agree")
    vote_results.close_due(CLOSES)
    with clock.frozen_at(CLOSES + timedelta(hours=1)):
        replies = run_table("o-tenant", [("投票结果出来没", "表决结果：未通过")])
    assert "参加 1/5 人" in replies[0] and "张建国" not in replies[0]


def test_comment_from_chat_reaches_staff(world, staff):
    plan = publish_plan(staff, world["estate_id"])
    run_table("o-tenant", [
        ("小区方案我想提意见", "请直接写下"),
        ("门岗晚上也要有人值班", "已转给社区"),
    ])
    comment = db.session.scalar(select(PlanComment))
    assert (comment.plan_id, comment.channel, comment.text) == (plan.id, "chat", "门岗晚上也要有人值班")


def test_published_plan_without_vote_is_summarised(world, staff):
    publish_plan(staff, world["estate_id"])
    replies = run_table("o-zhang", [("小区的管理方案我在哪能看到", "/h5/votes/plans/")])
    assert "公示征求意见" in replies[0]


def test_staff_see_turnout_per_building(world, staff):
    vote = open_vote(staff, world["estate_id"])
    db.session.get(StaffUser, world["staff_id"]).openid = "o-staff"
    db.session.commit()
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "agree")
        replies = run_table("o-staff", [("投票进度怎么样", "已投 1/5 人")])
    assert "1号楼：2/4 户" in replies[0] and "同意" not in replies[0]
