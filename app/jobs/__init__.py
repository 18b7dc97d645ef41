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
    JobSpec("tickets.escalate", "app.jobs.tickets:escalate_tickets", "interval", {"minutes": 5}, "超期工单逐级提醒升级、超时未评价销号"),
    JobSpec("votes.close", "app.jobs.votes:open_and_close_votes", "interval", {"minutes": 1}, "表决到点开始（锁定总数）、到点截止计票"),
    JobSpec("votes.remind", "app.jobs.votes:remind_non_voters", "cron", {"hour": 10}, "把本楼未投票房号发给楼栋长（每天一次）"),
    JobSpec("fees.generate_bills", "app.jobs.fees:generate_bills", "cron", {"hour": 2, "minute": 30}, "生成物业费账单、以工抵费抵扣"),
    JobSpec("fees.remind", "app.jobs.fees:remind", "cron", {"minute": 20}, "物业费提醒与逐级劝导（避开免打扰时段）"),
    JobSpec("services.auto_confirm", "app.jobs.services:auto_confirm_orders", "interval", {"minutes": 30}, "上门服务完工3天未确认的订单自动确认"),
    JobSpec("fees.monthly_report", "app.jobs.fees:monthly_report", "cron", {"day": 1, "hour": 6}, "生成街道月报（六有、覆盖率、收缴率）"),
]
