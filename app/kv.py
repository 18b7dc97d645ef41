"""The small key-value layer (dedupe, conversations, locks, rate limits, token cache): Redis or in-process."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import select
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator


class LockTimeout(Exception):
    """Raised when a lock could not be acquired within its blocking timeout."""


class AlreadyClaimed(Exception):
    """Raised by guarded() when its claim key is already held: another delivery of the same work came first."""


class MarkTaken(Exception):
    """Raised when a mark (set-if-absent, see guarded) already holds another value; nothing else was kept."""


Mark = tuple[str, str, float]  # (key, value, ttl): kept if absent; the same value again is fine, another is refused


class Guarded:
    """A value read under a lock; what the holder puts is written when the lock is released, while still held."""

    def __init__(self, value: str | None, also: dict[str, str | None] | None = None) -> None:
        self.value = value
        self.also = also or {}  # other keys read in the same round trip (not locked, not written)
        self.write: tuple[str, float | None] | None = None  # (value, ttl); ("", None) means delete
        self.changed = False
        self.sealed: tuple[str, str, float, str] | None = None  # (key, value, ttl, only_if): see seal()

    def put(self, value: str, ttl: float | None = None) -> None:
        """Store `value` (with a TTL) at release."""
        self.write, self.changed = (value, ttl), True

    def remove(self) -> None:
        """Delete the value at release."""
        self.write, self.changed = None, True

    def seal(self, key: str, value: str, ttl: float, only_if: str) -> None:
        """Also set `key` at release, in the same step, but only while it still holds `only_if`."""
        self.sealed = (key, value, ttl, only_if)


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

    def items(self, pattern: str = "*") -> Iterator[tuple[str, str | None]]:
        """(key, value) of every live key matching a glob pattern, in batches (erasure scans the store with it)."""
        raise NotImplementedError

    def _release_if_owner(self, key: str, token: str) -> None:
        raise NotImplementedError

    def _extend_if_owner(self, key: str, token: str, ttl: float) -> bool:
        raise NotImplementedError

    def claim_marked(self, key: str, value: str, ttl: float, mark: Mark) -> bool:
        """set(key, value, ttl, nx=True) in the round trip that sets `mark` if absent; MarkTaken (and `key` left
        as it was) when the mark holds another value."""
        raise NotImplementedError

    def extend_if(self, key: str, value: str, ttl: float) -> bool:
        """Renew a key's expiry only while it holds `value`; whether it did."""
        return self._extend_if_owner(key, value, ttl)

    def get_json(self, key: str) -> Any:
        """Load a JSON value, or None."""
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: float | None = None, nx: bool = False) -> bool:
        """Store a JSON-encoded value."""
        return self.set(key, json.dumps(value, ensure_ascii=False, default=str), ttl=ttl, nx=nx)

    def flag(self, key: str, ttl: float) -> None:
        """Note that something was done recently (a hint to skip repeating it, not a lock)."""
        self.set(key, "1", ttl=ttl)

    def flagged(self, key: str) -> bool:
        """Whether `flag(key)` was called within its TTL."""
        return self.get(key) is not None

    def hit_limit(self, key: str, limit: int, window: float) -> bool:
        """Count one attempt in a fixed window; True when the attempt is over the limit."""
        return self.incr(f"rl:{key}", window) > limit

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0, wait: float = 5.0, keep_alive: bool = False) -> Iterator[None]:
        """Hold a named lock across processes (auto-expires after `timeout` if the holder dies).

        With keep_alive, a background thread extends the lock while the block runs, so a long batch job can use a
        short timeout: if its process is killed, the next run can start within `timeout` instead of waiting for a
        timeout sized for the longest possible run.
        """
        key = f"lock:{name}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        delay = 0.005
        while not self.set(key, token, ttl=timeout, nx=True):
            if time.monotonic() >= deadline:
                raise LockTimeout(name)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        done = threading.Event()
        if keep_alive:
            threading.Thread(target=self._keep_alive, args=(key, token, timeout, done), daemon=True,
                             name=f"lock-keepalive:{name}").start()
        try:
            yield
        finally:
            done.set()
            self._release_if_owner(key, token)

    def _keep_alive(self, key: str, token: str, timeout: float, done: threading.Event) -> None:
        while not done.wait(timeout / 3):
            try:
                if not self._extend_if_owner(key, token, timeout):
                    return  # lost it (expired while the process stalled): nothing left to keep
            except Exception:  # the store is briefly away; try again next beat, the TTL still covers us
                continue

    @contextmanager
    def guarded(self, name: str, key: str, timeout: float = 10.0, wait: float = 5.0,
                also: tuple[str, ...] = (), claim: tuple[str, str, float] | None = None,
                mark: Mark | None = None) -> Iterator[Guarded]:
        """Hold lock `name` while reading and then writing `key`: the chat engine's per-resident state.

        One round trip takes the lock and reads the value; one more writes the value and releases the lock, and
        only while the lock is still ours (a holder that overran its timeout must not overwrite a newer state).
        An exception inside the block releases the lock without writing. Keys in `also` are read with the value.
        A `claim` (key, value, ttl) is set-if-absent in the first round trip; when it is already held the lock is
        given back and AlreadyClaimed raised. What the block seals is written in the last round trip. A `mark` is
        set-if-absent first, in the same round trip; when it holds another value MarkTaken is raised and neither the
        claim nor the lock is kept.
        """
        lock_key = f"lock:{name}"
        # With a claim, the lock's token names it: a later holder of the same claim can tell the lock is that work's.
        token = uuid.uuid4().hex if claim is None else f"{claim[0]}|{uuid.uuid4().hex}"
        claim_key = claim[0] if claim is not None else None
        deadline = time.monotonic() + wait
        delay = 0.005
        while True:
            claimed, acquired, holder, values = self._acquire_and_get(lock_key, token, timeout, (key, *also), claim,
                                                                      mark)
            mark = None  # checked: later attempts only wait for the lock
            if not claimed:
                if acquired:
                    self._release_if_owner(lock_key, token)
                raise AlreadyClaimed(claim[0])
            claim = None  # ours now: later attempts only wait for the lock
            if acquired:
                break
            if claim_key is not None and holder and holder.rpartition("|")[0] == claim_key:
                # Held for this same claim by an earlier holder, whose claim lapsed before we could take it: that
                # process died mid-block (a live one renews its claim). Take over now, not after the lock's timeout.
                self._release_if_owner(lock_key, holder)
                continue
            if time.monotonic() >= deadline:
                raise LockTimeout(name)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        record = Guarded(values[0], dict(zip(also, values[1:])))
        try:
            yield record
        except BaseException:
            self._release_if_owner(lock_key, token)
            raise
        self._write_and_release(lock_key, token, key, record)

    def _acquire_and_get(self, lock_key: str, token: str, timeout: float, keys: tuple[str, ...],
                         claim: tuple[str, str, float] | None,
                         mark: Mark | None = None) -> tuple[bool, bool, str | None, list[str | None]]:
        """(claimed, acquired, holder, values): set the mark and the claim if absent, take the lock, read its holder's
        token and `keys` in one step; the values mean nothing when the lock was not taken, `claimed` is True without
        a claim. MarkTaken when the mark holds another value, with the claim and the lock given back."""
        raise NotImplementedError

    def _write_and_release(self, lock_key: str, token: str, key: str, record: Guarded) -> None:
        raise NotImplementedError


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

    def items(self, pattern: str = "*") -> Iterator[tuple[str, str | None]]:
        with self._mutex:
            found = [(key, item[0]) for key in list(self._data) if fnmatch.fnmatchcase(key, pattern)
                     and (item := self._live(key)) is not None]
        yield from found

    def _release_if_owner(self, key: str, token: str) -> None:
        with self._mutex:
            item = self._live(key)
            if item is not None and item[0] == token:
                del self._data[key]

    def _extend_if_owner(self, key: str, token: str, ttl: float) -> bool:
        with self._mutex:
            item = self._live(key)
            if item is None or item[0] != token:
                return False
            self._data[key] = (token, time.monotonic() + ttl)
            return True

    def _keep_mark(self, mark: Mark | None) -> None:
        """Set the mark if absent (the caller holds the mutex); MarkTaken when it holds another value."""
        if mark is not None and not self.set(*mark, nx=True) and self.get(mark[0]) not in (None, mark[1]):
            raise MarkTaken(mark[0])

    def claim_marked(self, key: str, value: str, ttl: float, mark: Mark) -> bool:
        with self._mutex:
            self._keep_mark(mark)
            return self.set(key, value, ttl=ttl, nx=True)

    def _acquire_and_get(self, lock_key: str, token: str, timeout: float, keys: tuple[str, ...],
                         claim: tuple[str, str, float] | None,
                         mark: Mark | None = None) -> tuple[bool, bool, str | None, list[str | None]]:
        with self._mutex:
            self._keep_mark(mark)
            if claim is not None and not self.set(claim[0], claim[1], ttl=claim[2], nx=True):
                return False, False, None, []
            if not self.set(lock_key, token, ttl=timeout, nx=True):
                return True, False, self.get(lock_key), []
            return True, True, token, [self.get(key) for key in keys]

    def _write_and_release(self, lock_key: str, token: str, key: str, record: Guarded) -> None:
        with self._mutex:
            if record.sealed is not None and self.get(record.sealed[0]) == record.sealed[3]:
                self.set(record.sealed[0], record.sealed[1], ttl=record.sealed[2])
            if self.get(lock_key) != token:
                return
            if record.changed:
                if record.write is None:
                    self.delete(key)
                else:
                    self.set(key, record.write[0], ttl=record.write[1])
            self.delete(lock_key)


