"""The vote jobs with a frozen clock: open at the start, close at the deadline, a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.jobs import JOBS
from app.jobs import votes as vote_jobs
from app.models import AuditEntry, OutboxMessage, Vote
from app.services import ballots, plans
from votes_world import CLOSES, OPENS, T0, publish_plan


def test_jobs_are_declared():
    assert {"votes.close", "votes.remind"} <= {spec.id for spec in JOBS}


def test_open_then_close_by_the_job(world, staff):
    plan = publish_plan(staff, world["estate_id"])
    with clock.frozen_at(T0):
        vote_id = plans.put_to_vote(staff, plan.id, OPENS, CLOSES).id
        vote_jobs.open_and_close_votes()
    assert db.session.get(Vote, vote_id).status == "announced"
    with clock.frozen_at(OPENS):
        vote_jobs.open_and_close_votes()
        vote_jobs.open_and_close_votes()
    assert db.session.get(Vote, vote_id).status == "open"
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "vote_open")) == 1
    with clock.frozen_at(OPENS + timedelta(days=1)):
        ballots.cast("o-zhang", vote_id, "agree")
        vote_jobs.remind_non_voters()
        before = db.session.scalar(select(func.count(OutboxMessage.id)))
        vote_jobs.remind_non_voters()
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == before
    with clock.frozen_at(CLOSES):
        vote_jobs.open_and_close_votes()
        result = dict(db.session.get(Vote, vote_id).result)
        vote_jobs.open_and_close_votes()
    vote = db.session.get(Vote, vote_id)
    assert vote.status == "closed" and vote.result == result and not vote.passed
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "vote_close")) == 1
