"""Browser tests: the app served on a free loopback port over the session's test database, driven by Chromium.

Playwright uses Debian's /usr/bin/chromium (never a downloaded browser). Without it, or with LINLI_SKIP_BROWSER
set, every browser test is skipped with a message saying why.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _skip_reason() -> str | None:
    if os.environ.get("LINLI_SKIP_BROWSER"):
        return "LINLI_SKIP_BROWSER 已设置：跳过浏览器测试"
    if not Path(CHROMIUM).exists():
        return f"没有找到 {CHROMIUM}：跳过浏览器测试（apt-get install -y chromium 后再运行）"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "没有安装 playwright：跳过浏览器测试（pip install -e .[dev]）"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip browser-marked tests up front when Chromium or Playwright is missing."""
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def live_app(app):
    """A second app over the same database as `app`, with CSRF on as in production."""
    from app import create_app

    overrides = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "REDIS_URL",
                                                   "REDIS_PREFIX", "LINLI_NLP_PRELOAD", "PUBLIC_BASE_URL")}
    return create_app({**overrides, "TESTING": True, "WTF_CSRF_ENABLED": True})


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve the live app from a background thread on 127.0.0.1 and a free port; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="linli-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per module: Playwright's sync API allows one running instance per thread, so it is
    stopped before tests elsewhere (which may start their own) run."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, live_server, app):
    """A fresh browser context (no cookies) at desktop size, its base URL set to the live server."""
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where screenshots go: LINLI_SCREENSHOT_DIR when set (to look at them), else a temporary folder."""
    target = os.environ.get("LINLI_SCREENSHOT_DIR")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
