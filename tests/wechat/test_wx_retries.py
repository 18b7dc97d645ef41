"""Retry safety: WeChat's repeated deliveries get the same reply and cause one side effect, across processes too."""

from __future__ import annotations

import json
import threading
import time

import pytest
from chatkit import answer_with
import wxpeer

from app import handlers
from app.extensions import kv
from app.handlers.messages import TextReply
from wxhelpers import needs_redis, run_processes


@pytest.fixture
def counting(monkeypatch):
    """A handler with a side effect counter and a distinct reply per call."""
    calls = []

    def respond(inbound):
        calls.append(inbound)
        time.sleep(0.05)
        return TextReply(f"工单编号 {len(calls)}")

    answer_with(monkeypatch, respond)
    return calls


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_sequential_retry_gets_the_same_reply(wx, wx_app, counting, mode):
    wx_app.config["WECHAT_MODE"] = wxpeer.ACCOUNT_MODE[mode]
    xml = wxpeer.message_xml("o1", "text", {"Content": "报修", "MsgId": 900001})
    replies = []
    for _ in range(3):  # the same bytes, three times, as WeChat does
        query, body = wxpeer.push(xml, mode=mode, nonce="777")
        response = wx.client.post(f"/wechat?{query}", data=body, content_type="text/xml")
        replies.append(wxpeer.open_reply(response.data, mode))
    assert len(counting) == 1
    assert len({r.split("<CreateTime>")[0] + r.split("</CreateTime>")[1] for r in replies}) == 1
    assert "工单编号 1" in replies[0]


def test_events_dedupe_by_sender_time_event_and_key(wx, counting):
    t = int(time.time())
    wx.send("o1", "event", {"Event": "CLICK", "EventKey": "REPORT"}, create_time=t)
    wx.send("o1", "event", {"Event": "CLICK", "EventKey": "REPORT"}, create_time=t)
    assert len(counting) == 1
    wx.send("o1", "event", {"Event": "CLICK", "EventKey": "PROGRESS"}, create_time=t)  # another button
    wx.send("o2", "event", {"Event": "CLICK", "EventKey": "REPORT"}, create_time=t)  # another resident
    wx.send("o1", "event", {"Event": "CLICK", "EventKey": "REPORT"}, create_time=t + 1)  # a later tap
    assert len(counting) == 4


def test_different_messages_are_not_confused(wx, counting):
    wx.send("o1", "text", {"Content": "a", "MsgId": 1})
    wx.send("o1", "text", {"Content": "b", "MsgId": 2})
    assert [i.text for i in counting] == ["a", "b"]


def test_concurrent_deliveries_in_one_process(wx, wx_app, counting):
    xml = wxpeer.message_xml("o1", "text", {"Content": "报修", "MsgId": 900002})
    query, body = wxpeer.push(xml, mode="safe")
    barrier, results = threading.Barrier(4), []

    def deliver():
        barrier.wait()
        response = wx_app.test_client().post(f"/wechat?{query}", data=body, content_type="text/xml")
        results.append((response.status_code, wxpeer.open_reply(response.data, "safe")))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(counting) == 1
    assert all(status == 200 for status, _ in results)
    answered = [r for _, r in results if r != "success"]
    assert answered and all("工单编号 1" in r for r in answered)


def test_a_failed_first_delivery_lets_the_retry_try_again(wx, monkeypatch):
    from app.services import accounts

    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")

    monkeypatch.setattr(accounts, "record_interaction", flaky)
    answer_with(monkeypatch, lambda inbound: TextReply("好的"))
    xml = wxpeer.message_xml("o1", "text", {"Content": "x", "MsgId": 900003})
    query, body = wxpeer.push(xml, mode="safe")
    first = wx.client.post(f"/wechat?{query}", data=body, content_type="text/xml")
    assert first.status_code == 200 and "稍后" in wxpeer.open_reply(first.data, "safe")
    second = wx.client.post(f"/wechat?{query}", data=body, content_type="text/xml")
    assert second.status_code == 200 and "好的" in wxpeer.open_reply(second.data, "safe")


@needs_redis
def test_concurrent_deliveries_on_two_processes(wx_app, ctx):
    xml = wxpeer.message_xml("o_race", "text", {"Content": "报修", "MsgId": 900004})
    query, body = wxpeer.push(xml, mode="safe")
    procs = run_processes(wx_app, "webhook", 2, start_at=time.time() + 3, path=f"/wechat?{query}",
                          body=body.decode())
    outputs = [json.loads(p.communicate(timeout=60)[0].splitlines()[-1]) for p in procs]
    assert [o["status"] for o in outputs] == [200, 200], outputs
    assert kv().get("test:side-effect") == "1", outputs
    answered = [wxpeer.open_reply(o["body"].encode(), "safe") for o in outputs if o["body"] != "success"]
    assert answered and all("已登记，编号 1" in b for b in answered)


