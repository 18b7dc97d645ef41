"""The webhook: every message and event type, all three modes, account state, replies and the deadline."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from chatkit import answer_with
import wxpeer
from sqlalchemy import func, select

from app import clock, handlers
from app.extensions import db
from app.handlers.messages import Article, ImageReply, NewsReply, NoReply, TextReply
from app.models import OutboxMessage, ResidentAccount
from app.services import outbox


@pytest.fixture
def seen(monkeypatch):
    """Capture what reaches the handlers; they answer with a fixed text."""
    inbounds = []

    def respond(inbound):
        inbounds.append(inbound)
        return TextReply("收到")

    answer_with(monkeypatch, respond)
    return inbounds


def test_get_verification_echoes(wx):
    ts, nonce = "1714036504", "1514711492"
    sig = wxpeer.signature(wxpeer.TOKEN, ts, nonce)
    ok = wx.client.get(f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}&echostr=8727346")
    assert ok.status_code == 200 and ok.data == b"8727346"
    bad = wx.client.get(f"/wechat?signature={'0' * 40}&timestamp={ts}&nonce={nonce}&echostr=8727346")
    assert bad.status_code == 403 and b"8727346" not in bad.data


MESSAGES = [
    ("text", {"Content": "楼道灯坏了", "MsgId": 1001}, dict(kind="text", text="楼道灯坏了", msg_id="1001")),
    ("voice", {"MediaId": "m1", "Format": "amr", "Recognition": "三号楼漏水。", "MsgId": 1002},
     dict(kind="voice", text="三号楼漏水。", media_id="m1")),
    ("voice", {"MediaId": "m2", "Format": "amr", "Recognition": "", "MsgId": 1003}, dict(kind="voice", text="")),
    ("image", {"PicUrl": "http://p/1.jpg", "MediaId": "m3", "MsgId": 1004},
     dict(kind="image", pic_url="http://p/1.jpg", media_id="m3")),
    ("location", {"Location_X": 30.27, "Location_Y": 120.15, "Scale": 15, "Label": "幸福小区", "MsgId": 1005},
     dict(kind="location", latitude=30.27, longitude=120.15, label="幸福小区")),
    ("link", {"Title": "通知", "Description": "d", "Url": "http://x/1", "MsgId": 1006},
     dict(kind="link", text="通知", event_key="http://x/1")),
    ("video", {"MediaId": "m4", "ThumbMediaId": "t4", "MsgId": 1007}, dict(kind="video", media_id="m4")),
    ("shortvideo", {"MediaId": "m5", "ThumbMediaId": "t5", "MsgId": 1008}, dict(kind="video", media_id="m5")),
    ("event", {"Event": "subscribe", "EventKey": ""}, dict(kind="subscribe", scene="")),
    ("event", {"Event": "subscribe", "EventKey": "qrscene_b:12", "Ticket": "tk"}, dict(kind="subscribe", scene="b:12")),
    ("event", {"Event": "SCAN", "EventKey": "b:12", "Ticket": "tk"}, dict(kind="scan", scene="b:12")),
    ("event", {"Event": "CLICK", "EventKey": "REPORT"}, dict(kind="click", event_key="REPORT")),
    ("event", {"Event": "VIEW", "EventKey": "http://h5/1"}, dict(kind="view", event_key="http://h5/1")),
    ("event", {"Event": "LOCATION", "Latitude": 23.1, "Longitude": 113.3, "Precision": 119.4},
     dict(kind="location_event", latitude=23.1, longitude=113.3)),
    ("event", {"Event": "some_new_event"}, dict(kind="unknown")),
    ("miniprogrampage", {"Title": "x", "MsgId": 1009}, dict(kind="unknown")),
]


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
@pytest.mark.parametrize("msg_type,fields,expected", MESSAGES,
                         ids=[f"{m[0]}-{m[2]['kind']}-{i}" for i, m in enumerate(MESSAGES)])
def test_every_type_reaches_the_handlers(wx, wx_app, seen, mode, msg_type, fields, expected):
    wx_app.config["WECHAT_MODE"] = wxpeer.ACCOUNT_MODE[mode]
    _, reply = wx.send("o_resident", msg_type, fields, mode=mode)
    assert len(seen) == 1
    for name, value in expected.items():
        assert getattr(seen[0], name) == value, name
    assert seen[0].openid == "o_resident"
    assert reply["Content"] == "收到"
    assert reply["ToUserName"] == "o_resident" and reply["FromUserName"] == wxpeer.ACCOUNT


@pytest.mark.parametrize("event,node", [("subscribe_msg_popup_event", "SubscribeMsgPopupEvent"),
                                        ("subscribe_msg_change_event", "SubscribeMsgChangeEvent"),
                                        ("subscribe_msg_sent_event", "SubscribeMsgSentEvent")])
def test_subscribe_message_events_are_parsed_and_answered_success(wx, seen, event, node):
    items = "<List><TemplateId>tplA</TemplateId><SubscribeStatusString>accept</SubscribeStatusString></List>" \
            "<List><TemplateId>tplB</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List>"
    from app.wechat.parse import to_inbound, xml_to_dict

    xml = wxpeer.message_xml("o1", "event", {"Event": event, node: items})
    parsed = to_inbound(xml_to_dict(xml), None)
    assert parsed.inbound.kind == event.replace("_event", "")
    assert parsed.inbound.event_key == "tplA:accept,tplB:reject"
    response, reply = wx.send("o1", "event", {"Event": event, node: items})
    assert reply is None and response.data == b"success" and seen == []


def test_unsubscribe_marks_account_even_if_new(wx, seen, ctx):
    wx.send("o_gone", "event", {"Event": "unsubscribe", "EventKey": ""})
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o_gone"))
    assert account is not None and account.subscribed is False and account.unsubscribed_at is not None
    assert seen == []
    wx.send("o_gone", "event", {"Event": "subscribe", "EventKey": ""}, create_time=int(time.time()) + 1)
    db.session.expire_all()
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o_gone"))
    assert account.subscribed is True and account.last_message_at is not None


def test_message_updates_last_message_at(wx, seen, ctx):
    wx.send("o_talk", "text", {"Content": "你好", "MsgId": 77})
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o_talk"))
    assert account.subscribed and account.last_message_at is not None


def test_message_refreshes_an_existing_account_in_place(wx, seen, ctx):
    long_ago = clock.now() - timedelta(days=90)
    db.session.add_all([ResidentAccount(openid="o_loyal", subscribed=True, subscribed_at=long_ago),
                        ResidentAccount(openid="o_back", subscribed=False, subscribed_at=long_ago)])
    db.session.commit()
    for n, openid in enumerate(["o_loyal", "o_back"]):
        wx.send(openid, "text", {"Content": "你好", "MsgId": 7700 + n})
    db.session.expire_all()
    loyal, back = (db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == o))
                   for o in ("o_loyal", "o_back"))
    assert loyal.subscribed and loyal.subscribed_at == long_ago and loyal.last_message_at > long_ago
    assert back.subscribed and back.subscribed_at == back.last_message_at and back.last_message_at > long_ago
    assert db.session.scalar(select(func.count()).select_from(ResidentAccount)
                             .where(ResidentAccount.openid.in_(["o_loyal", "o_back"]))) == 2


def test_template_finish_updates_outbox_delivery(wx, seen, ctx):
    message = outbox.enqueue("o_t", "template", {"template": "notice", "values": {}}, key="k-tpl")
    message.status, message.wechat_msgid = "sent", "200163836"
    db.session.commit()
    response, reply = wx.send("o_t", "event", {"Event": "TEMPLATESENDJOBFINISH", "MsgID": 200163836,
                                               "Status": "failed:user block"})
    assert reply is None and seen == []
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "k-tpl"))
    assert row.delivery_status == "failed:user block" and row.status == "undeliverable"


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_reply_escapes_cdata_terminator(wx, wx_app, monkeypatch, mode):
    wx_app.config["WECHAT_MODE"] = wxpeer.ACCOUNT_MODE[mode]
    answer_with(monkeypatch, lambda inbound: TextReply("a]]>b<xml>&"))
    _, reply = wx.send("o_x", "text", {"Content": "hi", "MsgId": 5}, mode=mode)
    assert reply["Content"] == "a]]>b<xml>&"
    assert "]]]]><![CDATA[>" in reply["_xml"]


def test_news_image_and_no_reply(wx, monkeypatch):
    replies = iter([NewsReply([Article("报修进度", "已派单", "http://h5/t/1", "http://img/1.png")]),
                    ImageReply("media-9"), NoReply()])
    answer_with(monkeypatch, lambda inbound: next(replies))
    _, news = wx.send("o_n", "text", {"Content": "1", "MsgId": 11})
    assert news["MsgType"] == "news" and news["ArticleCount"] == "1" and "http://h5/t/1" in news["_xml"]
    _, image = wx.send("o_n", "text", {"Content": "2", "MsgId": 12})
    assert image["MsgType"] == "image" and "media-9" in image["_xml"]
    response, none = wx.send("o_n", "text", {"Content": "3", "MsgId": 13})
    assert none is None and wxpeer.open_reply(response.data, "safe") == "success"


def test_handler_exception_becomes_polite_text(wx, monkeypatch):
    def broken(inbound):
        raise RuntimeError("boom")

    answer_with(monkeypatch, broken)
    response, reply = wx.send("o_err", "text", {"Content": "hi", "MsgId": 21})
    assert response.status_code == 200 and "稍后" in reply["Content"]


def test_past_the_deadline_answers_success_and_sends_later(wx, wx_app, monkeypatch, ctx):
    release = threading.Event()

    def slow(inbound):
        release.wait(10)
        return TextReply("您的报修已登记。")

    answer_with(monkeypatch, slow)
    wx_app.config["WECHAT_REPLY_DEADLINE"] = 0.2
    response, reply = wx.send("o_slow", "text", {"Content": "灯坏了", "MsgId": 31})
    assert reply is None
    # A retry while the answer is still being computed gets `success` too, and no second handler run.
    response, reply = wx.send("o_slow", "text", {"Content": "灯坏了", "MsgId": 31})
    assert reply is None
    release.set()
    for _ in range(200):
        db.session.expire_all()
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.openid == "o_slow"))
        if row is not None:
            break
        time.sleep(0.02)
    assert row is not None and row.channel == "custom" and row.payload == {"text": "您的报修已登记。"}
    assert row.idempotency_key == "late:m:31"
    # The handler finished after the message was marked late: its reply is not stored for retries, so a retry now
    # still gets `success` (the answer went out once, through the outbox).
    response, reply = wx.send("o_slow", "text", {"Content": "灯坏了", "MsgId": 31})
    assert response.status_code == 200 and reply is None


def test_bursts_write_the_account_once_but_unsubscribe_is_never_missed(wx, seen, ctx, monkeypatch):
    from app.services import accounts

    writes = []
    upsert, touch = accounts._upsert, accounts._touch
    monkeypatch.setattr(accounts, "_upsert",
                        lambda openid, update, **kw: writes.append("upsert") or upsert(openid, update, **kw))
    monkeypatch.setattr(accounts, "_touch",
                        lambda openid, at: writes.append("touch") or touch(openid, at))
    for i in range(3):
        wx.send("o_burst", "text", {"Content": f"第{i}条", "MsgId": 5000 + i})
    assert writes == ["touch", "upsert"]  # no row yet: the UPDATE finds none, the row is created; then no writes
    wx.send("o_burst", "event", {"Event": "unsubscribe", "EventKey": ""})
    wx.send("o_burst", "text", {"Content": "我又回来了", "MsgId": 5010})
    assert writes == ["touch", "upsert", "upsert", "touch"]  # the unsubscribe, then the row refreshed in place
    db.session.expire_all()
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o_burst"))
    assert account.subscribed is True
