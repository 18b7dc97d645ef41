"""The fault scripts' evidence counts only what each script set up, so their verdict does not depend on the hour.

benchmarks/faults/scheduler_kill.py once failed with 9,002 escalation events for 9,000 tickets because the demo's
own tickets were overdue at that hour; here the demo's tickets are made overdue on purpose.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import text

from app import clock
from app.extensions import db
from app.services.demo import seed_demo
from app.services.escalation import run_escalation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "faults"))
from world import escalation_evidence, fault_escalations, link_staff, overdue_tickets  # noqa: E402


def _stack(app) -> SimpleNamespace:
    """The part of benchmarks/faults/stack.Stack that world.py uses: the app and one-statement SQL."""

    def sql(statement: str, **params):
        with db.engine.connect() as connection:
            result = connection.execute(text(statement), params)
            rows = result.all() if result.returns_rows else []
            connection.commit()
            return rows

    return SimpleNamespace(app=app, sql=sql)


def test_escalation_evidence_ignores_the_demo_tickets_that_are_overdue_at_that_hour(ctx):
    seed_demo()
    db.session.commit()
    db.session.remove()
    stack = _stack(ctx)
    demo_open = stack.sql("select count(*) from tickets where status in ('new', 'accepted', 'in_progress')")[0][0]
    assert demo_open > 0  # the world this test is about: the demo has open tickets of its own
    # A week later every open demo ticket is past its deadline, as at some hours of a real run.
    with clock.frozen_at(clock.now() + timedelta(days=7)):
        link_staff(stack)
        due = overdue_tickets(stack, 30)
        report = run_escalation()
        assert report.total == sum(due.values())  # only the set-up tickets climbed
        assert fault_escalations(stack) == sum(due.values())
        ladder_ok, digests_ok, digests = escalation_evidence(stack, due)
        assert ladder_ok and digests_ok and digests > 0
        run_escalation()  # a second run adds nothing
        assert escalation_evidence(stack, due)[:2] == (True, True)
