"""The small key-value layer (dedupe, conversations, locks, rate limits, token cache): Redis or in-process."""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator


class LockTimeout(Exception):
    """Raised when a lock could not be acquired within its blocking timeout."""


class KeyValueStore:
    """What every store offers; values are strings, TTLs are seconds."""

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def set(self, key: str, value: str, ttl: float | None = None, nx: bool = False) -> bool:
        """Store a value; with nx only when the key is absent. Returns whether it was stored."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def incr(self, key: str, ttl: float) -> int:
        """Increment a counter; the TTL starts with the first increment (a fixed window)."""
        raise NotImplementedError

    def ttl(self, key: str) -> float | None:
        """Seconds left for a key, None when it has no expiry or does not exist."""
        raise NotImplementedError

    def ping(self) -> bool:
        raise NotImplementedError

    def clear(self) -> None:
        """Remove every key of this store (tests and demo resets)."""
        raise NotImplementedError

    def _release_if_owner(self, key: str, token: str) -> None:
        raise NotImplementedError

    def get_json(self, key: str) -> Any:
        """Load a JSON value, or None."""
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: float | None = None, nx: bool = False) -> bool:
        """Store a JSON-encoded value."""
        return self.set(key, json.dumps(value, ensure_ascii=False, default=str), ttl=ttl, nx=nx)

    def hit_limit(self, key: str, limit: int, window: float) -> bool:
        """Count one attempt in a fixed window; True when the attempt is over the limit."""
        return self.incr(f"rl:{key}", window) > limit

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0, wait: float = 5.0) -> Iterator[None]:
        """Hold a named lock across processes (auto-expires after `timeout` if the holder dies)."""
        key = f"lock:{name}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        delay = 0.005
        while not self.set(key, token, ttl=timeout, nx=True):
            if time.monotonic() >= deadline:
                raise LockTimeout(name)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            self._release_if_owner(key, token)


class MemoryStore(KeyValueStore):
    """The embedded store: a dict with expiries, safe across threads of one process only."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._mutex = threading.RLock()

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item

    def get(self, key: str) -> str | None:
        with self._mutex:
            item = self._live(key)
            return None if item is None else item[0]

    def set(self, key: str, value: str, ttl: float | None = None, nx: bool = False) -> bool:
        with self._mutex:
            if nx and self._live(key) is not None:
                return False
            expires = time.monotonic() + ttl if ttl else None
            self._data[key] = (str(value), expires)
            return True

    def delete(self, key: str) -> None:
        with self._mutex:
            self._data.pop(key, None)

    def incr(self, key: str, ttl: float) -> int:
        with self._mutex:
            item = self._live(key)
            if item is None:
                self._data[key] = ("1", time.monotonic() + ttl)
                return 1
            count = int(item[0]) + 1
            self._data[key] = (str(count), item[1])
            return count

    def ttl(self, key: str) -> float | None:
        with self._mutex:
            item = self._live(key)
            if item is None or item[1] is None:
                return None
            return max(0.0, item[1] - time.monotonic())

    def ping(self) -> bool:
        return True

    def clear(self) -> None:
        with self._mutex:
            self._data.clear()

    def _release_if_owner(self, key: str, token: str) -> None:
        with self._mutex:
            item = self._live(key)
            if item is not None and item[0] == token:
                del self._data[key]


# Delete the lock only if we still own it, atomically (a Lua script runs as one step in Redis).
_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisStore(KeyValueStore):
    """The shared store for many processes, on a Redis server; every key carries a prefix."""

    def __init__(self, url: str, prefix: str = "linli:") -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0,
            health_check_interval=30,
        )
        self._release = self.client.register_script(_RELEASE_SCRIPT)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> str | None:
        return self.client.get(self._k(key))

    def set(self, key: str, value: str, ttl: float | None = None, nx: bool = False) -> bool:
        px = int(ttl * 1000) if ttl else None
        return bool(self.client.set(self._k(key), value, px=px, nx=nx))

    def delete(self, key: str) -> None:
        self.client.delete(self._k(key))

    def incr(self, key: str, ttl: float) -> int:
        pipe = self.client.pipeline()
        pipe.incr(self._k(key))
        # NX: the window starts at the first hit and is not extended by later ones.
        pipe.pexpire(self._k(key), int(ttl * 1000), nx=True)
        count, _ = pipe.execute()
        return int(count)

    def ttl(self, key: str) -> float | None:
        ms = self.client.pttl(self._k(key))
        return None if ms is None or ms < 0 else ms / 1000

    def ping(self) -> bool:
        return bool(self.client.ping())

    def clear(self) -> None:
        cursor = 0
        while True:
            cursor, keys = self.client.scan(cursor, match=self.prefix + "*", count=500)
            if keys:
                self.client.delete(*keys)
            if cursor == 0:
                break

    def _release_if_owner(self, key: str, token: str) -> None:
        self._release(keys=[self._k(key)], args=[token])


def make_store(redis_url: str | None, prefix: str = "linli:") -> KeyValueStore:
    """Redis when a URL is configured, else the embedded in-process store."""
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
