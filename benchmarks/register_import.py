"""Benchmark: import a 50,000-room register on SQLite and PostgreSQL (time, peak memory) beside a parse-only floor.

Also times `linli --help` and app start → first answered request. Run: .venv/bin/python benchmarks/register_import.py
[--rooms 50000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINLI = [sys.executable, "-m", "app.cli_entry"]


def make_register(path: Path, rooms: int) -> None:
    """A register of `rooms` rooms over several estates, as an .xlsx file."""
    from openpyxl import Workbook

    rng = random.Random(7)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["小区", "楼栋", "单元", "房号", "楼层", "建筑面积", "业主姓名", "手机号"])
    n = 0
    estate = 0
    while n < rooms:
        estate += 1
        for building in range(1, 21):
            for unit in range(1, 4):
                for floor in range(1, 7):
                    for door in range(1, 3):
                        if n >= rooms:
                            break
                        ws.append([f"测试{estate}小区", f"{building}号楼", f"{unit}单元", f"{floor}0{door}", floor,
                                   round(rng.uniform(40, 140), 2), f"业主{n}", f"139{n:08d}"])
                        n += 1
    wb.save(path)


def run_measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Run a command; return wall seconds, that child's own peak RSS in MB (os.wait4), and its output."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stdout}\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stdout.strip()


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=50_000)
    parser.add_argument("--pg", default=os.environ.get("LINLI_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    register = tmp / "register.xlsx"
    make_register(register, args.rooms)
    env = {**os.environ, "LINLI_NLP_PRELOAD": "0", "SECRET_KEY": "bench"}
    rows = []

    floor_code = ("from app.services.register_parse import read_table, parse_rows; import sys; "
                  f"rows, problems = parse_rows(read_table(open(r'{register}','rb').read(), 'r.xlsx')); "
                  "print(len(rows), len(problems))")
    t, mb, _ = run_measured([sys.executable, "-c", floor_code], env)
    rows.append(("parse + validate only (floor)", t, mb))

    t, _, _ = run_measured(LINLI + ["--help"], env)
    rows.append(("linli --help", t, 0))

    backends = [("SQLite", f"sqlite:///{tmp}/bench.sqlite3")]
    try:
        reset_postgres(args.pg)
        backends.append(("PostgreSQL", args.pg))
    except Exception as exc:  # no server: report SQLite only
        print(f"PostgreSQL skipped: {exc.__class__.__name__}")
    for name, url in backends:
        benv = {**env, "DATABASE_URL": url}
        run_measured(LINLI + ["db", "upgrade"], benv)
        t, mb, out = run_measured(LINLI + ["import-register", str(register)], benv)
        rows.append((f"import {args.rooms} rooms, {name}", t, mb))
        t, mb, out = run_measured(LINLI + ["import-register", str(register)], benv)
        rows.append((f"re-import (update) {args.rooms} rooms, {name}", t, mb))

    startup = ("import time, os; PRELOAD = os.environ.get('BENCH_NLP', '1') == '1'; t=time.perf_counter(); from app import create_app; "
               "app=create_app({'LINLI_NLP_PRELOAD': PRELOAD}); c=app.test_client(); r=c.get('/healthz'); "
               "print(round(time.perf_counter()-t, 3), r.status_code)")
    t, mb, out = run_measured([sys.executable, "-c", startup], {**env, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"})
    rows.append(("app start (with NLU) → first answered request", float(out.split()[0]), mb))

    print(f"\n{'what':<48} {'seconds':>8} {'peak MB':>8}")
    for label, seconds, mb in rows:
        print(f"{label:<48} {seconds:>8.2f} {mb:>8.0f}")


if __name__ == "__main__":
    main()
