"""Fault: Redis killed (SIGKILL) and restarted empty while residents report problems through the webhook.

Run: .venv/bin/python benchmarks/faults/redis_restart.py [--json]
Linli runs as in production (`linli serve --workers 2`, private PostgreSQL and redis-server --save ""). Residents hold
report dialogues (describe → "1" confirms → a ticket, or a link to a neighbour's ticket) from 6 client threads; mid-load
the private Redis is killed, left down 2 s and started again with no keys. Residents who were told to try again do so
by hand; new residents start dialogues; then WeChat re-delivers every confirmation (same bytes). Checks: every
delivery answered (a polite line while Redis is down, never an error), no message with two side effects, every
resident ends with exactly one ticket or link, dialogues and dedupe work again after the restart, nothing half-written.
"""

from __future__ import annotations

import threading
import time

from stack import Stack
from wire import Wire, check_outage, confirmations, main, reports, unfinished
from world import bind_residents

DOWN_SECONDS = 2.0


def body(verdict) -> None:
    with Stack() as stack:
        stack.serve(workers=2)
        wire = Wire(stack.base)
        residents = bind_residents(stack, 120)
        before, across, after = residents[:20], residents[20:90], residents[90:]

        wire.run(reports(wire, before))
        load = threading.Thread(target=wire.run, args=(reports(wire, across, pause=0.2), 6))
        load.start()
        time.sleep(1.0)
        killed = time.monotonic()
        stack.redis.kill()
        time.sleep(DOWN_SECONDS)
        stack.redis.start()
        restarted = time.monotonic()
        load.join()
        retried = unfinished(wire, across)
        wire.run(reports(wire, retried))  # told "please try again": the resident starts over
        wire.run(reports(wire, after))
        first = {a.push.key: a.text for a in confirmations(wire)}
        redelivered = wire.run([lambda p=a.push: wire.deliver(p) for a in confirmations(wire)])

        down = [a for a in wire.answers if killed <= a.started <= restarted]
        check_outage(verdict, stack, wire, residents, down, "Redis", 5, restarted)
        after_keys = {a.push.key for a in confirmations(wire) if a.push.openid in set(after)}
        verdict.check("dedupe works again after the restart (a re-delivery gets the first reply)",
                      bool(after_keys) and all(r.text == first[r.push.key] for r in redelivered
                                               if r.push.key in after_keys))
        verdict.figures["retried_by_hand"] = len(retried)

if __name__ == "__main__":
    main("Redis restarted under load", body)
