"""Fixtures for the gateway tests: the app configured with the peer's token/keys, and a webhook poster."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

import wxpeer


@pytest.fixture
def wx_app(app):
    """The session app with the peer's WeChat settings for one test (restored afterwards)."""
    saved = {k: app.config.get(k) for k in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_AES_KEY",
                                            "WECHAT_PREVIOUS_AES_KEY", "WECHAT_REPLY_DEADLINE", "WECHAT_MODE")}
    app.config.update(WECHAT_TOKEN=wxpeer.TOKEN, WECHAT_APPID=wxpeer.APPID, WECHAT_AES_KEY=wxpeer.AES_KEY,
                      WECHAT_PREVIOUS_AES_KEY=None, WECHAT_MODE=None)  # None: the default, safe with a key
    app.extensions.pop("linli_wechat_crypto", None)
    yield app
    app.config.update(saved)
    app.extensions.pop("linli_wechat_crypto", None)


class Poster:
    """Posts pushes to /wechat the way WeChat does and opens the replies."""

    def __init__(self, client):
        self.client = client

    def raw(self, xml: str, mode: str = "safe", **kwargs):
        query, body = wxpeer.push(xml, mode=mode, **kwargs)
        return self.client.post(f"/wechat?{query}", data=body, content_type="text/xml")

    def send(self, openid: str, msg_type: str, fields: dict, mode: str = "safe", create_time=None):
        """Post one message and return (response, parsed reply dict or None for `success`)."""
        response = self.raw(wxpeer.message_xml(openid, msg_type, fields, create_time), mode=mode, openid=openid)
        assert response.status_code == 200, response.data
        inner = wxpeer.open_reply(response.data, mode)
        if inner == "success":
            return response, None
        root = ET.fromstring(inner)
        return response, {child.tag: (child.text or "") for child in root} | {"_xml": inner}


@pytest.fixture
def wx(wx_app):
    return Poster(wx_app.test_client())


FAKE_SECRET = "peer-secret"


@pytest.fixture(scope="session")
def fake_base():
    """One offline WeChat for the session, in a thread."""
    from app.wechat.fake_server import serve_in_thread

    return serve_in_thread("127.0.0.1", 0, appid=wxpeer.APPID, secret=FAKE_SECRET)


class FakeControl:
    """Drive the fake through its control API."""

    def __init__(self, base: str):
        import requests

        self.base, self.http = base, requests.Session()

    def control(self, **data):
        self.http.post(f"{self.base}/_fake/control", json=data, timeout=5).raise_for_status()

    def interact(self, openid: str, kind: str = "message"):
        self.http.post(f"{self.base}/_fake/interact", json={"openid": openid, "kind": kind}, timeout=5)

    def log(self, openid: str | None = None) -> list[dict]:
        params = {"openid": openid} if openid else {}
        return self.http.get(f"{self.base}/_fake/log", params=params, timeout=5).json()["messages"]

    def state(self) -> dict:
        return self.http.get(f"{self.base}/_fake/state", timeout=5).json()


@pytest.fixture
def fake(fake_base, wx_app):
    """A reset fake, with the app's client pointed at it."""
    control = FakeControl(fake_base)
    control.control(reset=True)
    saved = {k: wx_app.config.get(k) for k in ("WECHAT_API_BASE", "WECHAT_SECRET", "WECHAT_API_TIMEOUT")}
    wx_app.config.update(WECHAT_API_BASE=fake_base, WECHAT_SECRET=FAKE_SECRET, WECHAT_API_TIMEOUT=5.0)
    wx_app.extensions.pop("linli_wechat_client", None)
    yield control
    wx_app.config.update(saved)
    wx_app.extensions.pop("linli_wechat_client", None)

