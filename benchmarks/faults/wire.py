"""WeChat's side for the fault scripts: signed safe-mode pushes, deliveries with WeChat's retries, and the verdict."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from stack import AES_KEY, APPID, ROOT, TOKEN

sys.path.insert(0, str(ROOT))

from app.wechat.peer import Peer, message_xml, new_msg_id

BUSY = ("抱歉，系统有点忙", "上一条消息还在处理")  # answers after which a resident tries again by hand
PEER = Peer(TOKEN, APPID, AES_KEY)
REPORT = "3号楼2单元楼道灯坏了"  # a report that asks for confirmation; "1" then creates a ticket (or links to one)
CREATED = ("已登记", "已有邻居反映")


@dataclass
class Push:
    """One message as WeChat sends it: the same bytes on every retry."""

    openid: str
    text: str
    msg_id: int
    query: str
    body: bytes

    @property
    def key(self) -> str:
        """The ticket client key Linli derives from this message."""
        return f"chat:{self.openid}:{self.msg_id}"


def push(openid: str, text: str) -> Push:
    msg_id = new_msg_id()
    xml = message_xml(openid, PEER.account, "text", {"Content": text, "MsgId": msg_id})
    query, body = PEER.push(xml, openid)
    return Push(openid, text, msg_id, query, body)


@dataclass
class Answer:
    """What one delivery (with up to `tries` attempts) got back."""

    push: Push
    status: str  # reply / success / sorry / http-NNN / no answer
    text: str = ""
    tries: int = 0
    started: float = 0.0
    seconds: float = 0.0
    trail: list = field(default_factory=list)  # what each attempt got: exception name, HTTP status or reply kind


class Wire:
    """Delivers pushes to Linli's /wechat like WeChat: 5 s per attempt, up to 3 attempts; records every answer.

    Every attempt opens a new connection, so the load spreads over all gunicorn workers (as many senders would).
    """

    def __init__(self, base: str, tries: int = 3, timeout: float = 5.0):
        import requests

        self.base, self.tries, self.timeout = base, tries, timeout
        self.answers: list[Answer] = []
        self.attempts = Counter()
        self._local = threading.local()
        self._mutex = threading.Lock()
        self._requests = requests

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._requests.Session()
        return session

    def deliver(self, item: Push) -> Answer:
        started = time.monotonic()
        answer = Answer(item, "no answer", started=started)
        for attempt in range(1, self.tries + 1):
            answer.tries = attempt
            try:
                response = self._session().post(f"{self.base}/wechat?{item.query}", data=item.body,
                                                headers={"Content-Type": "text/xml", "Connection": "close"},
                                                timeout=self.timeout)
            except self._requests.RequestException as error:
                answer.trail.append(f"{type(error).__name__}@{time.monotonic() - started:.1f}s")
                self._count(f"attempt failed: {type(error).__name__}")
                self._local.session = None
                time.sleep(0.2)
                continue
            if response.status_code != 200:
                answer.status = f"http-{response.status_code}"
                answer.trail.append(answer.status)
                self._count(answer.status)
                time.sleep(0.2)
                continue
            opened = PEER.open_reply(response.content)  # raises on a malformed or badly signed reply
            answer.text = (opened or {}).get("Content", "")
            busy = any(text in answer.text for text in BUSY)
            answer.status = "success" if opened is None else ("sorry" if busy else "reply")
            answer.trail.append(f"{answer.status}@{time.monotonic() - started:.1f}s")
            break
        answer.seconds = time.monotonic() - started
        with self._mutex:
            self.answers.append(answer)
        return answer

    def _count(self, what: str) -> None:
        with self._mutex:
            self.attempts[what] += 1

    def dialogue(self, openid: str, texts: list[str]) -> list[Answer]:
        """A resident's messages in order; stops when an answer is not a normal reply."""
        answers = []
        for text in texts:
            answers.append(self.deliver(push(openid, text)))
            if answers[-1].status != "reply":
                break
        return answers

    def run(self, jobs, clients: int = 6) -> list:
        """Run callables on a few client threads (modest load: these are correctness checks)."""
        with ThreadPoolExecutor(clients) as pool:
            return list(pool.map(lambda job: job(), jobs))

    def tally(self) -> Counter:
        return Counter(a.status for a in self.answers)



def reports(wire: Wire, openids, pause: float = 0.0, stop: threading.Event | None = None) -> list:
    """One report dialogue per resident (describe, then "1"), as jobs for Wire.run; skipped once `stop` is set."""
    def one(openid):
        if stop is not None and stop.is_set():
            return []
        answers = wire.dialogue(openid, [REPORT, "1"])
        time.sleep(pause)
        return answers
    return [lambda o=openid: one(o) for openid in openids]


def unfinished(wire: Wire, openids) -> list[str]:
    """Residents whose report was not confirmed as recorded (they were told to try again, or got nothing)."""
    done = {a.push.openid for a in wire.answers if a.push.text == "1" and a.text.startswith(CREATED)}
    return [o for o in openids if o not in done]