# Delete the lock only if we still own it, atomically (a Lua script runs as one step in Redis).
_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# Extend the lock's expiry only if we still own it.
_EXTEND_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
# The release, writing (ARGV[2] = "set"/"del"/"keep") the guarded value first: KEYS = lock, value. With a third key,
# the seal: set it to ARGV[5] (PX ARGV[6]) if it still holds ARGV[7], whether or not the lock is still ours.
_WRITE_AND_RELEASE_SCRIPT = """
if KEYS[3] and redis.call('get', KEYS[3]) == ARGV[7] then redis.call('set', KEYS[3], ARGV[5], 'PX', ARGV[6]) end
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'set' then
  if tonumber(ARGV[4]) > 0 then redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4])
  else redis.call('set', KEYS[2], ARGV[3]) end
elseif ARGV[2] == 'del' then redis.call('del', KEYS[2]) end
return redis.call('del', KEYS[1])
"""


class RedisStore(KeyValueStore):
    """The shared store for many processes, on a Redis server; every key carries a prefix.

    Commands go straight through one redis-py connection per thread: the client's pool, retry and parsing layers
    cost about 0.1 ms of CPU per command, three times the round trip itself, and every chat message makes several.
    """

    def __init__(self, url: str, prefix: str = "linli:") -> None:
        import redis

        self.prefix = prefix
        # The client only describes the server (its pool's connection class and settings); commands use _call.
        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2.0,
                                           socket_connect_timeout=2.0)
        self._errors = (redis.ConnectionError, redis.TimeoutError, OSError)
        self._pack = _packer()
        self._no_script = redis.exceptions.NoScriptError
        self._local = threading.local()
        self._scripts = {body: hashlib.sha1(body.encode()).hexdigest() for body in
                         (_RELEASE_SCRIPT, _EXTEND_SCRIPT, _WRITE_AND_RELEASE_SCRIPT)}
        # Flags seen in this process, with their expiry: most messages then need no round trip to check them.
        self._near_flags: dict[str, float] = {}

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # a forked worker must not share its parent's socket
            pool = self.client.connection_pool
            conn = self._local.conn = pool.connection_class(**pool.connection_kwargs)
            self._local.pid = os.getpid()
        return conn

    def _call(self, *commands: tuple) -> list:
        """Send commands in one round trip and return their replies (an error reply raises)."""
        conn = self._connection()
        if conn._sock is not None and _readable(conn._sock):
            # Between round trips nothing may arrive: an end of file or a reset means the server closed this socket
            # (Redis restarted since its last use). Reconnect before sending rather than lose the commands' replies.
            conn.disconnect()
        for attempt in (1, 2):
            fresh = conn._sock is None
            try:
                conn.send_packed_command(self._pack(conn, commands), check_health=False)
            except self._errors:
                conn.disconnect()
                # A socket that went stale (Redis restarted since its last use) gets one reconnect; the commands
                # cannot have run when sending them failed.
                if fresh or attempt == 2:
                    raise
                continue
            try:
                return [conn.read_response() for _ in commands]
            except BaseException:
                conn.disconnect()  # unread replies would be taken for the next command's
                raise
        raise AssertionError("unreachable")

    def _one(self, *command):
        return self._call(command)[0]

    def _script(self, body: str, keys: list[str], args: list) -> Any:
        sha = self._scripts[body]
        try:
            return self._one("EVALSHA", sha, len(keys), *keys, *args)
        except self._no_script:  # a restarted or flushed server: load it with this call
            return self._one("EVAL", body, len(keys), *keys, *args)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> str | None:
        return self._one("GET", self._k(key))

    def set(self, key: str, value: str, ttl: float | None = None, nx: bool = False) -> bool:
        command = ["SET", self._k(key), value]
        if ttl:
            command += ["PX", int(ttl * 1000)]
        if nx:
            command.append("NX")
        return self._one(*command) is not None

    def delete(self, key: str) -> None:
        self._near_flags.pop(key, None)
        self._one("DEL", self._k(key))

    def flag(self, key: str, ttl: float) -> None:
        self.set(key, "1", ttl=ttl)
        self._remember_flag(key, ttl)

    def flagged(self, key: str) -> bool:
        if self._near_flags.get(key, 0.0) > time.monotonic():
            return True
        ms = self._one("PTTL", self._k(key))  # -2: absent, -1: no expiry
        if ms == -2:
            return False
        self._remember_flag(key, ms / 1000 if ms > 0 else 60.0)
        return True

    def _remember_flag(self, key: str, ttl: float) -> None:
        if len(self._near_flags) >= 50_000:  # bounded memory: forget everything rather than track ages
            self._near_flags.clear()
        self._near_flags[key] = time.monotonic() + ttl

    def incr(self, key: str, ttl: float) -> int:
        # NX: the window starts at the first hit and is not extended by later ones.
        count, _ = self._call(("INCR", self._k(key)), ("PEXPIRE", self._k(key), int(ttl * 1000), "NX"))
        return int(count)

    def ttl(self, key: str) -> float | None:
        ms = self._one("PTTL", self._k(key))
        return None if ms is None or ms < 0 else ms / 1000

    def ping(self) -> bool:
        return bool(self._one("PING"))

    def clear(self) -> None:
        self._near_flags.clear()
        for keys in self._scan(self.prefix + "*"):
            self._one("DEL", *keys)

    def items(self, pattern: str = "*") -> Iterator[tuple[str, str | None]]:
        for keys in self._scan(self.prefix + pattern):
            values = self._one("MGET", *keys)  # one round trip; None for a key that expired meanwhile or holds no string
            yield from ((key[len(self.prefix):], value) for key, value in zip(keys, values))

    def _scan(self, match: str) -> Iterator[list[str]]:
        """The full keys matching `match`, a non-empty batch at a time (SCAN: the server is never blocked)."""
        cursor = "0"
        while True:
            cursor, keys = self._one("SCAN", cursor, "MATCH", match, "COUNT", 500)
            if keys:
                yield keys
            if str(cursor) == "0":
                break

    def _release_if_owner(self, key: str, token: str) -> None:
        self._script(_RELEASE_SCRIPT, [self._k(key)], [token])

    def _extend_if_owner(self, key: str, token: str, ttl: float) -> bool:
        return bool(self._script(_EXTEND_SCRIPT, [self._k(key)], [token, int(ttl * 1000)]))

    def _mark_commands(self, mark: Mark | None) -> list[tuple]:
        """SET NX and GET of a mark, to lead a round trip (nothing without one)."""
        if mark is None:
            return []
        key = self._k(mark[0])
        return [("SET", key, mark[1], "PX", int(mark[2] * 1000), "NX"), ("GET", key)]

    @staticmethod
    def _mark_taken(mark: Mark | None, replies: list) -> bool:
        """Pop the mark's two replies; whether it holds another value (absent again by now counts as ours)."""
        if mark is None:
            return False
        _, held = replies.pop(0), replies.pop(0)
        return held is not None and held != mark[1]

    def claim_marked(self, key: str, value: str, ttl: float, mark: Mark) -> bool:
        replies = self._call(*self._mark_commands(mark), ("SET", self._k(key), value, "PX", int(ttl * 1000), "NX"))
        taken, claimed = self._mark_taken(mark, replies), replies[0] is not None
        if taken:
            if claimed:
                self.delete(key)  # set in the same round trip, before the mark could be read: give it back
            raise MarkTaken(mark[0])
        return claimed

    def _acquire_and_get(self, lock_key: str, token: str, timeout: float, keys: tuple[str, ...],
                         claim: tuple[str, str, float] | None,
                         mark: Mark | None = None) -> tuple[bool, bool, str | None, list[str | None]]:
        # One round trip: SET NX the mark, the claim and the lock, GET the mark, the lock's holder and the values;
        # the caller gives the lock back when the claim was taken already (a retry of the same message: rare), and
        # ignores the values without the lock. A mark held for other work undoes the rest (an attack: rarer still).
        commands = [("SET", self._k(lock_key), token, "PX", int(timeout * 1000), "NX"), ("GET", self._k(lock_key)),
                    *(("GET", self._k(key)) for key in keys)]
        if claim is not None:
            commands.insert(0, ("SET", self._k(claim[0]), claim[1], "PX", int(claim[2] * 1000), "NX"))
        replies = self._call(*self._mark_commands(mark), *commands)
        taken = self._mark_taken(mark, replies)
        claimed = claim is None or replies.pop(0) is not None
        acquired = replies[0] is not None
        if taken:
            if claim is not None and claimed:
                self.delete(claim[0])
            if acquired:
                self._release_if_owner(lock_key, token)
            raise MarkTaken(mark[0])
        return claimed, acquired, replies[1], replies[2:]

    def _write_and_release(self, lock_key: str, token: str, key: str, record: Guarded) -> None:
        if not record.changed:
            op, value, ttl_ms = "keep", "", 0
        elif record.write is None:
            op, value, ttl_ms = "del", "", 0
        else:
            op, value, ttl_ms = "set", record.write[0], int(record.write[1] * 1000) if record.write[1] else 0
        keys, args = [self._k(lock_key), self._k(key)], [token, op, value, ttl_ms]
        if record.sealed is not None:
            seal_key, seal_value, seal_ttl, only_if = record.sealed
            keys.append(self._k(seal_key))
            args += [seal_value, int(seal_ttl * 1000), only_if]
        self._script(_WRITE_AND_RELEASE_SCRIPT, keys, args)


def _readable(sock) -> bool:
    """Whether a socket has something to read right now (a poll that does not wait); True once it is closed."""
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
    except (ValueError, OSError):  # closed on our side: no descriptor left
        return True
    return bool(poller.poll(0))


def _packer():
    """How to encode commands: hiredis packs each in C, several times faster than redis-py's Python encoder."""
    try:
        from hiredis import pack_command
    except ImportError:  # redis-py without its hiredis extra still works, only slower
        return lambda conn, commands: conn.pack_commands(commands)
    return lambda conn, commands: [b"".join([pack_command(command) for command in commands])]


def make_store(redis_url: str | None, prefix: str = "linli:") -> KeyValueStore:
    """Redis when a URL is configured, else the embedded in-process store."""
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
