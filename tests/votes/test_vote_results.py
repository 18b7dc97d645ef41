"""Closing at the deadline (idempotent), results and turnout without individual choices, exports, reminders."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEntry, OutboxMessage, Plan, Vote
from app.services import ballots, plans, vote_results
from app.services.errors import DomainError
from votes_world import CLOSES, OPENS, open_vote

DURING = OPENS + timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def cast_all(world, staff, vote):
    """zhang agree (150 ㎡), li agree (80), liu disagree (70), zhao abstain on paper (90); developer silent."""
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "agree")
        ballots.cast("o-li", vote.id, "agree", channel="chat")
        ballots.cast("o-liu", vote.id, "disagree")
        ballots.enter_paper(staff, vote.id, world["room_202"], "abstain", PNG, "p.png", "image/png")


def test_closing_job_counts_once_with_a_frozen_clock(world, staff):
    vote = open_vote(staff, world["estate_id"])
    cast_all(world, staff, vote)
    assert vote_results.close_due(CLOSES - timedelta(seconds=1)) == []
    assert vote_results.close_due(CLOSES) == [vote.id]
    vote = db.session.get(Vote, vote.id)
    result = vote.result
    # 4 of 5 heads and 390 of 570 ㎡ take part (≥ 2/3 of both); agree 2 of 4 heads = exactly half → not passed.
    assert (result["participating_heads"], result["participating_area"]) == (4, "390.00")
    assert (result["agree_heads"], result["agree_area"]) == (2, "230.00")
    assert result["quorum_met"] and not result["passed"]
    assert db.session.get(Plan, vote.plan_id).status == "rejected"
    messages = db.session.scalar(select(func.count(OutboxMessage.id)))
    assert vote_results.close_due(CLOSES + timedelta(hours=1)) == []
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == messages
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "vote_close")) == 1


def test_adopted_plan_becomes_current_with_its_fees(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        for openid in ("o-zhang", "o-li", "o-liu"):
            ballots.cast(openid, vote.id, "agree")
        ballots.enter_paper(staff, vote.id, world["room_202"], "agree", PNG, "p.png", "image/png")
    vote_results.close_due(CLOSES)
    assert db.session.get(Vote, vote.id).passed is True
    assert plans.current_fee_standard(world["estate_id"]) == ("per_area", 30, "quarterly")
    # The adopted standard becomes the estate's fee schedule from the first day of the next month.
    from app.models.fee import FeeSchedule

    schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.estate_id == world["estate_id"]))
    assert schedule.source == "plan" and schedule.plan_id == vote.plan_id
    assert (schedule.basis, schedule.rate_fen, schedule.cycle) == ("per_area", 30, "quarterly")
    assert schedule.starts_on == (CLOSES.date().replace(day=1) + timedelta(days=32)).replace(day=1)


@pytest.mark.parametrize("profile, passed", [("art278", True), ("half_of_all", False)])
def test_stricter_local_profile_only_refuses(world, staff, profile, passed):
    # li 80 + liu 70 + zhao 90 = 240 ㎡ agree, zhang 150 ㎡ disagree: Art. 278 passes (3 of 4 heads, 240 of 390 ㎡);
    # seed 002's "半数以上业主同意" against all owners fails on area (240 of 570 ㎡ is less than half).
    vote = open_vote(staff, world["estate_id"], rule_profile=profile)
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "disagree")
        ballots.cast("o-li", vote.id, "agree")
        ballots.cast("o-liu", vote.id, "agree")
        ballots.enter_paper(staff, vote.id, world["room_202"], "agree", PNG, "p.png", "image/png")
    vote_results.close_due(CLOSES)
    result = db.session.get(Vote, vote.id).result
    assert (result["agree_heads"], result["agree_area"], result["quorum_met"]) == (3, "240.00", True)
    assert result["passed"] is passed


def test_staff_cannot_close_early(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING), pytest.raises(DomainError, match="不能提前结束"):
        vote_results.close_by_staff(staff, vote.id)
    assert db.session.get(Vote, vote.id).status == "open"


def test_public_result_has_no_individual_choices(world, staff):
    vote = open_vote(staff, world["estate_id"])
    cast_all(world, staff, vote)
    vote_results.close_due(CLOSES)
    _, result = vote_results.public_result(vote.id)
    text = str(result)
    assert not re.search(r"'[pr]\d+'", text)  # no owner keys
    for secret in ("张建国", "赵德明", "developer", "101室", "owner", "'choice'"):
        assert secret not in text
    assert set(result["buildings"][0]) == {"building", "rooms", "voted_rooms", "area", "voted_area"}


def test_exports_hold_every_ballot_and_the_audit_trail(world, staff):
    vote = open_vote(staff, world["estate_id"])
    cast_all(world, staff, vote)
    vote_results.close_due(CLOSES)
    book = load_workbook(io.BytesIO(vote_results.export_xlsx(staff, vote.id)))
    assert book.sheetnames == ["概况", "表决票", "不计入的票", "操作记录"]
    rows = list(book["表决票"].iter_rows(values_only=True))
    assert len(rows) == 1 + 7
    assert any(r[2] == "赵德明" and r[4] == "弃权" and r[5] == "纸质票" and r[7] == "shequ" for r in rows)
    actions = [r[2] for r in book["操作记录"].iter_rows(values_only=True)]
    assert {"vote_announce", "vote_open", "ballot_cast", "ballot_paper", "vote_close"} <= set(actions)
    pdf = PdfReader(io.BytesIO(vote_results.export_pdf(staff, vote.id)))
    assert "业主表决记录" in pdf.pages[0].extract_text()


def test_reminders_go_to_the_building_head_once_a_day(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "agree")
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    assert ballots.remind_non_voters(DURING) == 1
    assert ballots.remind_non_voters(DURING + timedelta(hours=2)) == 1  # same key: nothing new is queued
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert len(messages) == 1 and messages[0].openid == "o-head-1"
    text = messages[0].payload["text"]
    assert "1号楼1单元201室" in text and "1号楼1单元101室" not in text and "2号楼" not in text
    assert "138" not in text

