"""The key-value layer: the embedded store and Redis pass the same tests."""

from __future__ import annotations

import os
import threading
import time

import pytest

from app.kv import AlreadyClaimed, LockTimeout, MemoryStore, RedisStore

REDIS_URL = os.environ.get("LINLI_TEST_REDIS_URL")


def _stores():
    yield pytest.param("memory", id="memory")
    yield pytest.param("redis", id="redis", marks=pytest.mark.skipif(
        not REDIS_URL, reason="LINLI_TEST_REDIS_URL 未设置：跳过 Redis 实现的测试"))


@pytest.fixture(params=list(_stores()))
def kvs(request):
    store = MemoryStore() if request.param == "memory" else RedisStore(REDIS_URL, prefix="linli-kvtest:")
    store.clear()
    yield store
    store.clear()


def test_set_get_delete(kvs):
    assert kvs.get("a") is None
    assert kvs.set("a", "1")
    assert kvs.get("a") == "1"
    kvs.delete("a")
    assert kvs.get("a") is None


def test_set_nx_only_once(kvs):
    assert kvs.set("once", "first", ttl=10, nx=True)
    assert not kvs.set("once", "second", ttl=10, nx=True)
    assert kvs.get("once") == "first"


def test_ttl_expires(kvs):
    kvs.set("short", "x", ttl=0.2)
    assert 0 < kvs.ttl("short") <= 0.2
    time.sleep(0.3)
    assert kvs.get("short") is None
    assert kvs.set("short", "y", ttl=5, nx=True)


def test_json_roundtrip(kvs):
    kvs.set_json("conv", {"state": "ask_building", "slots": {"building": "3"}, "文字": "楼道灯"})
    assert kvs.get_json("conv") == {"state": "ask_building", "slots": {"building": "3"}, "文字": "楼道灯"}


def test_incr_fixed_window_and_rate_limit(kvs):
    assert [kvs.incr("hits", ttl=0.3) for _ in range(3)] == [1, 2, 3]
    assert not kvs.hit_limit("bind:o1", limit=2, window=0.3)
    assert not kvs.hit_limit("bind:o1", limit=2, window=0.3)
    assert kvs.hit_limit("bind:o1", limit=2, window=0.3)
    time.sleep(0.4)
    assert kvs.incr("hits", ttl=0.3) == 1
    assert not kvs.hit_limit("bind:o1", limit=2, window=0.3)


def test_lock_is_exclusive_across_threads(kvs):
    inside = []
    overlaps = []

    def worker():
        with kvs.lock("token", timeout=5, wait=5):
            if inside:
                overlaps.append(1)
            inside.append(1)
            time.sleep(0.02)
            inside.pop()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_lock_times_out_and_expires(kvs):
    with kvs.lock("busy", timeout=0.3, wait=1):
        with pytest.raises(LockTimeout):
            with kvs.lock("busy", timeout=1, wait=0.05):
                pass
    # A holder that died leaves a lock that expires on its own.
    assert kvs.set("lock:stale", "dead-holder", ttl=0.2, nx=True)
    with kvs.lock("stale", timeout=1, wait=1):
        pass


def test_release_only_by_owner(kvs):
    with kvs.lock("mine", timeout=0.2, wait=1):
        time.sleep(0.3)  # our lock expired; another holder takes it
        assert kvs.set("lock:mine", "other", ttl=5, nx=True)
    assert kvs.get("lock:mine") == "other"


def test_guarded_reads_then_writes_under_the_lock(kvs):
    with kvs.guarded("conv:o1", "conv:o1:state", timeout=5, wait=1) as stored:
        assert stored.value is None
        assert not kvs.set("lock:conv:o1", "intruder", ttl=5, nx=True)  # held while inside
        stored.put("step-1", ttl=5)
    assert kvs.get("conv:o1:state") == "step-1" and 0 < kvs.ttl("conv:o1:state") <= 5
    assert kvs.get("lock:conv:o1") is None
    with kvs.guarded("conv:o1", "conv:o1:state") as stored:
        assert stored.value == "step-1"  # nothing put: the value stays
    assert kvs.get("conv:o1:state") == "step-1"
    with kvs.guarded("conv:o1", "conv:o1:state") as stored:
        stored.remove()
    assert kvs.get("conv:o1:state") is None


