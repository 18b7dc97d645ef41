"""Retry safety: claim a message key with SET NX, cache the reply so a retry gets the same answer."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from app.kv import KeyValueStore, Mark

PROCESSING = "processing"
DONE = "done"
LATE = "late"
GONE = "gone"  # no trace: never claimed, released after a failure, or the claim of a dead worker lapsed
# A claim lives this long unless its owner renews it while working: a worker killed mid-request (SIGKILL, OOM) leaves
# a claim that lapses within seconds, and WeChat's retry then processes the message instead of getting `success`.
PROCESSING_TTL = 3.0
CLAIMED = json.dumps({"state": PROCESSING})  # the stored value of a live claim, compared by keep() and seals


@dataclass(frozen=True)
class Seen:
    """What an earlier delivery of the same message left: its state and, when done, the plain reply XML."""

    state: str
    xml: str | None = None


class Deduper:
    """Dedupe deliveries through the shared key-value store."""

    def __init__(self, store: KeyValueStore, ttl: float = 600.0, processing_ttl: float | None = None):
        self.store = store
        self.ttl = ttl
        self.processing_ttl = processing_ttl or PROCESSING_TTL

    def _key(self, key: str) -> str:
        return f"wx:dedupe:{key}"

    def claim(self, key: str, mark: Mark | None = None) -> bool:
        """True for the first delivery of this key (atomic across processes with Redis); with a mark (see
        app.wechat.replay), set in the same round trip, MarkTaken when it names another message."""
        if mark is None:
            return self.store.set(*self.claim_spec(key), nx=True)
        return self.store.claim_marked(*self.claim_spec(key), mark)

    def claim_spec(self, key: str) -> tuple[str, str, float]:
        """(store key, value, ttl) of the claim, for a caller that sets it in a round trip of its own."""
        return self._key(key), CLAIMED, self.processing_ttl

    def keep(self, key: str) -> None:
        """Renew the claim while the message is still being processed (never creates one: see claim)."""
        self.store.extend_if(self._key(key), CLAIMED, self.processing_ttl)

    def seen(self, key: str) -> Seen:
        """The current state of a key (GONE when nobody holds it)."""
        value = self.store.get_json(self._key(key))
        if value is None:
            return Seen(GONE)
        return Seen(value.get("state", PROCESSING), value.get("xml"))

    def finish(self, key: str, xml: str | None) -> None:
        """Remember the reply (None = `success`) for retries."""
        self.store.set(self._key(key), _done(xml), ttl=self.ttl)

    def seal_spec(self, key: str, xml: str | None) -> tuple[str, str, float, str]:
        """(store key, value, ttl, only_if) for finishing within another write: only while the claim is live, so
        a message already marked late keeps its mark (its answer goes out through the outbox)."""
        return self._key(key), _done(xml), self.ttl, CLAIMED

    def mark_late(self, key: str) -> None:
        """The answer will go out via the outbox; retries just get `success`."""
        self.store.set_json(self._key(key), {"state": LATE}, ttl=self.ttl)

    def release(self, key: str) -> None:
        """Forget a claim whose processing failed before any side effect, so a retry can try again."""
        self.store.delete(self._key(key))

    def wait(self, key: str, timeout: float) -> Seen:
        """Poll briefly for a concurrent first delivery to finish (or its claim to lapse)."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            seen = self.seen(key)
            if seen.state != PROCESSING or time.monotonic() >= deadline:
                return seen
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _done(xml: str | None) -> str:
    """The stored value of a finished message: its reply for retries."""
    return json.dumps({"state": DONE, "xml": xml}, ensure_ascii=False)
