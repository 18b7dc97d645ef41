"""Scheduled work declared as data: stable ids, triggers and the function each job calls."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: `func` is "module:function" (a three-line function that calls a service)."""

    id: str
    func: str
    trigger: str  # "interval" or "cron"
    args: dict = field(default_factory=dict)  # trigger arguments, e.g. {"seconds": 10} or {"hour": 9}
    description: str = ""


# Each capability adds its jobs here (one line each); ids never change once deployed.
JOBS: list[JobSpec] = [
    JobSpec("outbox.send", "app.jobs.outbox:send_outbox", "interval", {"seconds": 5}, "发送待发消息（发件箱）"),
]