def test_a_retry_takes_over_the_claim_of_a_worker_that_died(wx, wx_app, counting):
    """Fault suite finding: a worker SIGKILLed mid-request left its claim for 10 minutes and every retry got
    `success` — the message was lost. The claim now lapses within seconds and the retry processes the message."""
    store = wx_app.extensions["linli_kv"]
    store.set_json("wx:dedupe:m:900005", {"state": "processing"}, ttl=0.3)  # the dead worker's claim
    _, reply = wx.send("o1", "text", {"Content": "报修", "MsgId": 900005})
    assert reply is not None and "工单编号 1" in reply["Content"]
    assert len(counting) == 1


def test_a_slow_first_delivery_keeps_its_claim(wx_app, monkeypatch):
    """While the first delivery still works, its renewed claim keeps a concurrent retry from processing again."""
    from app.web import wechat as gateway
    from app.wechat import dedupe

    monkeypatch.setattr(dedupe, "PROCESSING_TTL", 0.3)
    monkeypatch.setattr(gateway, "HEARTBEAT", 0.05)
    calls = []

    def slow(inbound):
        calls.append(inbound)
        time.sleep(1.0)  # several claim lifetimes
        return TextReply("好的")

    answer_with(monkeypatch, slow)
    query, body = wxpeer.push(wxpeer.message_xml("o1", "text", {"Content": "x", "MsgId": 900006}), mode="safe")
    results = []

    def deliver(delay):
        time.sleep(delay)
        results.append(wx_app.test_client().post(f"/wechat?{query}", data=body, content_type="text/xml"))

    threads = [threading.Thread(target=deliver, args=(delay,)) for delay in (0, 0.5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(calls) == 1
    assert all(r.status_code == 200 for r in results)
    assert any("好的" in wxpeer.open_reply(r.data, "safe") for r in results)


def test_a_store_failure_after_the_work_keeps_the_real_answer(wx, wx_app, counting, monkeypatch):
    """Fault suite finding: Redis dying between the handler's commit and caching the reply turned the real answer
    into "please try again" — and the resident then reported a second time."""
    from app.wechat.dedupe import Deduper

    def gone(*args, **kwargs):
        raise ConnectionError("store went away")

    # The reply is stored with the conversation state, or on its own when that could not be done: both fail here.
    monkeypatch.setattr(type(wx_app.extensions["linli_kv"]), "_write_and_release", gone)
    monkeypatch.setattr(Deduper, "finish", gone)
    _, reply = wx.send("o1", "text", {"Content": "报修", "MsgId": 900007})
    assert "工单编号 1" in reply["Content"] and len(counting) == 1


def test_the_claim_and_the_stored_reply_ride_on_the_conversation_round_trips(wx, wx_app, counting):
    """A text message takes the claim with the conversation lock and stores its reply with the state; the retry
    is answered from the store."""
    store = wx_app.extensions["linli_kv"]
    _, first = wx.send("o1", "text", {"Content": "报修", "MsgId": 900008})
    done = store.get_json("wx:dedupe:m:900008")
    assert done["state"] == "done" and "工单编号 1" in done["xml"]
    assert store.get("lock:conv:o1") is None
    _, again = wx.send("o1", "text", {"Content": "报修", "MsgId": 900008})
    assert again == first and len(counting) == 1


def test_keeping_a_claim_never_creates_one(wx_app):
    from app.wechat.dedupe import Deduper

    deduper = Deduper(wx_app.extensions["linli_kv"], processing_ttl=5)
    deduper.keep("m:900009")  # the request thread's heartbeat may run before the pool has claimed the message
    assert deduper.claim("m:900009")
    deduper.keep("m:900009")
    assert not deduper.claim("m:900009")


def test_a_failure_before_the_claim_leaves_another_deliverys_claim_alone(wx, wx_app, counting, monkeypatch):
    """Only a delivery that holds the claim gives it back when it fails; a failure before claiming (the store
    away for this request) must not delete the claim of a concurrent delivery still at work."""
    from app.wechat.dedupe import CLAIMED, Deduper

    store = wx_app.extensions["linli_kv"]
    store.set("wx:dedupe:m:900010", CLAIMED, ttl=30)  # the first delivery, still working elsewhere
    original = store._acquire_and_get

    def store_away(*args, **kwargs):
        raise ConnectionError("store went away")

    monkeypatch.setattr(store, "_acquire_and_get", store_away)
    _, reply = wx.send("o1", "text", {"Content": "报修", "MsgId": 900010})
    assert "稍后" in reply["Content"]
    monkeypatch.setattr(store, "_acquire_and_get", original)
    assert store.get("wx:dedupe:m:900010") == CLAIMED and counting == []
    # A failure after this delivery's own claim does give the claim back, so that WeChat's retry can try again.
    from app.services import accounts

    claimed, claim = [], Deduper.claim
    monkeypatch.setattr(Deduper, "claim", lambda self, key, *mark: claimed.append(key) or claim(self, key, *mark))
    monkeypatch.setattr(accounts, "mark_unsubscribed", store_away)
    wx.send("o1", "event", {"Event": "unsubscribe", "EventKey": ""})
    assert claimed and store.get(f"wx:dedupe:{claimed[0]}") is None
