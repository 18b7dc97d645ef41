"""`linli serve`: the web app under gunicorn (production) or Flask's threaded server (--dev)."""

from __future__ import annotations

import click

from app import config


@click.command("serve", help="启动网页服务。生产环境用 gunicorn 多进程（需 REDIS_URL）。")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="gunicorn 工作进程数")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64), help="每个进程的线程数")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="逐条记录访问日志（前面有 nginx 时它已记录，一般不必再开）")
@click.option("--dev", is_flag=True, help="用 Flask 自带的单进程服务器（开发调试）")
def serve_command(host: str, port: int, workers: int, threads: int, access_log: bool, dev: bool) -> None:
    """Serve the app; several workers need Redis so that dedupe, sessions and locks are shared."""
    config.load_dotenv_file()
    settings = config.from_environment("instance")
    if workers > 1 and not settings.get("REDIS_URL"):
        raise click.ClickException("多进程模式需要设置 REDIS_URL（内置存储只能在单进程中使用）。")
    if not dev and settings["SECRET_KEY"] == config.DEFAULT_SECRET_KEY:
        # The default key is public: phone numbers encrypted with it, and QR tokens signed with it, protect nothing.
        raise click.ClickException("生产模式需要设置 SECRET_KEY（随机生成一次并妥善保存，见 docs/deployment.md）。"
                                   "只是试用请运行 linli demo 或 linli serve --dev。")
    from app import create_app

    if dev:
        create_app().run(host=host, port=port, threaded=True)
        return
    run_gunicorn(host, port, workers, threads, access_log)


def _settle_heap(worker) -> None:
    """After a worker has loaded the app: move what it loaded (models, NLU weights) out of the collector's way.

    Everything alive now lives as long as the worker; frozen, it is no longer walked by every full collection,
    which otherwise shows up as latency spikes on requests that happen to trigger one.
    """
    import gc

    gc.collect()
    gc.freeze()


def run_gunicorn(host: str, port: int, workers: int, threads: int = 2, access_log: bool = False) -> None:
    """Run create_app() under gunicorn with N workers of a few threads (a slow call does not stall its worker).

    Two threads by default: the webhook hands its handlers to a pool of its own, so a request thread mostly parses,
    decrypts and waits; more threads only add GIL contention (4 instead of 2 cost about 12 % of message throughput
    in benchmarks/load_harness.py --issue3).
    """
    from gunicorn.app.base import BaseApplication

    class LinliServer(BaseApplication):
        def load_config(self):
            settings = {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                        "timeout": 30, "graceful_timeout": 20, "accesslog": "-" if access_log else None,
                        "preload_app": False, "post_worker_init": _settle_heap}
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn ≥ 25 opens a control socket at one fixed path per user; two instances on a host would
                # fight over it, and Linli is managed through systemd and signals instead.
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            from app import create_app

            return create_app()

    LinliServer().run()
