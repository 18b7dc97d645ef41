"""Properties of the /wechat webhook under hostile input, shared by tests/hostile and benchmarks/fuzz_webhook.py.

Each property pairs a strategy with a check that posts one example through a Flask test client and raises
AssertionError when the answer breaks the property; the check returns the status so callers can count them.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import fuzz_strategies as fs
import wxpeer

# In-suite runs: modest, and the same examples every time (derandomize), with no example database in the work tree.
FUZZ = settings(deadline=None, derandomize=True, database=None, max_examples=40,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
ALLOWED = {200, 400, 403, 413}
# What a leaked error page or stack trace would contain; the webhook answers short plain text or XML only.
LEAKS = ("traceback", 'file "', "<html", "<!doctype", "werkzeug", "sqlalchemy")


@contextmanager
def peer_settings(app):
    """The app configured with the independent peer's token, appid and key (restored afterwards)."""
    keys = ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_AES_KEY", "WECHAT_PREVIOUS_AES_KEY", "WECHAT_MODE")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(WECHAT_TOKEN=wxpeer.TOKEN, WECHAT_APPID=wxpeer.APPID, WECHAT_AES_KEY=wxpeer.AES_KEY,
                      WECHAT_PREVIOUS_AES_KEY=None, WECHAT_MODE=None)  # the default with a key: safe mode
    app.extensions.pop("linli_wechat_crypto", None)
    try:
        yield app
    finally:
        app.config.update(saved)
        app.extensions.pop("linli_wechat_crypto", None)


def forget_deliveries(app) -> None:
    """Drop dedupe claims and conversation state, so two examples that happen to share a MsgId do not meet."""
    from app.extensions import kv

    with app.app_context():
        kv().clear()


def _query(params: dict) -> str:
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in params.items())


def _xml_seen(value: str) -> str:
    """What an XML parser hands the app for a text value (line ends normalised)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def signed_params(timestamp: str | None = None, nonce: str = "1514711492") -> dict:
    """The query WeChat signs with our token; `timestamp` defaults to now."""
    ts = str(int(time.time())) if timestamp is None else timestamp
    return {"signature": wxpeer.signature(wxpeer.TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}


def assert_clean(response) -> int:
    """Only 200/400/403/413, and no stack trace or HTML error page in the body."""
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status in ALLOWED, f"status {status}: {text[:300]!r}"
    lowered = text.lower()
    assert not any(leak in lowered for leak in LEAKS), f"error details leaked: {text[:300]!r}"
    return status


def check_raw(app, client, example) -> int:
    """Any query string and body, by POST or GET."""
    query, body, method = example
    return assert_clean(client.open(f"/wechat?{query}", method=method, data=body,
                                    headers={"Content-Type": "text/xml"}))


def check_signed_body(app, client, example) -> int:
    """A correctly signed query — the signature covers whatever timestamp is drawn — with any body and extras."""
    body, timestamp, extra = example
    params = {**signed_params(timestamp, "n"), **extra}
    if extra.get("msg_signature") == "<valid>":
        params["msg_signature"] = wxpeer.signature(wxpeer.TOKEN, params["timestamp"], "n", _encrypt_element(body))
    return assert_clean(client.post(f"/wechat?{_query(params)}", data=body, content_type="text/xml"))


def _encrypt_element(body: bytes) -> str:
    try:
        return ET.fromstring(body).findtext("Encrypt") or ""
    except (ET.ParseError, ValueError):
        return ""


def check_bad_ciphertext(app, client, encrypt: str) -> int:
    """An Encrypt value that is not ours, under a valid msg_signature: 400, never an error."""
    params = signed_params()
    params.update(encrypt_type="aes", msg_signature=wxpeer.signature(wxpeer.TOKEN, params["timestamp"],
                                                                   params["nonce"], _xml_seen(encrypt)))
    body = f"<xml><ToUserName>{wxpeer.cdata(wxpeer.ACCOUNT)}</ToUserName><Encrypt>{wxpeer.cdata(encrypt)}</Encrypt></xml>"
    status = assert_clean(client.post(f"/wechat?{_query(params)}", data=body.encode(), content_type="text/xml"))
    assert status == 400, f"status {status} for ciphertext that is not ours"
    return status


def check_message(app, client, xml: str, strict: bool = True) -> int:
    """A correctly signed, safe-mode push: 200 with a reply that opens with our key and appid and goes back to the
    sender from our account (or `success`); with `strict` False the push may also be refused with 400."""
    forget_deliveries(app)
    query, body = wxpeer.push(xml, mode="safe")
    response = client.post(f"/wechat?{query}", data=body, content_type="text/xml")
    status = assert_clean(response)
    if strict:
        assert status == 200, f"status {status} for a well-formed push"
    if status != 200:
        assert status == 400, status
        return status
    inner = wxpeer.open_reply(response.data, "safe")  # checks MsgSignature and the appid
    if inner == "success":
        return status
    reply = ET.fromstring(inner)  # well-formed
    sent = ET.fromstring(xml)
    assert reply.findtext("ToUserName") == (sent.findtext("FromUserName") or "").strip(), "reply not to the sender"
    assert reply.findtext("FromUserName") == (sent.findtext("ToUserName") or ""), "reply not from our account"
    assert reply.findtext("MsgType") in {"text", "news", "image"}, inner[:200]
    return status


@dataclass(frozen=True)
class Property:
    """One webhook property: what to generate and how to check one example."""

    name: str
    strategy: st.SearchStrategy
    check: Callable  # (app, client, example) -> status


PROPERTIES = [
    Property("any query and body", st.tuples(fs.QUERIES, fs.BODIES, st.sampled_from(["POST", "GET"])), check_raw),
    Property("signed query, any body", st.tuples(fs.BODIES, fs.TIMESTAMPS, fs.SIGNED_EXTRAS), check_signed_body),
    Property("signed, ciphertext not ours", fs.BAD_CIPHERTEXTS, check_bad_ciphertext),
    Property("signed, encrypted push", fs.wechat_messages(), check_message),
    Property("signed, encrypted odd push", fs.ODD_MESSAGES,
             lambda app, client, xml: check_message(app, client, xml, strict=False)),
]
BY_NAME = {prop.name: prop for prop in PROPERTIES}
