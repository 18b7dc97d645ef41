"""Benchmark: dashboard and API response times on the demo data plus a big street, beside /healthz as the baseline.

Run: .venv/bin/python benchmarks/dashboard_pages.py [--estates 300] [--runs 30]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench]
Prints the median and 90th percentile of each request, in milliseconds, and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def big_street_register(estates: int) -> bytes:
    """`estates` small estates of 2 buildings × 2 units × 5 rooms (20 rooms each) as a CSV register."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["小区", "楼栋", "单元", "房号", "楼层", "建筑面积", "业主姓名", "手机号"])
    n = 0
    for estate in range(1, estates + 1):
        for building in (1, 2):
            for unit in (1, 2):
                for floor in range(1, 6):
                    n += 1
                    writer.writerow([f"大街{estate:03d}小区", f"{building}号楼", f"{unit}单元", f"{floor}01", floor,
                                     "72.50", f"业主{n}", f"139{n:08d}"])
    return buffer.getvalue().encode()


def timed(client, method: str, url: str, runs: int, **kwargs) -> list[float]:
    """Milliseconds of `runs` requests (after one warm-up); fails loudly on a non-2xx/3xx answer."""
    call = getattr(client, method)
    first = call(url, **kwargs)
    assert first.status_code < 400, (url, first.status_code)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = call(url, **kwargs)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code < 400, (url, response.status_code)
    return times


def main() -> None:
    """Seed, time each request, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--estates", type=int, default=300, help="extra estates in the big street")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg", help="PostgreSQL URL (an empty database; its tables are dropped and recreated)")
    args = parser.parse_args()

    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Building, Estate, StaffUser
    from app.services.demo import DEMO_PASSWORD, OLD_ESTATE, seed_demo
    from app.services.register import import_register
    from app.services.staff import issue_api_token

    tmp = tempfile.mkdtemp(prefix="linli-bench-")
    url = args.pg or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LINLI_NLP_PRELOAD": False, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_demo()
        start = time.perf_counter()
        import_register(big_street_register(args.estates), "big.csv", street="红旗街道", community="大街社区")
        setup = time.perf_counter() - start
        estate_id = db.session.scalar(select(Estate.id).where(Estate.name == OLD_ESTATE))
        building_id = db.session.scalar(select(Building.id).where(Building.estate_id == estate_id,
                                                                  Building.number == "1"))
        token = issue_api_token(db.session.scalar(select(StaffUser).where(StaffUser.username == "jiedao")))
        estates = db.session.scalar(select(db.func.count(Estate.id)))

    client = app.test_client()
    client.post("/login", data={"username": "jiedao", "password": DEMO_PASSWORD})
    bearer = {"Authorization": f"Bearer {token}"}
    cases = [
        ("baseline GET /healthz", "get", "/healthz", {}),
        (f"estates list ({estates} estates)", "get", "/admin/estates", {}),
        ("estate page (1号楼, 36 rooms)", "get", f"/admin/estates/{estate_id}?building={building_id}", {}),
        ("API estates list", "get", "/api/v1/estates", {"headers": bearer}),
        ("API rooms (198, one page)", "get", f"/api/v1/estates/{estate_id}/rooms", {"headers": bearer}),
    ]
    print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}; big street imported in {setup:.1f} s; "
          f"{args.runs} runs each")
    print(f"{'request':42} {'median ms':>10} {'p90 ms':>8} {'× baseline':>11}")
    baseline = None
    for label, method, path, kwargs in cases:
        times = sorted(timed(client, method, path, args.runs, **kwargs))
        median = statistics.median(times)
        p90 = times[int(len(times) * 0.9) - 1]
        baseline = baseline or median
        print(f"{label:42} {median:10.1f} {p90:8.1f} {median / baseline:11.1f}")
    login_times = []
    for _ in range(5):  # a fresh client each time: a signed-in client is redirected before the hash check
        fresh = app.test_client()
        start = time.perf_counter()
        assert fresh.post("/login", data={"username": "shequ", "password": DEMO_PASSWORD}).status_code == 302
        login_times.append((time.perf_counter() - start) * 1000)
    print(f"{'login POST (scrypt hash check)':42} {statistics.median(login_times):10.1f}")


if __name__ == "__main__":
    main()
