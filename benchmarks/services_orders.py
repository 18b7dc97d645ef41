"""Benchmark: placing and accepting 菜单式 orders (validations, numbering, events, outbox) beside a bare insert of
the same order row as the baseline; and the accept race (two threads per order) on PostgreSQL.

Run: .venv/bin/python benchmarks/services_orders.py [--orders 300]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench_orders]
Prints milliseconds per operation (median, p90) per backend, the ratio to the baseline, and the race outcome.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "services_menu"))


def _app(url: str):
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LINLI_NLP_PRELOAD": False,
                      "REDIS_URL": None, "TESTING": True, "PUBLIC_BASE_URL": "http://localhost"})
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def run(url: str, count: int) -> dict:
    """Time `count` bare inserts, `count` place_order calls and `count` accepts; then race 50 orders."""
    from app import clock
    from app.extensions import db
    from app.models import CatalogItem, Order, StaffUser
    from app.services import orders
    from svc_world import build_svc_world

    app = _app(url)
    figures: dict = {}
    start = datetime(2026, 11, 23, 9, 0, tzinfo=clock.TZ)
    with app.app_context(), clock.frozen_at(start):
        svc = build_svc_world()
        item = db.session.get(CatalogItem, svc.unlock)
        account_id = db.session.scalar(db.select(Order.account_id).limit(1)) or 1
        bare, placed, accepted = [], [], []
        for i in range(count):
            began = time.perf_counter()
            db.session.add(Order(number=f"BARE-{i:06d}", client_key=f"bare-{i}", account_id=account_id,
                                 openid="o-zhang", item_id=item.id, item_code=item.code, item_name=item.name,
                                 price_fen=item.price_fen, estate_id=svc.estate, room_id=svc.room,
                                 scheduled_at=start + timedelta(days=60), status="cancelled"))
            db.session.commit()
            bare.append((time.perf_counter() - began) * 1000)
        worker = db.session.get(StaffUser, svc.worker_a)
        numbers = []
        for i in range(count):
            moment = start + timedelta(days=1 + i // 12, hours=1 + i % 12)
            began = time.perf_counter()
            order, _ = orders.place_order("o-zhang", svc.unlock, moment, client_key=f"k{i}")
            placed.append((time.perf_counter() - began) * 1000)
            numbers.append(order.number)
        for number in numbers:
            began = time.perf_counter()
            orders.accept(worker, number)
            accepted.append((time.perf_counter() - began) * 1000)
        figures.update(bare=_stats(bare), place=_stats(placed), accept=_stats(accepted))
        race = [orders.place_order("o-zhang", svc.unlock, start + timedelta(days=28, hours=1 + i % 12,
                                                                             minutes=i // 12), client_key=f"r{i}")[0].number
                for i in range(50)]
        ids = (svc.worker_a, svc.worker_b)
    wins = losses = errors = 0
    lock = threading.Lock()
    for number in race:
        barrier = threading.Barrier(2)

        def take(user_id: int, number=number, barrier=barrier) -> None:
            nonlocal wins, losses, errors
            from app.services.errors import DomainError

            with app.app_context():
                user = db.session.get(StaffUser, user_id)
                barrier.wait()
                try:
                    orders.accept(user, number)
                    outcome = "win"
                except DomainError:
                    outcome = "loss"
                except Exception:  # noqa: BLE001 — counted, never hidden
                    outcome = "error"
                db.session.remove()
            with lock:
                wins += outcome == "win"
                losses += outcome == "loss"
                errors += outcome == "error"

        threads = [threading.Thread(target=take, args=(user_id,)) for user_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    figures["race"] = (len(race), wins, losses, errors)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--pg", default=None)
    args = parser.parse_args()
    backends = [("SQLite", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")]
    if args.pg:
        backends.append(("PostgreSQL", args.pg))
    print(f"{args.orders} orders; ms per operation, median / p90; ratio = median / bare insert median")
    for name, url in backends:
        figures = run(url, args.orders)
        base = figures["bare"][0]
        for label, key in (("bare insert (baseline)", "bare"), ("place_order", "place"), ("accept", "accept")):
            median, p90 = figures[key]
            print(f"  {name:10} {label:24} {median:7.2f} / {p90:7.2f}   ×{median / base:5.1f}")
        total, wins, losses, errors = figures["race"]
        print(f"  {name:10} accept race: {total} orders × 2 threads → {wins} won, {losses} refused, {errors} errors")


if __name__ == "__main__":
    main()
