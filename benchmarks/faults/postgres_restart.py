"""Fault: PostgreSQL stopped with `pg_ctl -m immediate` (a crash) and started again while residents report problems
and the scheduler sends a notice to every resident.

Run: .venv/bin/python benchmarks/faults/postgres_restart.py [--json]
A private PostgreSQL 15 cluster (initdb in a temporary directory, run as user postgres) — the machine's shared server
is never touched. `linli serve --workers 2` and `linli jobs` (its outbox job sends every 5 s) run against it; the
offline WeChat answers template sends after 0.1 s. Staff publish an emergency notice (one template message per bound
subscriber) while residents hold report dialogues from 6 client threads; once the first notices went out the cluster
is crashed, left down 3 s and started (crash recovery). Residents told to try again do so; WeChat re-delivers every confirmation. Checks:
answers while the database is down are polite and fast, nothing half-written, no message with two side effects,
every resident's report recorded once, and the outbox resumes: every notice reaches WeChat exactly once.
"""

from __future__ import annotations

import threading
import time

from stack import Stack
from wire import Wire, check_outage, confirmations, main, reports, unfinished
from world import (
    bind_residents,
    delivered,
    outbox_status,
    publish_urgent_notice,
    subscribers,
    wait_outbox,
)

DOWN_SECONDS = 3.0


def body(verdict) -> None:
    with Stack() as stack:
        stack.serve(workers=2)
        residents = bind_residents(stack, 300)
        stack.follow(subscribers(stack))
        stack.fake("/_fake/control", {"latency": {"/cgi-bin/message/template/send": 0.1}})
        stack.spawn(["jobs"], "jobs")
        wire = Wire(stack.base)
        keys, queued = publish_urgent_notice(stack, "明天上午停水")
        stop = threading.Event()
        load = threading.Thread(target=wire.run, args=(reports(wire, residents, pause=1.0, stop=stop), 6))
        load.start()
        waited = time.monotonic()
        while len(stack.sent_log()) < 30 and time.monotonic() - waited < 60:
            time.sleep(0.2)  # crash while the scheduler is sending the notice
        sent_before = len(stack.sent_log())
        crashed = time.monotonic()
        stack.pg.kill()
        time.sleep(DOWN_SECONDS)
        stack.pg.start()
        restarted = time.monotonic()
        time.sleep(3.0)
        stop.set()
        load.join()
        residents = sorted({a.push.openid for a in wire.answers})  # those who wrote before the load stopped
        retried = unfinished(wire, residents)
        wire.run(reports(wire, retried))
        first = {a.push.key: a.text for a in confirmations(wire)}
        redelivered = wire.run([lambda p=a.push: wire.deliver(p) for a in confirmations(wire)])
        drained, aged = wait_outbox(stack, timeout=180, keys=keys)

        down = [a for a in wire.answers if crashed <= a.started <= restarted]
        check_outage(verdict, stack, wire, residents, down, "the database", 2, restarted)
        verdict.check("a re-delivery gets the first reply", all(r.text == first[r.push.key] for r in redelivered))
        counts, strays = delivered(stack)
        notices = [row[0] for row in stack.sql(
            "select idempotency_key from outbox_messages where idempotency_key like :keys", keys=keys)]
        status = outbox_status(stack, keys)
        verdict.check(f"the outbox resumed: all {queued} notices reached WeChat exactly once",
                      len(notices) == queued and all(counts[k] == 1 for k in notices) and not strays
                      and status["sent"] == queued)
        verdict.figures.update({
            "retried_by_hand": len(retried), "notices": queued, "notices_sent_before_crash": sent_before,
            "notices_delivered": sum(counts[k] for k in notices), "outbox_drained_s": round(drained, 1),
            "stale_claims_aged": aged, "outbox": dict(status),
        })

if __name__ == "__main__":
    main("PostgreSQL restarted", body)
