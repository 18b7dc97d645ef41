"""Private servers and Linli's processes for the fault scripts: PostgreSQL, Redis, offline WeChat, gunicorn, jobs.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379): every script starts its own cluster and
redis-server on free ports in a temporary directory and removes them when it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN, APPID, SECRET = "fault-token", "wxfaultapp0000001", "fault-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0) -> None:
    """Block until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 15.0) -> None:
    """Stop a process started in its own session, with its children; SIGKILL if it does not go."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=wait)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class PrivateRedis:
    """A redis-server of our own without persistence: a restart really loses every key."""

    def __init__(self, workdir: Path):
        self.port, self.workdir, self.proc = free_port(), workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_port(self.port, 10)

    def kill(self) -> None:
        """SIGKILL: no shutdown, connections reset, every key gone."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc)


class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own (initdb as user postgres in a temporary directory owned by postgres)."""

    def __init__(self, workdir: Path):
        self.port, self.dir = free_port(), workdir / "pg"
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/linli_fault"

    def _as_postgres(self, command: str) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        self._as_postgres(f"{PG_BIN}/initdb -D {self.dir}/data -A trust -U postgres --no-sync")
        self.start()
        self._as_postgres(f"{PG_BIN}/createdb -h 127.0.0.1 -p {self.port} -U postgres linli_fault")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.dir}/data -o '{options}' -l {self.dir}/log -w start")

    def kill(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies, open transactions are lost, crash recovery on start."""
        self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.dir}/data -m immediate -w stop")

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.dir}/data -m immediate -w stop")


class Stack:
    """Private PostgreSQL + Redis, the offline WeChat and Linli's commands, all configured through the environment."""

    def __init__(self, *, api_timeout: float = 5.0, send_rate: int = 20):
        self.tmp = Path(tempfile.mkdtemp(prefix="linli-fault-"))
        shutil.chown(self.tmp, "postgres")  # initdb's parent must be reachable by postgres
        os.chmod(self.tmp, 0o755)
        self.redis, self.pg = PrivateRedis(self.tmp), PrivatePostgres(self.tmp)
        self.procs: list[subprocess.Popen] = []
        self.fake_base = self.base = ""
        self.api_timeout, self.send_rate = api_timeout, send_rate
        self._app = None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self):
        try:
            self.fake_port = free_port()
            self.fake_base = f"http://127.0.0.1:{self.fake_port}"
            self.spawn(["fake-wechat", "--port", str(self.fake_port)], "fake")
            self.redis.start()
            self.pg.init()
            self.linli(["demo", "--seed-only"])  # migrates (as `linli db upgrade` does), then seeds the demo
            wait_port(self.fake_port)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            stop_group(proc, wait=5)
        if self._app is not None:
            with self._app.app_context():
                from app.extensions import db

                db.session.remove()
                db.engine.dispose()
        self.redis.stop()
        self.pg.stop()
        if os.environ.get("FAULT_KEEP"):  # keep logs and data for a post-mortem
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def env(self) -> dict:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "WECHAT_", "LINLI_"))}
        return {**keep, "DATABASE_URL": self.pg.url, "REDIS_URL": self.redis.url, "REDIS_PREFIX": "linli:",
                "SECRET_KEY": "fault-secret-key", "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID,
                "WECHAT_SECRET": SECRET, "WECHAT_AES_KEY": AES_KEY, "WECHAT_API_BASE": self.fake_base,
                "WECHAT_API_TIMEOUT": str(self.api_timeout), "WECHAT_SEND_RATE": str(self.send_rate),
                "LINLI_NLP_PRELOAD": "0", "PYTHONUNBUFFERED": "1"}

    def linli(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a `linli` command to its end (from the temporary directory: its own instance/, no .env)."""
        return subprocess.run([str(BIN / "linli"), *args], cwd=self.tmp, env=self.env, check=True, timeout=timeout,
                              capture_output=True, text=True)

    def spawn(self, args: list[str], name: str, **env) -> subprocess.Popen:
        """Start a long-running `linli` command in its own session, output in <tmp>/<name>.log."""
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 — the child process keeps it
        proc = subprocess.Popen([str(BIN / "linli"), *args], cwd=self.tmp, env={**self.env, **env}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def serve(self, workers: int = 2) -> subprocess.Popen:
        """`linli serve --workers N` (gunicorn, gthread) and wait until /healthz answers."""
        port = free_port()
        # Workers load the language model at start, as in production.
        proc = self.spawn(["serve", "--workers", str(workers), "--port", str(port)], "serve", LINLI_NLP_PRELOAD="1")
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return proc
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("linli serve did not answer /healthz")

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- the offline WeChat's control API ----------------------------------------------------------------------
    def fake(self, path: str, payload: dict | None = None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.fake_base + path, data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def sent_log(self) -> list[dict]:
        return self.fake("/_fake/log")["messages"]

    def follow(self, openids) -> None:
        """Tell the fake these residents follow the account and just wrote (the 48 h reply window is open)."""
        for openid in openids:
            self.fake("/_fake/interact", {"openid": openid, "kind": "message"})

    # -- Linli's database, in this process -----------------------------------------------------------------------
    @property
    def app(self):
        if self._app is None:
            from app import create_app

            self._app = create_app({"SQLALCHEMY_DATABASE_URI": self.pg.url, "REDIS_URL": self.redis.url,
                                    "LINLI_NLP_PRELOAD": False, "WECHAT_API_BASE": self.fake_base,
                                    "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET})
        return self._app

    def sql(self, statement: str, **params):
        """Run one SQL statement on the private database and return all rows (a fresh connection each time)."""
        from sqlalchemy import text

        with self.app.app_context():
            from app.extensions import db

            with db.engine.connect() as connection:
                result = connection.execute(text(statement), params)
                rows = result.all() if result.returns_rows else []
                connection.commit()
            db.engine.dispose()  # no pooled connection survives a database restart
            return rows
