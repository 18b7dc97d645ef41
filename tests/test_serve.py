"""`linli serve`: the production server really starts gunicorn workers, and refuses several without Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from app.commands.serve import serve_command

TEST_REDIS_URL = os.environ.get("LINLI_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[1]


def test_production_mode_needs_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("app.config.load_dotenv_file", lambda *a, **k: None)
    result = CliRunner().invoke(serve_command, ["--workers", "1"])
    assert result.exit_code != 0
    assert "生产模式需要设置 SECRET_KEY" in result.output


def test_several_workers_need_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr("app.config.load_dotenv_file", lambda *a, **k: None)
    result = CliRunner().invoke(serve_command, ["--workers", "2"])
    assert result.exit_code != 0
    assert "多进程模式需要设置 REDIS_URL" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes, str]:
    """Status, body and the URL finally reached (redirects followed)."""
    import urllib.request
    from urllib.error import HTTPError

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read(), response.url
    except HTTPError as error:
        return error.code, error.read(), error.url


def test_serve_runs_gunicorn_workers_that_answer(tmp_path):
    # Pass 2 runs the multi-worker setup on the test Redis; pass 1 one worker on the embedded store.
    workers = 2 if TEST_REDIS_URL else 1
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3", "SECRET_KEY": "serve-test",
           "REDIS_URL": TEST_REDIS_URL or "", "REDIS_PREFIX": f"linli-serve-test-{os.getpid()}:",
           "LINLI_NLP_PRELOAD": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli_entry", "serve", "--workers", str(workers),
                             "--port", str(port)], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, body, _ = _get(port, "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200 and b'"ok":true' in body
        assert _get(port, "/login")[0] == 200
        assert "/login" in _get(port, "/admin/estates")[2]  # staff pages still want a login
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert output.count("Booting worker") == workers, output
    assert "Traceback" not in output, output
