"""`linli jobs`: the scheduler process (reminders, escalations, vote closing, the outbox sender)."""

from __future__ import annotations

import signal
import threading

import click


@click.command("jobs", help="启动定时任务进程。可以启动多个，只有一个在运行任务，其余待命接替。")
@click.option("--list", "list_only", is_flag=True, help="只列出任务")
@click.option("--run", "run_one", help="立即运行一次指定任务（任务编号）")
def jobs_command(list_only: bool, run_one: str | None) -> None:
    """Run the scheduler with leader election, list the jobs, or run one job now."""
    from app import create_app
    from app.jobs import JOBS
    from app.jobs.runner import run_forever, run_job

    if list_only:
        for spec in JOBS:
            click.echo(f"{spec.id:<28} {spec.trigger} {spec.args}  {spec.description}")
        return
    app = create_app({"LINLI_NLP_PRELOAD": False})
    if run_one:
        spec = next((s for s in JOBS if s.id == run_one), None)
        if spec is None:
            raise click.ClickException(f"没有这个任务：{run_one}（用 --list 查看）")
        run_job(app, spec)
        click.echo(f"已运行：{spec.id}")
        return
    if not app.config.get("REDIS_URL"):
        click.echo("提示：未设置 REDIS_URL，只能运行一个定时任务进程。", err=True)
    click.echo("定时任务进程已启动，按 Ctrl+C 停止。")
    stop = threading.Event()
    # systemd stops a service with SIGTERM: finish the running job and hand the leader lock over, like Ctrl+C.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_forever(app, stop)
    click.echo("定时任务进程已停止。")
