"""Fixtures of the hostile-input tests: the app configured with the peer's WeChat keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# wxpeer (the independent WeChat side) lives with the gateway tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))

import fuzzkit  # noqa: E402


@pytest.fixture
def wx_client(app):
    """A test client of the session app, configured like the peer (token, appid, EncodingAESKey)."""
    with fuzzkit.peer_settings(app):
        yield app.test_client()
