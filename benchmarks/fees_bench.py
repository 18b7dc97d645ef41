"""Benchmark: bill generation and a reminder-ladder run over 10,000 and 100,000 rooms/bills, on SQLite and
PostgreSQL: seconds, statements per batch (SQLAlchemy event listener), peak memory of the measuring process.

Targets (issue 9): reminders over 100,000 bills ≤ 60 s, constant statements per batch, ≤ 300 MB, linear from
10,000; generation for 100,000 rooms ≤ 60 s. Run:
  .venv/bin/python benchmarks/fees_bench.py [--sizes 10000,100000]
      [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_fees_bench]
Each measurement runs in a child process over a freshly built database, so its peak RSS is its own. ANALYZE runs
after the bulk load and between the two reminder runs, as autovacuum would on a live database: without planner
statistics PostgreSQL scans instead of walking the (status, room_id) index and the keyset batches turn quadratic.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROOMS_PER_BUILDING = 500


def _app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "LINLI_NLP_PRELOAD": False, "REDIS_URL": None,
                       "SECRET_KEY": "bench"})


def build(url: str, rooms: int) -> None:
    """A fresh schema with one estate of `rooms` rooms, 60% bound to an owner account, and a schedule."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Building, Community, Estate, ResidentAccount, Room, RoomBinding, Street, Unit
    from app.models.fee import FeeSchedule

    app = _app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        street = Street(name="基准街道")
        estate = Estate(community=Community(street=street, name="基准社区"), name="基准小区")
        db.session.add(estate)
        db.session.flush()
        buildings = (rooms + ROOMS_PER_BUILDING - 1) // ROOMS_PER_BUILDING
        db.session.execute(insert(Building), [{"id": b + 1, "estate_id": estate.id, "number": str(b + 1),
                                               "sort_key": f"{b + 1:08d}"} for b in range(buildings)])
        db.session.execute(insert(Unit), [{"id": b + 1, "building_id": b + 1, "number": "1", "sort_key": "00000001"}
                                          for b in range(buildings)])
        room_rows, accounts, bindings = [], [], []
        for n in range(rooms):
            b = n // ROOMS_PER_BUILDING + 1
            room_rows.append({"id": n + 1, "unit_id": b, "building_id": b, "estate_id": estate.id,
                              "number": f"{n % ROOMS_PER_BUILDING + 101}", "sort_key": f"{n:08d}",
                              "area": Decimal(60 + n % 70) + Decimal("0.25"), "area_source": "register"})
            if n % 10 < 6:
                accounts.append({"id": len(accounts) + 1, "openid": f"o-bench-{n}", "subscribed": True})
                bindings.append({"account_id": len(accounts), "room_id": n + 1, "relation": "owner",
                                 "status": "bound", "method": "code"})
        for rows, model in ((room_rows, Room), (accounts, ResidentAccount), (bindings, RoomBinding)):
            for i in range(0, len(rows), 10000):
                db.session.execute(insert(model), rows[i:i + 10000])
        db.session.add(FeeSchedule(estate_id=estate.id, basis="per_area", rate_fen=Decimal(30), cycle="quarterly",
                                   starts_on=date(2026, 1, 1), due_days=15))
        db.session.commit()


class Counter:
    """Statements executed, split at each commit (one commit per reminder batch)."""

    def __init__(self):
        self.chunks = [0]

    def query(self, *args):
        self.chunks[-1] += 1

    def commit(self, *args):
        self.chunks.append(0)


def measure(url: str, what: str) -> dict:
    """Generation (first call) or a reminder run (second call), timed and counted in this process."""
    from sqlalchemy import event, func, select, text

    from app import clock
    from app.extensions import db
    from app.models.fee import Bill, FeeSchedule
    from app.services.billing import generate_bills
    from app.services.reminders import run_reminders

    app = _app(url)
    with app.app_context():
        counter = Counter()
        if what == "generate":
            schedule = db.session.scalar(select(FeeSchedule))
            start = time.perf_counter()
            report = generate_bills(schedule, date(2026, 1, 1))
            seconds = time.perf_counter() - start
            # Worst case for the ladder: nobody has paid, so every bill is overdue on the run day.
            # Planner statistics as autovacuum keeps them on a live database (bulk loads have none yet).
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            return {"seconds": seconds, "created": report.created}
        open_bills = db.session.scalar(select(func.count(Bill.id)).where(Bill.status == "open"))
        total = db.session.scalar(select(func.count(Bill.id)))
        event.listen(db.engine, "before_cursor_execute", counter.query)
        event.listen(db.session, "after_commit", counter.commit)
        moment = datetime(2026, 1, 23, 10, tzinfo=clock.TZ)
        with clock.frozen_at(moment):
            start = time.perf_counter()
            report = run_reminders(batch_size=1000)
            seconds = time.perf_counter() - start
        batches = counter.chunks[:report.batches]
        event.remove(db.engine, "before_cursor_execute", counter.query)
        db.session.execute(text("ANALYZE"))  # an hour later autovacuum has seen the 100,000 new reminder rows
        db.session.commit()
        with clock.frozen_at(moment + timedelta(hours=1)):  # the next hourly run: nothing new to send
            start = time.perf_counter()
            rerun = run_reminders(batch_size=1000)
            rerun_seconds = time.perf_counter() - start
        return {"seconds": seconds, "bills": total, "open": open_bills, "batches": report.batches,
                "per_batch_max": max(batches[1:] or batches), "first_batch": batches[0] if batches else 0,
                "private": report.private, "heads": report.building_head, "messages": report.messages,
                "rerun_seconds": rerun_seconds, "rerun_messages": rerun.messages,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(args) -> None:
    if args.phase == "build":
        build(args.url, args.rooms)
        print(json.dumps({}))
    else:
        print(json.dumps(measure(args.url, args.phase)))


def run_child(url: str, phase: str, rooms: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", phase, "--url", url, "--rooms", str(rooms)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--pg", default=os.environ.get("LINLI_BENCH_PG",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/linli_fees_bench"))
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--rooms", type=int, default=0)
    parser.add_argument("--phase")
    args = parser.parse_args()
    if args.child:
        args.phase = args.child
        child(args)
        return
    tmp = tempfile.mkdtemp(prefix="linli-fees-bench-")
    backends = [("SQLite", f"sqlite:///{tmp}/bench.sqlite3")] + ([("PostgreSQL", args.pg)] if args.pg else [])
    print(f"{'backend':<11}{'rooms':>8} {'generate s':>11} {'remind s':>9} {'open bills':>11} {'batches':>8} "
          f"{'stmts/batch':>12} {'peak MB':>8}  target: ≤60 s each, ≤300 MB, constant stmts/batch")
    for name, url in backends:
        for size in [int(s) for s in args.sizes.split(",")]:
            run_child(url, "build", size)
            gen = run_child(url, "generate", size)
            rem = run_child(url, "remind", size)
            print(f"{name:<11}{size:>8} {gen['seconds']:>11.2f} {rem['seconds']:>9.2f} {rem['open']:>11} "
                  f"{rem['batches']:>8} {rem['per_batch_max']:>12} {rem['rss_mb']:>8.0f}  "
                  f"(private {rem['private']}, to heads {rem['heads']}, messages {rem['messages']}; "
                  f"rerun {rem['rerun_seconds']:.2f} s, {rem['rerun_messages']} new)", flush=True)


if __name__ == "__main__":
    main()
