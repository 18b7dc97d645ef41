"""The webhook's hand-off to worker threads: waiting with a timeout, results, errors, late callbacks, thread reuse."""

from __future__ import annotations

import threading
import time

import pytest

from app.web.handoff import Workers


def test_a_call_runs_on_a_worker_and_its_result_or_error_comes_back():
    workers = Workers(2, "t")
    pending = workers.submit(lambda a, b: (a + b, threading.current_thread().name), 2, 3)
    assert pending.wait(2)
    value, thread = pending.result()
    assert value == 5 and thread.startswith("t-") and pending.exception() is None
    failing = workers.submit(lambda: 1 / 0)
    assert failing.wait(2) and isinstance(failing.exception(), ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):
        failing.result()


def test_waiting_times_out_and_a_late_callback_runs_once_when_the_call_finishes():
    workers = Workers(2, "t")
    release = threading.Event()
    pending = workers.submit(lambda: release.wait(5) and "done")
    assert not pending.wait(0.05)  # still working: the caller may give up
    seen = []
    pending.when_done(lambda p: seen.append(p.result()))
    release.set()
    assert pending.wait(2) and pending.wait(0)  # and it stays finished for later waits
    for _ in range(100):
        if seen:
            break
        time.sleep(0.01)
    assert seen == ["done"]
    pending.when_done(lambda p: seen.append("again"))  # already finished: runs at once
    assert seen == ["done", "again"]


def test_idle_threads_are_reused_and_at_most_size_run():
    workers = Workers(3, "t")
    for _ in range(20):  # one at a time: one thread serves them all
        assert workers.submit(lambda: None).wait(2)
    assert workers._threads == 1
    gate = threading.Event()
    running = []
    calls = [workers.submit(lambda: running.append(1) or gate.wait(5)) for _ in range(6)]
    time.sleep(0.2)
    assert workers._threads == 3 and len(running) == 3  # the other three wait in the queue
    gate.set()
    assert all(call.wait(2) for call in calls) and len(running) == 6
