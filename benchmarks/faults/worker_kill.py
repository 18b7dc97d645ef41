"""Fault: a gunicorn worker SIGKILLed while webhook requests are in flight; WeChat retries the lost ones.

Run: .venv/bin/python benchmarks/faults/worker_kill.py [--json]
`linli serve --workers 2` on private PostgreSQL and Redis. Residents hold report dialogues (describe → "1") from 6
client threads. A worker that holds open client connections is killed with SIGKILL; once gunicorn's replacement
serves, the other original worker is killed the same way. A delivery whose connection breaks is retried with the same
bytes, like WeChat (3 tries, 5 s each); a resident told to try again does so by hand. Afterwards WeChat re-delivers
every confirmation. Checks: every delivery answered in the end, no message with two side effects, every resident's
report recorded, nothing half-written, gunicorn replaces the workers. Known gap (a figure, not a check): a worker
killed after saving the conversation but before caching the reply makes the retry answer the message afresh, and a
resident who then reports again is linked twice (`reported_twice_by_hand`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

from stack import Stack
from wire import (
    Wire,
    confirmations,
    half_written,
    main,
    reports,
    resident_effects,
    unfinished,
)
from world import bind_residents

KILLS = 2


def workers(master: int) -> list[int]:
    """The gunicorn arbiter's worker processes."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in out.split()]


def connections(port: int) -> dict[int, int]:
    """Established client connections each process holds on the server port (a worker serving requests)."""
    out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=False).stdout
    held: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        held[int(pid)] = held.get(int(pid), 0) + 1
    return held


def body(verdict) -> None:
    with Stack() as stack:
        server = stack.serve(workers=2)
        port = int(stack.base.rsplit(":", 1)[1])
        wire = Wire(stack.base)
        residents = bind_residents(stack, 400)
        stop = threading.Event()
        load = threading.Thread(target=wire.run, args=(reports(wire, residents, pause=1.5, stop=stop), 6))
        load.start()
        originals, kills, ready = workers(server.pid), [], []
        for victim in originals[:KILLS]:
            while connections(port).get(victim, 0) == 0 and load.is_alive():
                time.sleep(0.02)  # wait until the victim is serving somebody
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            kills.append(killed)
            while time.monotonic() - killed < 120:
                fresh = [pid for pid in workers(server.pid) if pid not in originals]
                if any(connections(port).get(pid, 0) for pid in fresh[len(ready):]):
                    ready.append(time.monotonic() - killed)  # the replacement accepts requests
                    break
                time.sleep(0.2)
            time.sleep(2.0)
        stop.set()
        load.join()
        served = {a.push.openid for a in wire.answers}
        retried = unfinished(wire, served)
        wire.run(reports(wire, retried))  # told "please try again" (or got nothing): the resident starts over
        first = {a.push.key: a.text for a in confirmations(wire)}
        redelivered = wire.run([lambda p=a.push: wire.deliver(p) for a in confirmations(wire)])

        statuses = wire.tally()
        effects, per_resident = resident_effects(stack, wire, served)
        lost = [o for o, n in per_resident.items() if n == 0]
        twice = [o for o, n in per_resident.items() if n > 1]
        for openid in lost + twice:
            print(f"resident {openid}: {per_resident[openid]} side effects",
                  [(a.push.text, a.trail, a.text[:24]) for a in wire.answers if a.push.openid == openid],
                  file=sys.stderr)
        interrupted = [a for a in wire.answers if a.tries > 1]

        verdict.check("every delivery answered in the end (retries reach a live worker)",
                      set(statuses) <= {"reply", "sorry"})
        verdict.check("no message with two side effects", all(n <= 1 for n in effects.values()))
        verdict.check("every resident's report recorded (none lost)", not lost)
        verdict.check("a re-delivery gets the first reply", all(r.text == first[r.push.key] for r in redelivered))
        verdict.check("nothing half-written", half_written(stack) == 0)
        verdict.check(f"gunicorn replaced each killed worker ({KILLS})", len(ready) == KILLS)
        verdict.figures.update({
            "residents": len(served), "deliveries": len(wire.answers),
            "attempts": len(wire.answers) + sum(wire.attempts.values()), "answered": statuses["reply"],
            "polite_busy": statuses["sorry"], "success_only": statuses["success"],
            "broken_attempts": sum(wire.attempts.values()), "retried_deliveries": len(interrupted),
            "retried_by_hand": len(retried), "duplicates": sum(n - 1 for n in effects.values() if n > 1),
            "lost": len(lost), "reported_twice_by_hand": len(twice),
            "replacement_ready_s": "/".join(f"{s:.1f}" for s in ready),
        })


if __name__ == "__main__":
    main("Web worker killed mid-request", body)
