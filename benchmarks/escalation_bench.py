"""Benchmark: the escalation job over 100,000 open overdue tickets, beside a plain scan of the same rows.

Run: .venv/bin/python benchmarks/escalation_bench.py [--tickets 100000] [--batch 1000]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench_tickets]
Without --pg it uses a temporary SQLite file. The database's tables are dropped and recreated.
Prints: seconds of the first run (every ticket climbs), of a second run (idempotent: nothing new), statements per
batch (must be constant), and a baseline: one SELECT of the same ticket rows the job reads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 30.0


def seed(db, tickets: int, now) -> None:
    """A street of 10 communities × 10 estates × 10 buildings, staff with WeChat linked, and `tickets` open
    tickets a third each 1 h, 30 h and 100 h past their deadline (so every level of the ladder is exercised)."""
    from sqlalchemy import insert, select

    from app.models import Building, Community, Estate, RoleGrant, StaffUser, Street
    from app.models.ticket import Ticket

    street = Street(name="基准街道")
    db.session.add(street)
    db.session.flush()
    staff_rows, grants, buildings = [], [], []
    db.session.execute(insert(StaffUser), [{"username": "jd", "display_name": "街道", "password_hash": "x",
                                            "openid": "o-jd", "active": True, "public_phone": "", "created_at": now}])
    for c in range(10):
        community = Community(street_id=street.id, name=f"社区{c}")
        db.session.add(community)
        db.session.flush()
        for e in range(10):
            estate = Estate(community_id=community.id, name=f"小区{c}-{e}", management_modes=[])
            db.session.add(estate)
            db.session.flush()
            for b in range(10):
                buildings.append({"estate_id": estate.id, "number": str(b + 1), "sort_key": f"{b + 1:08d}"})
        staff_rows.append({"username": f"sq{c}", "display_name": f"社区{c}", "password_hash": "x",
                           "openid": f"o-sq{c}", "active": True, "public_phone": "", "created_at": now})
        grants.append(("sq", c, community.id))
    db.session.execute(insert(Building), buildings)
    building_rows = db.session.execute(select(Building.id, Building.estate_id)).all()
    for i, (building_id, _estate) in enumerate(building_rows):
        staff_rows.append({"username": f"lz{i}", "display_name": f"楼栋长{i}", "password_hash": "x",
                           "openid": f"o-lz{i}", "active": True, "public_phone": "", "created_at": now})
        grants.append(("lz", i, building_id))
    for p in range(50):
        staff_rows.append({"username": f"fw{p}", "display_name": f"师傅{p}", "password_hash": "x",
                           "openid": f"o-fw{p}", "active": True, "public_phone": "", "created_at": now})
    db.session.execute(insert(StaffUser), staff_rows)
    ids = dict(db.session.execute(select(StaffUser.username, StaffUser.id)).all())
    grant_rows = [{"user_id": ids["jd"], "role": "street_admin", "scope_type": "street", "scope_id": street.id}]
    for kind, n, scope_id in grants:
        if kind == "sq":
            grant_rows.append({"user_id": ids[f"sq{n}"], "role": "community_staff", "scope_type": "community",
                               "scope_id": scope_id})
        else:
            grant_rows.append({"user_id": ids[f"lz{n}"], "role": "building_head", "scope_type": "building",
                               "scope_id": scope_id})
    db.session.execute(insert(RoleGrant), grant_rows)
    lateness = (timedelta(hours=1), timedelta(hours=30), timedelta(hours=100))
    chunk = []
    for n in range(tickets):
        building_id, estate_id = building_rows[n % len(building_rows)]
        chunk.append({"number": f"BX-20261101-{n:06d}", "kind": "report", "category": "water", "description": "漏水",
                      "estate_id": estate_id, "building_id": building_id, "spot": "", "urgent": False,
                      "handler_id": ids[f"fw{n % 50}"] if n % 2 else None, "status": "accepted",
                      "deadline": now - lateness[n % 3], "escalation_level": 0, "reopen_count": 0,
                      "rating_comment": "", "is_incident": False, "source": "h5", "created_at": now - timedelta(days=6)})
        if len(chunk) == 10000:
            db.session.execute(insert(Ticket), chunk)
            chunk = []
    if chunk:
        db.session.execute(insert(Ticket), chunk)
    db.session.commit()


def main() -> None:
    """Seed, run the job twice, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg", help="PostgreSQL URL (an empty database; its tables are dropped and recreated)")
    args = parser.parse_args()

    from sqlalchemy import event, select

    from app import clock, create_app
    from app.extensions import db
    from app.models.ticket import OPEN_STATUSES, Ticket
    from app.services import escalation

    url = args.pg or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LINLI_NLP_PRELOAD": False, "TESTING": True,
                      "REDIS_URL": None})
    with app.app_context():
        db.drop_all()
        db.create_all()
        now = clock.now().replace(hour=10, minute=0, second=0, microsecond=0)  # daytime: no quiet hours
        started = time.perf_counter()
        seed(db, args.tickets, now)
        seeded = time.perf_counter() - started
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))

        started = time.perf_counter()
        rows = db.session.execute(select(Ticket.id, Ticket.number, Ticket.category, Ticket.building_id,
                                         Ticket.handler_id).where(Ticket.status.in_(OPEN_STATUSES),
                                                                  Ticket.deadline <= now)).all()
        baseline = time.perf_counter() - started
        db.session.rollback()

        statements.clear()
        started = time.perf_counter()
        first = escalation.run_escalation(now, batch_size=args.batch)
        first_seconds = time.perf_counter() - started
        first_statements = len(statements)
        statements.clear()
        started = time.perf_counter()
        second = escalation.run_escalation(now, batch_size=args.batch)
        second_seconds = time.perf_counter() - started

    backend = "PostgreSQL" if args.pg else "SQLite"
    per_batch = (first_statements - 1) / max(first.batches, 1)  # minus close_unrated (and rare empty selects)
    print(f"escalation benchmark — {backend}, {args.tickets:,} open overdue tickets, batch {args.batch} "
          f"(seeded in {seeded:.1f} s)")
    print(f"{'what':<46}{'seconds':>10}{'vs baseline':>14}")
    print(f"{'baseline: one SELECT of the overdue rows':<46}{baseline:>10.2f}{1:>13.1f}x  ({len(rows):,} rows)")
    print(f"{'first run (every ticket climbs)':<46}{first_seconds:>10.2f}{first_seconds / baseline:>13.1f}x")
    print(f"{'second run (idempotent)':<46}{second_seconds:>10.2f}{second_seconds / baseline:>13.1f}x")
    print(f"levels reached: {first.escalated}; digest messages queued: {first.messages:,}; batches: {first.batches}")
    print(f"statements in the first run: {first_statements} ≈ {per_batch:.1f} per batch (constant, not per ticket)")
    print(f"second run: {second.total} escalated, {second.messages} messages (must both be 0)")
    verdict = "OK" if first_seconds <= TARGET_SECONDS else "TOO SLOW"
    print(f"target: first run ≤ {TARGET_SECONDS:.0f} s → {verdict}")


if __name__ == "__main__":
    main()
