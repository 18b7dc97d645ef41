"""Fault: WeChat's API answers -1 (busy), 45009 (quota) and times out for a while; the outbox must retry, losing
nothing and sending nothing twice.

Run: .venv/bin/python benchmarks/faults/wechat_storm.py [--json]
Private PostgreSQL and Redis; WECHAT_API_TIMEOUT=1 s. Staff publish an emergency notice (template messages) and the
outbox holds one customer-service text per resident; `linli outbox send --loop` sends them while the offline WeChat
fails sends with -1/45009 (140 in all), answers template sends after 1.5 s (timeouts) until ten have timed out,
then custom sends, until three have. Checks, from the fake's
received log: nothing reaches WeChat twice; every message reaches it, except custom sends whose answer timed out —
ambiguous (custom sends have no client_msg_id), so the outbox flags them for staff instead of risking a double.
"""

from __future__ import annotations

import time

from stack import Stack
from wire import main
from world import (
    bind_residents,
    delivered,
    enqueue_texts,
    outbox_status,
    publish_urgent_notice,
    subscribers,
    wait_outbox,
)

CUSTOM, TEMPLATE = "/cgi-bin/message/custom/send", "/cgi-bin/message/template/send"


def until(condition, timeout: float = 120.0) -> None:
    """Poll `condition` (a callable) until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.3)


def count(stack, where: str) -> int:
    return stack.sql(f"select count(*) from outbox_messages where {where}")[0][0]


def body(verdict) -> None:
    with Stack(api_timeout=1.0) as stack:
        bind_residents(stack, 60)
        openids = subscribers(stack)
        stack.follow(openids)
        keys, templates = publish_urgent_notice(stack, "今晚八点停电检修")
        customs = enqueue_texts(stack, openids[:100], 1, "storm")
        injected = 30 + 20 + 40 + 30 + 20
        stack.fake("/_fake/control", {"fail": [
            {"path": CUSTOM, "errcode": -1, "times": 30}, {"path": CUSTOM, "errcode": 45009, "times": 20},
            {"path": TEMPLATE, "errcode": 45009, "times": 40}, {"path": TEMPLATE, "errcode": -1, "times": 30}]})
        # Template sends also time out at first (the fake answers after 1.5 s, the client gives up after 1 s).
        stack.fake("/_fake/control", {"latency": {TEMPLATE: 1.5}})
        stack.spawn(["outbox", "send", "--loop", "--interval", "2", "--limit", "100"], "sender")
        until(lambda: count(stack, "last_error like '网络超时%'") >= 10)
        # Then custom sends time out for a while, and more of them fail when the backed-off retries come.
        stack.fake("/_fake/control", {"latency": {TEMPLATE: 0, CUSTOM: 1.5},
                                      "fail": [{"path": CUSTOM, "errcode": -1, "times": 20}]})
        until(lambda: count(stack, "last_error like '%无法确认%'") >= 3, timeout=60)
        stack.fake("/_fake/control", {"latency": {CUSTOM: 0}})
        drained = sum(wait_outbox(stack, timeout=240, keys=pattern, age_stale_claims=False)[0]
                      for pattern in (keys, "storm:%"))

        counts, strays = delivered(stack)
        rows = stack.sql("select idempotency_key, channel, status, attempts, coalesce(last_error, '') "
                         "from outbox_messages where idempotency_key like :notice or idempotency_key like 'storm:%'",
                         notice=keys)
        doubtful = [r for r in rows if r[2] == "failed" and "无法确认" in r[4]]
        others = [r for r in rows if r[2] != "sent" and r not in doubtful]

        verdict.check(f"nothing lost silently: each of {len(rows)} messages reached WeChat or is flagged for staff",
                      all(counts[r[0]] >= 1 or r in doubtful for r in rows))
        verdict.check("nothing sent twice", all(counts[r[0]] <= 1 for r in rows) and not strays)
        verdict.check("every row sent, or flagged for staff after an ambiguous custom timeout (never resent)",
                      not others and all(r[1] == "custom" for r in doubtful))
        verdict.check("the storm was felt (retries happened)", sum(r[3] for r in rows) > len(rows))
        verdict.figures.update({
            "templates": templates, "customs": customs, "injected_errors": injected,
            "attempts": sum(r[3] for r in rows), "delivered": sum(counts[r[0]] for r in rows),
            "duplicates": sum(max(0, counts[r[0]] - 1) for r in rows),
            "lost_silently": sum(1 for r in rows if not counts[r[0]] and r not in doubtful),
            "flagged_in_doubt": len(doubtful), "in_doubt_delivered": sum(counts[r[0]] for r in doubtful),
            "drained_s": round(drained, 1),
            "outbox": dict(outbox_status(stack, "storm:%") + outbox_status(stack, keys)),
        })


if __name__ == "__main__":
    main("WeChat API storm (-1, 45009, timeouts)", body)
