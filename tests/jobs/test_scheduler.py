"""Jobs as data: adding them twice is idempotent; only the leader runs them; a standby takes over."""

from __future__ import annotations

import time

from app.jobs import JOBS, JobSpec
from app.jobs.runner import LEADER_KEY, LeaderLock, build_scheduler, run_job

calls: list[str] = []


def record_call() -> None:
    calls.append("ran")


def failing_job() -> None:
    raise RuntimeError("boom")


def test_job_ids_are_unique_and_functions_resolve():
    from app.jobs.runner import resolve

    assert len({spec.id for spec in JOBS}) == len(JOBS)
    for spec in JOBS:
        assert callable(resolve(spec.func))


def test_rescheduling_is_idempotent(app):
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    for spec in JOBS:  # adding the same jobs again replaces, never duplicates
        scheduler.add_job(run_job, spec.trigger, args=[app, spec], id=spec.id, replace_existing=True, **spec.args)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(spec.id for spec in JOBS)
    job = scheduler.get_job(JOBS[0].id)
    assert job.coalesce and job.max_instances == 1
    scheduler.shutdown(wait=False)


def test_a_failing_job_is_contained(app):
    calls.clear()
    run_job(app, JobSpec("t.fail", "tests_jobs_helpers:missing", "interval", {"seconds": 1}))  # import error
    run_job(app, JobSpec("t.boom", f"{__name__}:failing_job", "interval", {"seconds": 1}))
    run_job(app, JobSpec("t.ok", f"{__name__}:record_call", "interval", {"seconds": 1}))
    assert calls == ["ran"]


def test_leader_lock_one_leader_and_takeover(store):
    first, second = LeaderLock(store, ttl=1), LeaderLock(store, ttl=1)
    assert first.acquire_or_renew()
    assert not second.acquire_or_renew()
    assert first.acquire_or_renew()  # renewal keeps it
    time.sleep(1.2)  # the leader died: its lock expires
    assert second.acquire_or_renew()
    assert store.get(LEADER_KEY) == second.token
    second.release()
    assert store.get(LEADER_KEY) is None


def test_jobs_process_stops_on_sigterm_and_hands_over_the_lock(tmp_path):
    """systemd stops `linli jobs` with SIGTERM: it must stop cleanly and free the leader lock for a standby."""
    import os
    import signal
    import subprocess
    import sys

    from app.kv import RedisStore

    redis_url = os.environ.get("LINLI_TEST_REDIS_URL")
    prefix = f"linli-jobs-test-{os.getpid()}:"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/jobs.sqlite3", "SECRET_KEY": "jobs-test",
           "REDIS_URL": redis_url or "", "REDIS_PREFIX": prefix}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli_entry", "jobs"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "is leader" in line:
                break
        assert any("is leader" in line for line in lines), lines
        if redis_url:
            assert RedisStore(redis_url, prefix).get(LEADER_KEY) is not None
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "定时任务进程已停止" in rest and "Traceback" not in rest
    if redis_url:
        assert RedisStore(redis_url, prefix).get(LEADER_KEY) is None