def confirmations(wire: Wire) -> list[Answer]:
    return [a for a in list(wire.answers) if a.push.text == "1"]


def resident_effects(stack, wire: Wire, openids) -> tuple[Counter, dict]:
    """Side effects per confirmation key, and summed per resident (one report each: must end at exactly 1)."""
    confirms = confirmations(wire)
    effects = side_effects(stack, [a.push.key for a in confirms])
    per_resident = {o: 0 for o in openids}
    for key in {a.push.key: a for a in confirms}.values():
        if key.push.openid in per_resident:
            per_resident[key.push.openid] += effects[key.push.key]
    return effects, per_resident


def side_effects(stack, keys: list[str]) -> Counter:
    """How many tickets or neighbour links each client key produced (must be 0 or 1)."""
    rows = stack.sql("select client_key, count(*) from tickets where client_key = any(:keys) group by client_key",
                     keys=keys)
    links = stack.sql("select substr(key, 8), count(*) from ticket_events where key = any(:keys) group by key",
                      keys=[f"client:{k}" for k in keys])
    counts = Counter()
    for key, count in [*rows, *links]:
        counts[key] += count
    return counts


def half_written(stack) -> int:
    """Tickets without their creation event, or links without their event: what a torn transaction would leave."""
    orphans = stack.sql("select count(*) from tickets t where not exists (select 1 from ticket_events e "
                        "where e.ticket_id = t.id and e.action = 'create')")[0][0]
    followers = stack.sql("select count(*) from ticket_followers f where not exists (select 1 from ticket_events e "
                          "where e.ticket_id = f.ticket_id and e.action = 'follow' and e.actor_id = f.account_id)")[0][0]
    return orphans + followers


@dataclass
class Verdict:
    """The outcome of one fault script: named checks and the figures behind them."""

    fault: str
    checks: list[tuple[str, bool]] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def check(self, what: str, ok: bool) -> bool:
        self.checks.append((what, bool(ok)))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok in self.checks)

    def print(self, as_json: bool) -> None:
        if as_json:
            print("VERDICT " + json.dumps({"fault": self.fault, "checks": self.checks, "figures": self.figures,
                                           "passed": self.passed}, ensure_ascii=False))
            return
        print(f"\n== {self.fault}: {'PASS' if self.passed else 'FAIL'}")
        for what, ok in self.checks:
            print(f"  [{'PASS' if ok else 'FAIL'}] {what}")
        print("  " + ", ".join(f"{k}={v}" for k, v in self.figures.items()))


def main(fault: str, body) -> None:
    """Command-line entry for one script: run body(verdict), print the verdict, exit 1 on failure."""
    parser = argparse.ArgumentParser(description=fault)
    parser.add_argument("--json", action="store_true", help="one VERDICT line for run_all.py")
    args = parser.parse_args()
    verdict = Verdict(fault)
    try:
        body(verdict)
    except Exception as error:  # noqa: BLE001 — a crashed script is a failed fault, reported like one
        import traceback

        traceback.print_exc()
        verdict.check(f"script ran to the end ({type(error).__name__}: {error})", False)
    verdict.print(args.json)
    sys.exit(0 if verdict.passed else 1)


def check_outage(verdict: Verdict, stack, wire: Wire, residents, down: list[Answer], what: str, limit: float,
                 restarted: float) -> None:
    """The checks and figures a server outage under report dialogues shares (Redis, PostgreSQL)."""
    statuses = wire.tally()
    effects, per_resident = resident_effects(stack, wire, residents)
    normal_after = [a.started + a.seconds - restarted for a in wire.answers
                    if a.started >= restarted and a.status == "reply"]
    verdict.check("every delivery answered with well-formed XML (no HTTP error, no timeout)",
                  set(statuses) <= {"reply", "sorry", "success"} and not wire.attempts)
    verdict.check(f"while {what} was down: a polite reply within {limit:g} s",
                  bool(down) and all(a.status in ("sorry", "reply") and a.seconds < limit for a in down))
    verdict.check("no message with two side effects", all(n <= 1 for n in effects.values()))
    verdict.check("every resident ends with exactly one ticket or link", all(n == 1 for n in per_resident.values()))
    verdict.check("nothing half-written", half_written(stack) == 0)
    verdict.figures.update({
        "deliveries": len(wire.answers), "answered": statuses["reply"] + statuses["sorry"] + statuses["success"],
        "polite_errors": statuses["sorry"], "errors": sum(wire.attempts.values()),
        "duplicates": sum(n - 1 for n in effects.values() if n > 1), "answers_while_down": len(down),
        "max_s_while_down": round(max((a.seconds for a in down), default=0), 2),
        "recovery_s": round(min(normal_after), 2) if normal_after else None,
    })
