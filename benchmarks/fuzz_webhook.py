"""Fuzz run: the webhook properties of tests/hostile with many more examples, counting what came back.

Run: .venv/bin/python benchmarks/fuzz_webhook.py [--examples 20000] [--seed 0]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_fuzz --redis redis://127.0.0.1:6379/14]
The examples are shared evenly by the five properties (tests/hostile/fuzzkit.py). Prints per property the examples
run (shrinking included), the statuses seen, the warnings and errors the app logged, and the failures found;
the run passes when no property fails (no 500, no leaked trace, every well-formed push answered 200). Baseline in
the same run: drawing the same examples without posting them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "wechat"), str(ROOT / "tests" / "hostile")]

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

import fuzzkit  # noqa: E402


class LogCounter(logging.Handler):
    """Counts the app's warnings and errors (a handler failure the webhook answered with an apology, a missed reply
    deadline …) by their first words, instead of printing a traceback per example."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen: Counter = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        cause = f" ({type(error).__name__}: {str(error).splitlines()[0][:80]})" if error else ""
        self.seen[f"{record.levelname} {record.name}: {' '.join(str(record.msg).split()[:3])}{cause}"] += 1


def build_app(pg: str | None, redis_url: str | None, tmp: str):
    """The app on a fresh database with the demo data, configured like the peer."""
    from app import create_app
    from app.extensions import db
    from app.services.demo import seed_demo

    app = create_app({"TESTING": True, "SECRET_KEY": "fuzz", "LINLI_NLP_PRELOAD": False, "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": pg or f"sqlite:///{tmp}/fuzz.sqlite3", "REDIS_URL": redis_url,
                      "REDIS_PREFIX": "linli-fuzz:", "PUBLIC_BASE_URL": "http://localhost"})
    logging.getLogger().setLevel(logging.WARNING)  # one INFO line per refused request would drown the figures
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_demo()
    return app


def run_property(prop: fuzzkit.Property, app, client, examples: int, run_seed: int, post: bool) -> dict:
    """Run one property for `examples` examples; returns counts, elapsed seconds and the failure (if any)."""
    statuses: Counter = Counter()

    @seed(run_seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              print_blob=False)
    @given(example=prop.strategy)
    def run(example):
        if not post:
            statuses["drawn"] += 1
            return
        try:
            statuses[prop.check(app, client, example)] += 1
        except AssertionError:
            statuses["property broken"] += 1
            raise
        except Exception:
            statuses["500"] += 1
            raise

    start = time.perf_counter()
    failure = None
    try:
        run()
    except Exception as error:  # noqa: BLE001 - any failure of the property is the finding we report
        notes = "\n".join(getattr(error, "__notes__", []))
        failure = f"{type(error).__name__}: {str(error)[:300]}\n{notes[:1500]}"
    return {"statuses": statuses, "seconds": time.perf_counter() - start, "failure": failure}


def main() -> int:
    """Run every property, print the table, exit 1 when any property failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20000, help="examples in all, shared by the properties")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pg", help="PostgreSQL URL (an empty database; its tables are dropped and recreated)")
    parser.add_argument("--redis", help="Redis URL (keys under linli-fuzz: are cleared between examples)")
    args = parser.parse_args()
    per_property = max(1, args.examples // len(fuzzkit.PROPERTIES))

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(args.pg, args.redis, tmp)
        logs = LogCounter()
        logging.getLogger("app").addHandler(logs)
        logging.getLogger("app").propagate = False
        backend = "PostgreSQL + Redis" if args.pg else "SQLite + embedded store"
        print(f"webhook fuzz — {backend}, {per_property:,} examples per property, seed {args.seed}")
        print(f"{'property':<30}{'examples':>10}{'/s':>8}{'drawn only /s':>15}  statuses")
        total, failures = 0, []
        with fuzzkit.peer_settings(app):
            client = app.test_client()
            for prop in fuzzkit.PROPERTIES:  # warm-up: the first draws build Hypothesis's character tables
                run_property(prop, app, client, 20, args.seed, post=False)
            for prop in fuzzkit.PROPERTIES:
                baseline = run_property(prop, app, client, min(per_property, 1000), args.seed, post=False)
                result = run_property(prop, app, client, per_property, args.seed, post=True)
                count = sum(result["statuses"].values())
                total += count
                drawn = baseline["statuses"]["drawn"] / baseline["seconds"]
                shown = ", ".join(f"{k}: {v}" for k, v in sorted(result["statuses"].items(), key=str))
                print(f"{prop.name:<30}{count:>10,}{count / result['seconds']:>8.0f}{drawn:>15.0f}  {shown}")
                if result["failure"]:
                    failures.append((prop.name, result["failure"]))
        # An exception out of the app (TESTING propagates it) or a 5xx answer.
        server_errors = sum(1 for _, failure in failures
                            if not failure.startswith("AssertionError") or failure.startswith("AssertionError: status 5"))
        print(f"examples run: {total:,}; properties failed: {len(failures)}; 500s found: {server_errors}")
        print(f"warnings and errors the app logged (each request still answered): {sum(logs.seen.values())}")
        for message, count in logs.seen.most_common(10):
            print(f"  {count:>5} × {message}")
        for name, failure in failures:
            print(f"\n--- {name} ---\n{failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
