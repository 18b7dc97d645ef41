"""WECHAT_MODE (plain / compat / safe) and the one-use (timestamp, nonce) rule: a push cannot be downgraded or replayed."""

from __future__ import annotations

import json
import time

import pytest
from chatkit import answer_with
import wxpeer
from sqlalchemy import func, select

from app.config import from_environment
from app.extensions import db, kv
from app.handlers.messages import TextReply
from app.models import ResidentAccount
from wxhelpers import needs_redis, run_processes


@pytest.fixture
def counting(monkeypatch):
    """The real gateway, claim and conversation lock; the engine answers with a numbered text."""
    calls = []

    def respond(inbound):
        calls.append(inbound)
        return TextReply(f"第 {len(calls)} 次处理：{inbound.text}")

    answer_with(monkeypatch, respond)
    return calls


def post(wx, query: str, body: bytes):
    return wx.client.post(f"/wechat?{query}", data=body, content_type="text/xml")


def accounts(openid: str) -> int:
    return db.session.scalar(select(func.count()).select_from(ResidentAccount).where(ResidentAccount.openid == openid))


def test_safe_mode_refuses_a_plaintext_push_and_does_nothing(wx, wx_app, ctx):
    """Issue 17, defect 1: with an EncodingAESKey the default is safe mode, and a push without encrypt_type=aes —
    signed only by `signature`, which does not cover the body — is refused before anything runs."""
    assert wx_app.config.get("WECHAT_MODE") is None and wx_app.config["WECHAT_AES_KEY"]
    xml = wxpeer.message_xml("o_victim", "text", {"Content": "我的信息", "MsgId": 170001})
    query, body = wxpeer.push(xml, mode="plaintext", openid="o_victim")
    response = post(wx, query, body)
    assert response.status_code == 403 and b"o_victim" not in response.data
    assert accounts("o_victim") == 0
    assert kv().get("wx:dedupe:m:170001") is None
    # The same message as WeChat sends it in safe mode is answered.
    query, body = wxpeer.push(xml, mode="safe", openid="o_victim")
    assert post(wx, query, body).status_code == 200 and accounts("o_victim") == 1


def test_safe_mode_refuses_a_compatible_push_without_encrypt_type(wx, wx_app, ctx):
    """Compatible-mode bodies carry the plain fields too: without encrypt_type=aes they are still plaintext."""
    xml = wxpeer.message_xml("o_c", "event", {"Event": "subscribe", "EventKey": ""})
    query, body = wxpeer.push(xml, mode="compatible", openid="o_c")
    stripped = "&".join(p for p in query.split("&") if not p.startswith(("encrypt_type=", "msg_signature=")))
    assert post(wx, stripped, body).status_code == 403 and accounts("o_c") == 0


@pytest.mark.parametrize("mode", ["plain", "compat"])
def test_plaintext_is_accepted_in_plain_and_compat_mode_when_chosen(wx, wx_app, ctx, counting, mode):
    wx_app.config["WECHAT_MODE"] = mode
    response, reply = wx.send("o_p", "text", {"Content": "你好", "MsgId": 170002}, mode="plaintext")
    assert reply["Content"] == "第 1 次处理：你好" and accounts("o_p") == 1
    # Encrypted pushes are answered in both too (compat: the switch-over; plain: as before the mode existed).
    _, reply = wx.send("o_p", "text", {"Content": "再来", "MsgId": 170003}, mode="safe")
    assert reply["Content"] == "第 2 次处理：再来"


@pytest.mark.parametrize("mode", [None, "plain", "compat", "safe"])
def test_get_verification_uses_signature_and_echostr_in_every_mode(wx, wx_app, mode):
    """WeChat verifies the URL with a plain GET (signature + echostr, echoed verbatim) whatever the account's mode."""
    wx_app.config["WECHAT_MODE"] = mode
    ts, nonce = str(int(time.time())), "1514711492"
    sig = wxpeer.signature(wxpeer.TOKEN, ts, nonce)
    ok = wx.client.get(f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}&echostr=8727346")
    assert ok.status_code == 200 and ok.data == b"8727346"
    again = wx.client.get(f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}&echostr=8727346")
    assert again.status_code == 200  # re-checking the URL in the console must keep working
    bad = wx.client.get(f"/wechat?signature={'0' * 40}&timestamp={ts}&nonce={nonce}&echostr=8727346")
    assert bad.status_code == 403


def test_mode_setting(monkeypatch, tmp_path):
    """Unset: safe with an EncodingAESKey, plain without; an unknown value or safe without a key refuses to start."""
    from app.wechat.modes import webhook_mode

    assert webhook_mode({"WECHAT_MODE": None, "WECHAT_AES_KEY": wxpeer.AES_KEY}) == "safe"
    assert webhook_mode({"WECHAT_MODE": None, "WECHAT_AES_KEY": None}) == "plain"
    monkeypatch.setenv("WECHAT_MODE", " Compat ")
    monkeypatch.setenv("WECHAT_AES_KEY", wxpeer.AES_KEY)
    assert from_environment(str(tmp_path))["WECHAT_MODE"] == "compat"
    monkeypatch.setenv("WECHAT_MODE", "aes")
    with pytest.raises(ValueError, match="WECHAT_MODE 只能是 plain、compat、safe 之一"):
        from_environment(str(tmp_path))
    monkeypatch.setenv("WECHAT_MODE", "safe")
    monkeypatch.delenv("WECHAT_AES_KEY")
    with pytest.raises(ValueError, match="WECHAT_AES_KEY"):
        from_environment(str(tmp_path))