def test_guarded_serialises_read_modify_write_across_threads(kvs):
    kvs.set("counter", "0")

    def bump():
        for _ in range(20):
            with kvs.guarded("counter", "counter", timeout=5, wait=10) as stored:
                stored.put(str(int(stored.value) + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kvs.get("counter") == "80"


def test_guarded_writes_nothing_after_an_error_or_a_lost_lock(kvs):
    with pytest.raises(RuntimeError):
        with kvs.guarded("g", "g:value") as stored:
            stored.put("half-done")
            raise RuntimeError("handler failed")
    assert kvs.get("g:value") is None and kvs.get("lock:g") is None
    with kvs.guarded("g", "g:value", timeout=0.2) as stored:
        time.sleep(0.3)  # our lock expired and someone else took it and wrote a newer value
        assert kvs.set("lock:g", "other", ttl=5, nx=True)
        kvs.set("g:value", "newer")
        stored.put("stale")
    assert kvs.get("g:value") == "newer" and kvs.get("lock:g") == "other"
    with pytest.raises(LockTimeout):
        with kvs.guarded("g", "g:value", wait=0.05):
            pass


def test_flags_are_seen_and_forgotten(kvs):
    assert not kvs.flagged("fresh:o1")
    kvs.flag("fresh:o1", ttl=0.3)
    assert kvs.flagged("fresh:o1") and kvs.flagged("fresh:o1")
    kvs.delete("fresh:o1")
    assert not kvs.flagged("fresh:o1")
    kvs.flag("fresh:o2", ttl=0.2)
    time.sleep(0.3)
    assert not kvs.flagged("fresh:o2")


def test_a_flag_set_by_another_process_is_seen(kvs):
    other = kvs if isinstance(kvs, MemoryStore) else RedisStore(REDIS_URL, prefix="linli-kvtest:")
    other.flag("fresh:o3", ttl=5)
    assert kvs.flagged("fresh:o3")


def test_a_kept_alive_lock_outlives_its_timeout_and_then_expires_when_abandoned(kvs):
    with kvs.lock("batch", timeout=0.3, wait=0, keep_alive=True):
        time.sleep(0.7)  # longer than the timeout: the keep-alive extended it
        assert not kvs.set("lock:batch", "other", ttl=5, nx=True)
    assert kvs.get("lock:batch") is None
    # A holder that dies stops renewing: the lock is free again after one timeout.
    kvs.set("lock:batch", "dead-holder", ttl=0.3, nx=True)
    time.sleep(0.4)
    with kvs.lock("batch", timeout=1, wait=0):
        pass


def test_guarded_reads_other_keys_in_the_same_step(kvs):
    kvs.set("gen", "7")
    with kvs.guarded("g2", "state:g2", also=("gen", "missing")) as stored:
        assert stored.value is None
        assert stored.also == {"gen": "7", "missing": None}


def test_guarded_takes_a_claim_with_the_lock_and_seals_at_release(kvs):
    with kvs.guarded("c", "c:state", claim=("m:1", "claimed", 5)) as stored:
        assert kvs.get("m:1") == "claimed"
        stored.put("s1")
        stored.seal("m:1", "done", 60, only_if="claimed")
    assert kvs.get("m:1") == "done" and kvs.get("c:state") == "s1" and kvs.get("lock:c") is None
    # The same claim again: refused, the lock given back, nothing read or written.
    with pytest.raises(AlreadyClaimed):
        with kvs.guarded("c", "c:state", claim=("m:1", "claimed", 5)):
            raise AssertionError("the block must not run")
    assert kvs.get("lock:c") is None and kvs.get("m:1") == "done" and kvs.get("c:state") == "s1"


def test_a_claim_waits_for_the_lock_and_a_seal_keeps_a_changed_key(kvs):
    kvs.set("lock:c2", "someone", ttl=0.2)  # another message of the same resident, finishing soon
    with kvs.guarded("c2", "c2:state", wait=2, claim=("m:2", "claimed", 5)) as stored:
        kvs.set("m:2", "late")  # marked late by the waiting request meanwhile
        stored.seal("m:2", "done", 60, only_if="claimed")
    assert kvs.get("m:2") == "late"
    with pytest.raises(RuntimeError):
        with kvs.guarded("c2", "c2:state", claim=("m:3", "claimed", 5)) as stored:
            stored.seal("m:3", "done", 60, only_if="claimed")
            raise RuntimeError("handler failed")
    assert kvs.get("m:3") == "claimed" and kvs.get("lock:c2") is None  # no seal after an error


def test_a_lock_left_by_a_dead_holder_of_the_same_claim_is_taken_over_at_once(kvs):
    # A delivery took the claim and the lock, then its process died: its claim lapsed, its lock would last 15 s.
    kvs.set("lock:c3", "m:9|deadbeef", ttl=15)
    started = time.monotonic()
    with kvs.guarded("c3", "c3:state", timeout=15, wait=2, claim=("m:9", "claimed", 5)) as stored:
        stored.put("s")
    assert time.monotonic() - started < 0.5 and kvs.get("c3:state") == "s" and kvs.get("lock:c3") is None
    # The lock of another message (or one taken without a claim) is waited for, as before.
    for holder in ("m:8|cafe", "m:9"):
        kvs.set("lock:c3", holder, ttl=15)
        with pytest.raises(LockTimeout):
            with kvs.guarded("c3", "c3:state", wait=0.1, claim=(f"m:{holder}", "claimed", 5)):
                pass
        assert kvs.get("lock:c3") == holder


def test_extend_if_renews_only_the_same_value(kvs):
    assert not kvs.extend_if("k", "v", 5)
    kvs.set("k", "v", ttl=0.3)
    assert kvs.extend_if("k", "v", 5) and kvs.ttl("k") > 1
    assert not kvs.extend_if("k", "other", 5)


@pytest.mark.skipif(not REDIS_URL, reason="LINLI_TEST_REDIS_URL 未设置：跳过 Redis 实现的测试")
def test_redis_reconnects_when_the_server_closed_an_idle_connection():
    import redis

    store = RedisStore(REDIS_URL, prefix="linli-kvtest:")
    store.set("n", "1")
    client_id = store._one("CLIENT", "ID")
    redis.Redis.from_url(REDIS_URL).client_kill_filter(_id=client_id)  # as a restarted server does
    time.sleep(0.05)
    assert store.get("n") == "1"  # the closed socket is noticed before sending: no command and no reply lost
    assert store._one("CLIENT", "ID") != client_id
    store.clear()


@pytest.mark.skipif(not REDIS_URL, reason="LINLI_TEST_REDIS_URL 未设置：跳过 Redis 实现的测试")
def test_redis_connection_survives_an_error_reply_and_a_dropped_socket():
    import redis

    store = RedisStore(REDIS_URL, prefix="linli-kvtest:")
    store.clear()
    store.set("n", "not a number")
    with pytest.raises(redis.ResponseError):
        store._call(("INCR", store._k("n")), ("GET", store._k("n")))  # an error reply mid-batch
    assert store.get("n") == "not a number"  # no reply of the failed batch is read as this one's
    store._connection()._sock.close()  # as after a Redis restart: the next command reconnects once
    assert store.get("n") == "not a number"
    store.clear()
