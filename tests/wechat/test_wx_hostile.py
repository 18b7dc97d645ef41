"""Hostile input: 403 or 400 (or 413), never 500, never a stack trace, and never a call into the handlers."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from chatkit import answer_with
import wxpeer

from app import clock, handlers
from app.handlers.messages import TextReply

GOOD = wxpeer.message_xml("o_h", "text", {"Content": "hi", "MsgId": 4242})


@pytest.fixture(autouse=True)
def no_handler(monkeypatch):
    """Record handler calls: hostile requests must never reach them."""
    calls = []
    answer_with(monkeypatch, lambda inbound: calls.append(inbound) or TextReply("x"))
    return calls


def _post(wx, query: str, body: bytes):
    return wx.client.post(f"/wechat?{query}", data=body, content_type="text/xml")


def _plain_mode(wx_app) -> None:
    """Plaintext hostile bodies reach the parser only where plaintext is accepted (safe mode refuses them first)."""
    wx_app.config["WECHAT_MODE"] = "plain"


def _assert_refused(response, status):
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()


def test_bad_signature_is_403(wx, no_handler):
    query, body = wxpeer.push(GOOD, mode="plaintext", token="not-our-token")
    _assert_refused(_post(wx, query, body), 403)
    assert no_handler == []


def test_bad_msg_signature_is_403(wx, no_handler):
    query, body = wxpeer.push(GOOD, mode="safe")
    query = query.replace("msg_signature=", "msg_signature=0")
    _assert_refused(_post(wx, query, body), 403)


def test_stale_and_future_timestamps_are_refused(wx, no_handler):
    for offset in (-3600, 3600):
        query, body = wxpeer.push(GOOD, mode="safe", timestamp=int(time.time()) + offset)
        _assert_refused(_post(wx, query, body), 403)
    query, body = wxpeer.push(GOOD, mode="safe", timestamp=1714036504)
    _assert_refused(_post(wx, query, body), 403)
    # The window follows the domain clock: the same old request is fine when "now" is its moment.
    with clock.frozen_at(datetime.fromtimestamp(1714036504 + 30, clock.TZ)):
        assert _post(wx, query, body).status_code == 200
    assert len(no_handler) == 1


def test_garbage_ciphertext_is_400(wx, no_handler):
    ts, nonce = str(int(time.time())), "n"
    for enc in ("%%%garbage%%%", "QUJDRA==", "A" * 64, ""):
        body = f"<xml><ToUserName>x</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>".encode()
        query = (f"signature={wxpeer.signature(wxpeer.TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
                 f"&encrypt_type=aes&msg_signature={wxpeer.signature(wxpeer.TOKEN, ts, nonce, enc)}")
        _assert_refused(_post(wx, query, body), 400)
    assert no_handler == []


def test_foreign_appid_is_400(wx, no_handler):
    query, body = wxpeer.push(GOOD, mode="safe", appid="wxforeignapp000001")
    _assert_refused(_post(wx, query, body), 400)


def test_wrong_key_is_400(wx, no_handler):
    query, body = wxpeer.push(GOOD, mode="safe", aes_key=wxpeer.OLD_AES_KEY)
    _assert_refused(_post(wx, query, body), 400)


def test_previous_key_accepted_when_configured(wx, wx_app, no_handler):
    wx_app.config["WECHAT_PREVIOUS_AES_KEY"] = wxpeer.OLD_AES_KEY
    wx_app.extensions.pop("linli_wechat_crypto", None)
    query, body = wxpeer.push(GOOD, mode="safe", aes_key=wxpeer.OLD_AES_KEY)
    response = _post(wx, query, body)
    assert response.status_code == 200
    assert wxpeer.open_reply(response.data, "safe").count("<Content>") == 1  # answered with the current key


@pytest.mark.parametrize("body", [b"", b"   ", b"<xml><MsgType>text", b"not xml at all", b"<notxml/>",
                                  b"<xml></xml>", b"<xml><MsgType>text</MsgType></xml>", b"\xff\xfe\x00<"])
def test_malformed_or_empty_xml_is_400(wx, wx_app, body, no_handler):
    _plain_mode(wx_app)
    query, _ = wxpeer.push(GOOD, mode="plaintext")
    _assert_refused(_post(wx, query, body), 400)
    assert no_handler == []


def test_aes_without_encrypt_element_is_400(wx, no_handler):
    query, _ = wxpeer.push(GOOD, mode="safe")
    _assert_refused(_post(wx, query, GOOD.encode()), 400)


XXE = """<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>9</MsgId></xml>"""
LAUGHS = """<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "haha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&d;</Content><MsgId>9</MsgId></xml>"""
DOCTYPE_ONLY = """<?xml version="1.0"?><!DOCTYPE xml><xml><ToUserName>a</ToUserName><FromUserName>o</FromUserName>
<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>9</MsgId></xml>"""


@pytest.mark.parametrize("xml", [XXE, LAUGHS, DOCTYPE_ONLY], ids=["xxe", "billion-laughs", "doctype"])
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_entity_declarations_are_refused(wx, wx_app, xml, mode, no_handler):
    # In safe mode the hostile XML is inside valid ciphertext: refused after decryption as well.
    if mode == "plaintext":
        _plain_mode(wx_app)
    query, body = wxpeer.push(xml, mode=mode)
    _assert_refused(_post(wx, query, body), 400)
    assert no_handler == []


def test_oversized_body_is_413(wx, wx_app, no_handler):
    _plain_mode(wx_app)
    big = wxpeer.message_xml("o_h", "text", {"Content": "长" * (1024 * 1024), "MsgId": 5})
    query, body = wxpeer.push(big, mode="plaintext")
    _assert_refused(_post(wx, query, body), 413)
    # A chunked body without Content-Length is cut off at the limit too.
    wx_app.config["WECHAT_MAX_BODY"] = 1000
    query, body = wxpeer.push(wxpeer.message_xml("o_h", "text", {"Content": "x" * 2000, "MsgId": 6}), "plaintext")
    response = wx.client.post(f"/wechat?{query}", input_stream=__import__("io").BytesIO(body),
                              headers={"Transfer-Encoding": "chunked", "Content-Type": "text/xml"},
                              environ_overrides={"wsgi.input_terminated": True})
    wx_app.config["WECHAT_MAX_BODY"] = 1024 * 1024
    _assert_refused(response, 413)
    assert no_handler == []


def test_missing_query_parameters_are_refused(wx, no_handler):
    _assert_refused(wx.client.post("/wechat", data=GOOD.encode(), content_type="text/xml"), 403)
    _assert_refused(wx.client.get("/wechat"), 403)


def test_deeply_nested_xml_is_400(wx, wx_app, no_handler):
    _plain_mode(wx_app)  # accepts both: the plaintext and the encrypted copy reach the parser
    deep = "<xml>" + "<a>" * 50000 + "</a>" * 50000 + "</xml>"
    for mode in ("plaintext", "safe"):
        query, body = wxpeer.push(deep, mode=mode)
        _assert_refused(_post(wx, query, body), 400)
    assert no_handler == []


def test_query_openid_must_match_the_sender(wx, no_handler):
    query, body = wxpeer.push(GOOD, mode="safe", openid="o_someone_else")
    _assert_refused(_post(wx, query, body), 400)
    query, body = wxpeer.push(GOOD, mode="safe", openid="o_h")
    assert _post(wx, query, body).status_code == 200
