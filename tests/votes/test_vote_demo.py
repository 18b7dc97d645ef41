"""The vote demo seed: a plan with a vote under way and some ballots, safe to run twice."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Ballot, Plan, Vote
from app.services.demo import EXTRA_SEEDERS, seed_demo


def test_demo_has_a_vote_in_progress_and_is_idempotent(ctx):
    assert "app.services.votes_demo:seed" in EXTRA_SEEDERS
    seed_demo()
    vote = db.session.scalar(select(Vote))
    assert vote.status == "open" and vote.total_heads > 100
    plan = db.session.get(Plan, vote.plan_id)
    assert (plan.fee_mode, plan.fee_amount_fen, plan.fee_cycle) == ("per_area", 30, "quarterly")
    assert {"menu", "volunteer"} <= set(plan.management_modes) and "cctv" in plan.facilities
    counted = db.session.scalar(select(func.count(Ballot.id)))
    assert counted > 20
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.channel == "paper")) == 2
    seed_demo()
    assert db.session.scalar(select(func.count(Ballot.id))) == counted
    assert db.session.scalar(select(func.count(Vote.id))) == 1
