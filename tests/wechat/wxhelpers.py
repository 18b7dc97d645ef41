"""Helpers for cross-process gateway tests: run wxproc.py copies against this test's database and store."""

from __future__ import annotations

import pytest


def run_processes(app, role: str, count: int, extra_app: dict | None = None, **config):
    """Start `count` copies of wxproc.py against this test's database and store; return the Popen objects."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    settings = {key: app.config.get(key) for key in (
        "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "REDIS_PREFIX", "SECRET_KEY", "WECHAT_TOKEN", "WECHAT_APPID",
        "WECHAT_AES_KEY", "WECHAT_SECRET", "WECHAT_API_BASE", "WECHAT_API_TIMEOUT", "WECHAT_REPLY_DEADLINE")}
    payload = json.dumps({"app": {**settings, **(extra_app or {})}, **config})
    script = Path(__file__).with_name("wxproc.py")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return [subprocess.Popen([sys.executable, str(script), payload, role], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(count)]


needs_redis = pytest.mark.skipif(
    not __import__("os").environ.get("LINLI_TEST_REDIS_URL"),
    reason="cross-process sharing needs Redis: pass 1 uses the per-process MemoryStore "
           "(set LINLI_TEST_REDIS_URL to run this part)")
