"""The scheduler process: APScheduler runs JOBS inside an app context, only while holding the leader lock."""

from __future__ import annotations

import importlib
import logging
import socket
import os
import threading
import uuid

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from app.clock import TZ
from app.jobs import JOBS, JobSpec

log = logging.getLogger(__name__)

LEADER_KEY = "scheduler:leader"
LEADER_TTL = 30  # seconds; a standby takes over within this (well under a minute) if the leader dies


def resolve(path: str):
    """Import "module:function"."""
    module_name, name = path.split(":")
    return getattr(importlib.import_module(module_name), name)


def run_job(app: Flask, spec: JobSpec) -> None:
    """Run one job in a fresh app context; errors are logged, never kill the scheduler."""
    with app.app_context():
        from app.extensions import db

        try:
            resolve(spec.func)()
        except Exception:  # a failing job must not stop the others; it runs again next time
            log.exception("job %s failed", spec.id)
            db.session.rollback()
        finally:
            db.session.remove()


def build_scheduler(app: Flask, jobs: list[JobSpec] = JOBS) -> BackgroundScheduler:
    """A scheduler with every job added idempotently (stable ids, replace_existing, coalesce, one at a time)."""
    scheduler = BackgroundScheduler(timezone=TZ, job_defaults={"coalesce": True, "max_instances": 1,
                                                               "misfire_grace_time": 300})
    for spec in jobs:
        scheduler.add_job(run_job, spec.trigger, args=[app, spec], id=spec.id, name=spec.description or spec.id,
                          replace_existing=True, **spec.args)
    return scheduler


class LeaderLock:
    """Only one scheduler process runs jobs; the lock expires when its holder stops renewing it."""

    def __init__(self, store, ttl: int = LEADER_TTL):
        self.store, self.ttl = store, ttl
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire_or_renew(self) -> bool:
        """Become (or stay) leader; False while another live process leads."""
        if self.store.get(LEADER_KEY) == self.token:
            self.store.set(LEADER_KEY, self.token, ttl=self.ttl)
            return True
        return self.store.set(LEADER_KEY, self.token, ttl=self.ttl, nx=True)

    def release(self) -> None:
        if self.store.get(LEADER_KEY) == self.token:
            self.store.delete(LEADER_KEY)


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Hold or wait for leadership; run the jobs while leader, pause them when leadership is lost."""
    from app.extensions import kv

    stop = stop or threading.Event()
    with app.app_context():
        store = kv()
    lock = LeaderLock(store)
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    leading: bool | None = None  # unknown: the first round logs whether this process leads or stands by
    try:
        while not stop.is_set():
            try:
                now_leading = lock.acquire_or_renew()
            except Exception:  # the store is down: stop running jobs until it answers again
                log.exception("leader lock unavailable")
                now_leading = False
            if now_leading != leading:
                leading = now_leading
                (scheduler.resume if leading else scheduler.pause)()
                log.info("scheduler %s", "is leader: running jobs" if leading else
                         "is standby: another process runs the jobs, taking over if it stops")
            stop.wait(LEADER_TTL / 3)
    finally:
        scheduler.shutdown(wait=True)
        lock.release()
