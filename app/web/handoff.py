"""A lean hand-off to worker threads: run a call elsewhere, wait for it with a timeout, or leave it a callback.

The webhook hands every message to a worker so that it can give up at WeChat's deadline while the answer is still
computed. concurrent.futures does the same with a Condition per Future, a semaphore and two locks per submit; under
load, that bookkeeping cost about a tenth of the webhook's GIL time. Here a call is one queue put and one plain
lock released by the worker.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)


class Pending:
    """A call handed to a worker: wait() for it, then result(); or when_done(callback) to stop waiting."""

    __slots__ = ("_finished", "_mutex", "_callbacks", "_done", "_value", "_error")

    def __init__(self) -> None:
        self._finished = threading.Lock()
        self._finished.acquire()  # released once, by the worker, when the call returns or raises
        self._mutex = threading.Lock()
        self._callbacks: list[Callable[[Pending], None]] = []
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def wait(self, timeout: float) -> bool:
        """Whether the call has finished, waiting up to `timeout` seconds."""
        if not self._finished.acquire(timeout=max(0.0, timeout)):
            return False
        self._finished.release()  # later waits return at once
        return True

    def result(self) -> Any:
        """The call's return value, or its exception raised again (only once it has finished)."""
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        """The exception the call raised, if any (only once it has finished)."""
        return self._error

    def when_done(self, callback: Callable[[Pending], None]) -> None:
        """Call `callback(self)` in the worker when the call finishes, or now when it already has."""
        with self._mutex:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def _settle(self, value: Any, error: BaseException | None) -> None:
        self._value, self._error = value, error
        with self._mutex:
            self._done = True
            callbacks, self._callbacks = self._callbacks, []
        self._finished.release()
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                log.exception("hand-off callback failed")


class Workers:
    """Up to `size` daemon threads taking calls from one queue; threads start as calls find none idle."""

    def __init__(self, size: int, name: str) -> None:
        self._size, self._name = size, name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for a call and not yet promised one (changed under _lock)

    def submit(self, call: Callable[..., Any], *args: Any) -> Pending:
        """Run call(*args) on a worker."""
        pending = Pending()
        start = False
        with self._lock:
            if self._idle:
                self._idle -= 1  # that thread takes this call
            elif self._threads < self._size:
                self._threads += 1
                start = True
        self._queue.put((call, args, pending))
        if start:
            threading.Thread(target=self._run, name=f"{self._name}-{self._threads}", daemon=True).start()
        return pending

    def _run(self) -> None:
        while True:
            call, args, pending = self._queue.get()
            try:
                value = call(*args)
            except BaseException as error:  # noqa: BLE001 (handed to the waiter, as a Future would)
                pending._settle(None, error)  # noqa: SLF001
            else:
                pending._settle(value, None)  # noqa: SLF001
            call = args = pending = value = None  # hold nothing of a finished call while idle
            with self._lock:
                self._idle += 1
