"""Fault: the scheduler SIGKILLed mid-run — during a big escalation run, and as leader while the outbox job sends —
then the next run must complete idempotently and a standby scheduler must take over within a minute.

Run: .venv/bin/python benchmarks/faults/scheduler_kill.py [--json]
Private PostgreSQL and Redis, the offline WeChat. Part 1: 9,000 urgent overdue tickets (due at levels 1, 2, 3);
`linli jobs --run tickets.escalate` is killed after its first batches commit, run again at once (skipped: the dead
run's job lock is still there), and run again once that lock has lapsed (it is kept alive only by a live run: ≤ 60 s). Part 2: two `linli jobs` processes; 300
customer-service texts in the outbox; the leader is killed while its outbox job sends. Checks: every ticket escalated
to its level exactly once, every ticket in exactly one digest per recipient, the standby leads within 60 s, no text
reaches WeChat twice, every text sent except at most the one in flight (flagged for staff, never resent).
"""

from __future__ import annotations

import signal
import subprocess
import time

from stack import Stack, stop_group
from wire import main
from world import (
    delivered,
    enqueue_texts,
    escalation_evidence,
    fault_escalations,
    link_staff,
    outbox_status,
    overdue_tickets,
    subscribers,
    wait_outbox,
)


def leader(stack) -> str:
    out = subprocess.run(["redis-cli", "-p", str(stack.redis.port), "GET", "linli:scheduler:leader"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out


def escalation_part(stack, verdict) -> None:
    staff = link_staff(stack)
    stack.follow(staff)
    due = overdue_tickets(stack, 9000)
    run = stack.spawn(["jobs", "--run", "tickets.escalate"], "escalate-1")
    while fault_escalations(stack) == 0 and run.poll() is None:
        time.sleep(0.05)
    stop_group(run, signal.SIGKILL)
    at_kill = fault_escalations(stack)
    second = stack.linli(["jobs", "--run", "tickets.escalate"])
    after_second = fault_escalations(stack)
    # The killed run's job lock is no longer renewed: wait for it to lapse (the next scheduled run would find it gone).
    killed_at = time.monotonic()
    while subprocess.run(["redis-cli", "-p", str(stack.redis.port), "EXISTS", "linli:lock:tickets:escalate"],
                         capture_output=True, text=True, check=True).stdout.strip() == "1":
        if time.monotonic() - killed_at > 90:
            break
        time.sleep(0.5)
    lock_lapsed_after = time.monotonic() - killed_at
    stack.linli(["jobs", "--run", "tickets.escalate"])
    stack.linli(["jobs", "--run", "tickets.escalate"])  # and once more: nothing new
    ladder_ok, digests_ok, digests = escalation_evidence(stack, due)
    verdict.check("escalation: every ticket at its level, one event per ticket and level", ladder_ok)
    verdict.check("escalation: every ticket in exactly one digest per recipient and level", digests_ok)
    verdict.figures.update({"tickets": sum(due.values()), "escalated_at_kill": at_kill,
                            "rerun_at_once": "skipped (job lock still held)" if after_second == at_kill
                            else f"completed ({second.returncode})",
                            "job_lock_lapsed_after_s": round(lock_lapsed_after, 1), "digests": digests})
    verdict.check("escalation: the dead run's job lock lapses within a minute", lock_lapsed_after <= 65)


def takeover_part(stack, verdict) -> None:
    openids = [o for o in subscribers(stack) if o.startswith("demo-owner-")][:100]
    stack.follow(openids)
    queued = enqueue_texts(stack, openids, 3, "sched")
    stack.fake("/_fake/control", {"latency": {"/cgi-bin/message/custom/send": 0.05}})
    first = stack.spawn(["jobs"], "jobs-a")
    while not leader(stack):
        time.sleep(0.2)
    second = stack.spawn(["jobs"], "jobs-b")
    old = leader(stack)
    while len(stack.sent_log()) < 60:
        time.sleep(0.1)
    stop_group(first, signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < 120 and leader(stack) in ("", old):
        time.sleep(0.2)
    takeover = time.monotonic() - killed
    new = leader(stack)
    drained, aged = wait_outbox(stack, timeout=180, keys="sched:%")
    counts, strays = delivered(stack)
    rows = stack.sql("select idempotency_key, status, coalesce(last_error, '') from outbox_messages "
                     "where idempotency_key like 'sched:%'")
    doubtful = [r for r in rows if r[1] == "failed" and "无法确认" in r[2]]
    verdict.check(f"the standby leads within 60 s (pid {second.pid})",
                  takeover < 60 and new.split(":")[1] == str(second.pid))
    verdict.check("outbox: no text reached WeChat twice", all(counts[r[0]] <= 1 for r in rows) and not strays)
    verdict.check("outbox: every text sent, except at most one in flight (flagged for staff, not resent)",
                  len(rows) == queued and len(doubtful) <= 1 and all(r[1] == "sent" or r in doubtful for r in rows)
                  and all(counts[r[0]] == 1 for r in rows if r[1] == "sent"))
    verdict.figures.update({"texts": queued, "takeover_s": round(takeover, 1), "outbox_drained_s": round(drained, 1),
                            "in_doubt": len(doubtful), "in_doubt_delivered": sum(counts[r[0]] for r in doubtful),
                            "stale_claims_aged": aged, "outbox": dict(outbox_status(stack, "sched:%"))})


def body(verdict) -> None:
    with Stack() as stack:
        escalation_part(stack, verdict)
        takeover_part(stack, verdict)


if __name__ == "__main__":
    main("Scheduler killed mid-run", body)
