"""The demo tickets (safe to seed twice) and the scheduled job entry."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.jobs import JOBS
from app.models.notice import Notice
from app.models.ticket import Ticket
from app.services.demo import seed_demo


def test_demo_seed_twice(ctx, monkeypatch):
    # Only this capability's seeder: the others are tested by their owners.
    monkeypatch.setattr("app.services.demo.EXTRA_SEEDERS", ["app.services.tickets_demo:seed"])
    seed_demo()
    seed_demo()
    statuses = dict(db.session.execute(select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)).all())
    assert sum(statuses.values()) == 5
    assert statuses["closed"] == 1 and statuses["in_progress"] == 1 and statuses["done"] == 1
    assert db.session.scalar(select(func.count(Notice.id))) == 1


def test_job_is_declared_and_runs(ctx):
    from app.jobs.runner import resolve

    spec = next(s for s in JOBS if s.id == "tickets.escalate")
    assert spec.trigger == "interval" and 5 <= spec.args.get("minutes", 0) <= 10
    resolve(spec.func)()  # no tickets: nothing to do, and no error
