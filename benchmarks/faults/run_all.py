"""Run every fault script in turn and print one table: fault, what was checked, PASS/FAIL, figures.

Run: .venv/bin/python benchmarks/faults/run_all.py [--only redis_restart,worker_kill]
Each script starts its own PostgreSQL cluster, redis-server, offline WeChat and Linli processes on free ports and
removes them at the end; the machine's shared servers are not touched. Exit status 1 when any fault fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["redis_restart", "postgres_restart", "wechat_storm", "scheduler_kill", "worker_kill"]


def run(name: str) -> dict:
    """One script with --json; its VERDICT line, or a failure naming the script when it printed none."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--json"], capture_output=True, text=True, check=False,
                          timeout=1200)
    lines = [line for line in done.stdout.splitlines() if line.startswith("VERDICT ")]
    if not lines:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        return {"fault": name, "checks": [["script printed a verdict", False]], "figures": {}, "passed": False,
                "seconds": time.monotonic() - started}
    return {**json.loads(lines[-1][len("VERDICT "):]), "seconds": time.monotonic() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated script names (default: all)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else SCRIPTS
    results = []
    for name in names:
        print(f"running {name} …", flush=True)
        results.append(run(name))
    print()
    print("| fault | what was checked | result | figures |")
    print("|---|---|---|---|")
    for result in results:
        checks = "; ".join(f"{what}{'' if ok else ' ✗'}" for what, ok in result["checks"])
        figures = ", ".join(f"{k} {v}" for k, v in result["figures"].items())
        print(f"| {result['fault']} | {checks} | {'PASS' if result['passed'] else 'FAIL'} | {figures}, "
              f"{result['seconds']:.0f} s |")
    sys.exit(0 if all(r["passed"] for r in results) else 1)


if __name__ == "__main__":
    main()