def test_a_captured_msg_signature_does_not_sign_another_body(wx, ctx, counting):
    """msg_signature covers <Encrypt>: the captured URL with another encrypted body is refused."""
    query, body = wxpeer.push(wxpeer.message_xml("o_a", "text", {"Content": "原文", "MsgId": 170004}), openid="o_a")
    assert post(wx, query, body).status_code == 200
    _, other = wxpeer.push(wxpeer.message_xml("o_a", "text", {"Content": "篡改", "MsgId": 170005}), openid="o_a")
    assert post(wx, query, other).status_code == 403
    assert [i.text for i in counting] == ["原文"]


def test_a_timestamp_and_nonce_pair_signs_one_message_only(wx, ctx, counting):
    """Issue 17, defect 1: a second, validly signed encrypted message under a used (timestamp, nonce) is refused."""
    ts = int(time.time())
    first = wxpeer.push(wxpeer.message_xml("o_n", "text", {"Content": "第一条", "MsgId": 170006}), timestamp=ts,
                        nonce="424242", openid="o_n")
    second = wxpeer.push(wxpeer.message_xml("o_n", "text", {"Content": "第二条", "MsgId": 170007}), timestamp=ts,
                         nonce="424242", openid="o_n")
    assert post(wx, *first).status_code == 200
    assert post(wx, *second).status_code == 403
    assert [i.text for i in counting] == ["第一条"]
    assert kv().get("wx:dedupe:m:170007") is None


def test_plain_mode_replay_with_another_body_is_refused_and_the_retry_gets_its_answer(wx, wx_app, ctx, counting):
    """Issue 17, defect 1: in plain mode `signature` does not cover the body, so one captured URL signed any number
    of bodies for the whole window. Now the (timestamp, nonce) pair belongs to the first body: another body under it
    is refused (nothing processed), the same body again is WeChat's retry and gets the cached answer."""
    wx_app.config["WECHAT_MODE"] = "plain"
    xml = wxpeer.message_xml("o_owner", "text", {"Content": "报修", "MsgId": 170008})
    query, body = wxpeer.push(xml, mode="plaintext", openid="o_owner")
    first = post(wx, query, body)
    assert first.status_code == 200 and "第 1 次处理：报修" in first.get_data(as_text=True)
    forged = wxpeer.message_xml("o_owner", "text", {"Content": "注销", "MsgId": 170009})
    refused = post(wx, query, forged.encode())
    assert refused.status_code == 403 and "报修" not in refused.get_data(as_text=True)
    assert kv().get("wx:dedupe:m:170009") is None
    # Even a forged body that copies the MsgId (so its dedupe key is the real message's) gets nothing back.
    copied = wxpeer.message_xml("o_other", "text", {"Content": "报修", "MsgId": 170008})
    assert post(wx, query.replace("openid=o_owner", "openid=o_other"), copied.encode()).status_code == 403
    retry = post(wx, query, body)
    assert retry.status_code == 200 and retry.data == first.data
    assert [i.text for i in counting] == ["报修"]


def test_a_used_pair_is_remembered_until_its_timestamp_is_stale(wx, wx_app, ctx, counting):
    """The mark lives as long as the pair could still pass the timestamp check, not a fixed time from first use."""
    from app.extensions import kv as store

    window = wx_app.config["WECHAT_TIMESTAMP_WINDOW"]
    ts = int(time.time()) + 60  # a WeChat clock a minute ahead: the pair stays acceptable window + 60 s from now
    assert post(wx, *wxpeer.push(wxpeer.message_xml("o_t", "text", {"Content": "x", "MsgId": 170010}),
                                  timestamp=ts, nonce="99")).status_code == 200
    ttl = store().ttl(f"wx:nonce:{ts}:99")
    assert ttl is not None and window + 50 < ttl <= window + 62


@needs_redis
def test_a_pair_used_by_another_process_is_refused_here(wx_app, ctx):
    """The mark is in the shared store: a second body under a pair another worker process answered is refused."""
    ts = int(time.time())
    query, body = wxpeer.push(wxpeer.message_xml("o_x", "text", {"Content": "原文", "MsgId": 170011}),
                              timestamp=ts, nonce="31337", openid="o_x")
    proc, = run_processes(wx_app, "webhook", 1, path=f"/wechat?{query}", body=body.decode())
    output = json.loads(proc.communicate(timeout=60)[0].splitlines()[-1])
    assert output["status"] == 200, output
    other = wxpeer.push(wxpeer.message_xml("o_x", "text", {"Content": "篡改", "MsgId": 170012}),
                        timestamp=ts, nonce="31337", openid="o_x")
    client = wx_app.test_client()
    assert client.post(f"/wechat?{other[0]}", data=other[1], content_type="text/xml").status_code == 403
    assert kv().get("test:side-effect") == "1"
    retry = client.post(f"/wechat?{query}", data=body, content_type="text/xml")
    assert retry.status_code == 200 and kv().get("test:side-effect") == "1"
