"""The outbox: enqueue in the caller's transaction; send exactly once through failures, fallbacks and crashes."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import OutboxMessage
from app.services import outbox
from app.services.outbox import send_pending
from wxhelpers import run_processes


def _rows() -> dict[str, OutboxMessage]:
    db.session.expire_all()
    return {m.idempotency_key: m for m in db.session.scalars(select(OutboxMessage))}


def _texts(fake, openid=None) -> list[str]:
    out = []
    for m in fake.log(openid):
        body = m["body"]
        out.append(body["text"]["content"] if body.get("msgtype") == "text" else
                   body.get("data", {}).get("remark", {}).get("value", body.get("client_msg_id", "")))
    return out


def test_enqueue_only_joins_the_callers_transaction(ctx):
    outbox.enqueue("o1", "text", {"text": "a"}, key="k1")
    db.session.rollback()
    assert _rows() == {}
    outbox.enqueue("o1", "text", {"text": "a"}, key="k1")
    db.session.commit()
    again = outbox.enqueue("o1", "text", {"text": "different"}, key="k1")
    db.session.commit()
    assert list(_rows()) == ["k1"] and again.payload == {"text": "a"}
    with pytest.raises(ValueError):
        outbox.enqueue("o1", "fax", {}, key="k2")


def test_sends_once_and_records(fake, ctx):
    fake.interact("o1")
    outbox.enqueue("o1", "text", {"text": "您的报修已派单。"}, key="t1")
    outbox.enqueue("o1", "template", {"template": "notice", "values": {"title": "停水", "remark": "明天停水"}},
                   key="t2")
    db.session.commit()
    report = send_pending()
    assert len(report.sent) == 2
    assert send_pending().sent == []
    rows = _rows()
    assert rows["t1"].status == "sent" and rows["t2"].wechat_msgid
    assert _texts(fake, "o1") == ["您的报修已派单。", "明天停水"]
    template = fake.log("o1")[1]["body"]
    assert template["template_id"] == "linli-notice-template" and template["data"]["first"]["value"] == "停水"


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_busy_and_quota_retry_with_backoff(fake, ctx, errcode):
    fake.interact("o1")
    fake.control(fail=[{"path": "/cgi-bin/message/custom/send", "errcode": errcode, "times": 2}])
    outbox.enqueue("o1", "text", {"text": "x"}, key="b1")
    db.session.commit()
    start = clock.now()
    with clock.frozen_at(start):
        assert send_pending().retried
        row = _rows()["b1"]
        assert row.status == "pending" and row.next_attempt_at == start + timedelta(seconds=30)
        assert send_pending().sent == []  # not due yet
    with clock.frozen_at(start + timedelta(seconds=31)):
        send_pending()
        assert _rows()["b1"].next_attempt_at == start + timedelta(seconds=91)  # the delay doubled
    with clock.frozen_at(start + timedelta(seconds=95)):
        assert len(send_pending().sent) == 1
    assert _rows()["b1"].attempts == 3 and _texts(fake) == ["x"]


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_closed_window_falls_back_to_template(fake, ctx, errcode):
    fake.interact("o1")
    fake.control(fail=[{"path": "/cgi-bin/message/custom/send", "errcode": errcode, "times": 1}])
    outbox.enqueue("o1", "text", {"text": "您的报修单已完成，请评价。"}, key="w1")
    db.session.commit()
    report = send_pending()
    assert report.fell_back == report.sent  # the template goes out in the same run
    row = _rows()["w1"]
    assert row.status == "sent" and row.channel == "template" and row.fell_back
    sent = fake.log("o1")
    assert len(sent) == 1 and sent[0]["channel"] == "template"
    assert sent[0]["body"]["data"]["remark"]["value"] == "您的报修单已完成，请评价。"


def test_unsubscribed_is_undeliverable_and_shown_to_staff(fake, ctx, client):
    from app.models import ResidentAccount

    db.session.add(ResidentAccount(openid="o_gone", subscribed=True))
    outbox.enqueue("o_gone", "text", {"text": "x"}, key="u1")
    db.session.commit()
    assert send_pending().undeliverable
    row = _rows()["u1"]
    assert row.status == "undeliverable" and "43004" in row.last_error
    assert db.session.scalar(select(ResidentAccount.subscribed).where(ResidentAccount.openid == "o_gone")) is False
    from factories import login, make_staff_user, make_street

    # o_gone is bound to no room: a street office sees such messages (community staff see their estates' only).
    make_staff_user("clerk", role="street_admin", scope=make_street())
    db.session.commit()
    login(client, "clerk")
    page = client.get("/admin/outbox/").get_data(as_text=True)
    assert "无法送达" in page and "43004" in page
    assert client.post(f"/admin/outbox/{row.id}/retry").status_code == 302
    assert _rows()["u1"].status == "pending"


def test_dashboard_requires_office_login(client, ctx):
    assert client.get("/admin/outbox/").status_code == 302
    from factories import login, make_community, make_staff_user

    make_staff_user("provider1", role="provider", scope=make_community())
    db.session.commit()
    login(client, "provider1")
    assert client.get("/admin/outbox/").status_code == 404


def test_read_timeout_custom_is_not_retried_template_is(fake, ctx, wx_app):
    wx_app.config["WECHAT_API_TIMEOUT"] = 0.3
    wx_app.extensions.pop("linli_wechat_client", None)
    fake.interact("o1")
    fake.control(latency={"/cgi-bin/message/custom/send": 0.6, "/cgi-bin/message/template/send": 0.6})
    outbox.enqueue("o1", "text", {"text": "c"}, key="rt-custom")
    outbox.enqueue("o1", "template", {"template": "notice", "values": {"remark": "t"}}, key="rt-template")
    db.session.commit()
    report = send_pending()
    assert len(report.failed) == 1 and len(report.retried) == 1
    fake.control(latency={"/cgi-bin/message/template/send": 0})
    time.sleep(0.5)  # let the fake finish the requests whose answers were lost
    with clock.frozen_at(clock.now() + timedelta(minutes=1)):
        send_pending()
    rows = _rows()
    assert rows["rt-custom"].status == "failed" and "无法确认" in rows["rt-custom"].last_error
    assert rows["rt-template"].status == "sent"
    assert sorted(_texts(fake)) == ["c", "t"]  # each delivered exactly once


def test_rate_limit_hands_the_rest_back(fake, ctx, wx_app):
    wx_app.config["WECHAT_SEND_RATE"] = 3
    for i in range(5):
        fake.interact(f"o{i}")
        outbox.enqueue(f"o{i}", "text", {"text": f"r{i}"}, key=f"r{i}")
    db.session.commit()
    report = send_pending()
    wx_app.config["WECHAT_SEND_RATE"] = 20
    assert len(report.sent) == 3 and report.rate_limited
    rows = _rows()
    assert sorted(r.status for r in rows.values()) == ["pending", "pending", "sent", "sent", "sent"]
    assert all(r.attempts == 0 for r in rows.values() if r.status == "pending")


def test_exactly_once_under_random_failures(fake, ctx, wx_app):
    wx_app.config["WECHAT_SEND_RATE"] = 10_000  # this test is about failures, not the rate limit
    rng = random.Random(7)
    for i in range(20):
        fake.interact(f"o{i}")
        kind = "text" if i % 2 else "template"
        payload = {"text": f"m{i}"} if kind == "text" else {"template": "notice", "values": {"remark": f"m{i}"}}
        outbox.enqueue(f"o{i}", kind, payload, key=f"x{i}")
    db.session.commit()
    rules = [{"path": rng.choice(["/cgi-bin/message/custom/send", "/cgi-bin/message/template/send", "*"]),
              "errcode": rng.choice([-1, 45009, 40001, 42001]), "times": 1} for _ in range(25)]
    fake.control(fail=rules)
    moment = clock.now()
    for _ in range(12):
        moment += timedelta(minutes=70)
        with clock.frozen_at(moment):
            send_pending(limit=7)
    wx_app.config["WECHAT_SEND_RATE"] = 20
    rows = _rows()
    assert {r.status for r in rows.values()} == {"sent"}, {k: (r.status, r.last_error) for k, r in rows.items()}
    assert sorted(Counter(_texts(fake)).values()) == [1] * 20


def test_sender_killed_mid_batch_never_sends_twice(fake, ctx, wx_app):
    for i in range(12):
        fake.interact(f"o{i}")
        kind = "text" if i % 3 else "template"
        payload = {"text": f"k{i}"} if kind == "text" else {"template": "notice", "values": {"remark": f"k{i}"}}
        outbox.enqueue(f"o{i}", kind, payload, key=f"kill{i}")
    db.session.commit()
    get_token_first = __import__("app.wechat.client", fromlist=["get_client"]).get_client().access_token
    assert get_token_first
    fake.control(latency={"*": 0.25})
    (proc,) = run_processes(wx_app, "send", 1)
    for _ in range(400):  # wait until a few messages went out, then kill the sender without warning
        if len(fake.log()) >= 3:
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert len(fake.log()) < 12, "the sender finished before it could be killed mid-batch"
    fake.control(latency={"*": 0})
    time.sleep(0.4)  # the request the sender was in the middle of still completes at "WeChat"
    with clock.frozen_at(clock.now() + timedelta(minutes=3)):  # past the claim timeout
        send_pending()
        send_pending()
    counts = Counter(_texts(fake))
    assert max(counts.values()) == 1, counts
    rows = _rows()
    for key, row in rows.items():
        assert row.status in ("sent", "failed"), (key, row.status)
        if row.status == "failed":  # only a custom message caught mid-send; a person decides
            assert row.channel == "custom" and "无法确认" in row.last_error
    assert sum(r.status == "failed" for r in rows.values()) <= 1
    assert all(r.status == "sent" for r in rows.values() if r.channel == "template")


def test_two_senders_at_once_share_the_work(fake, ctx, wx_app):
    for i in range(16):
        fake.interact(f"o{i}")
        outbox.enqueue(f"o{i}", "text", {"text": f"p{i}"}, key=f"par{i}")
    db.session.commit()
    fake.control(latency={"/cgi-bin/message/custom/send": 0.02})
    procs = run_processes(wx_app, "send", 2, start_at=time.time() + 2.5)
    outputs = [json.loads(p.communicate(timeout=60)[0].splitlines()[-1]) for p in procs]
    assert sorted(Counter(_texts(fake)).values()) == [1] * 16
    assert len(outputs[0]["sent"]) + len(outputs[1]["sent"]) == 16
    assert not set(outputs[0]["sent"]) & set(outputs[1]["sent"])


def test_outbox_send_command(fake, wx_app, ctx):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli

    fake.interact("o1")
    outbox.enqueue("o1", "text", {"text": "cli"}, key="cli1")
    db.session.commit()
    result = CliRunner().invoke(cli, ["outbox", "send"], obj=ScriptInfo(create_app=lambda: wx_app))
    assert result.exit_code == 0 and "已发送 1" in result.output
    assert _texts(fake) == ["cli"]
