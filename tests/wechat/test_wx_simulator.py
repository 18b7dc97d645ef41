"""The chat simulator: real signed, encrypted pushes through /wechat; pushed messages from the fake's log."""

from __future__ import annotations

import os
import threading

import pytest
from chatkit import answer_with
from sqlalchemy import select

from app import handlers
from app.extensions import db
from app.handlers.messages import Article, NewsReply, TextReply
from app.models import ResidentAccount
from app.services import outbox


@pytest.fixture
def echo(monkeypatch):
    seen = []

    def respond(inbound):
        seen.append(inbound)
        if inbound.kind == "click":
            return NewsReply([Article("我要报修", "点击填写", "http://localhost/h5/repair")])
        return TextReply(f"收到{inbound.kind}：{inbound.text or inbound.scene or inbound.event_key}")

    answer_with(monkeypatch, respond)
    return seen


def test_simulator_sends_through_the_real_webhook(wx_app, fake, echo, ctx):
    from factories import make_building, make_estate

    make_building(make_estate(name="幸福小区"), "3")
    db.session.commit()
    client = wx_app.test_client()
    page = client.get("/dev/simulator/").get_data(as_text=True)
    assert "邻里服务号" in page and "幸福小区 3号楼" in page and "报事报修" in page
    reply = client.post("/dev/simulator/send", json={"openid": "o_sim_1", "action": "text", "text": "楼道灯坏了"})
    assert reply.get_json() == {"status": 200, "safe_mode": True,
                                "reply": {"type": "text", "text": "收到text：楼道灯坏了"}}
    news = client.post("/dev/simulator/send", json={"openid": "o_sim_1", "action": "click", "key": "REPORT"})
    assert news.get_json()["reply"]["articles"][0]["title"] == "我要报修"
    scan = client.post("/dev/simulator/send", json={"openid": "o_sim_1", "action": "scan", "scene": "b:7"})
    assert scan.get_json()["reply"]["text"] == "收到scan：b:7"
    voice = client.post("/dev/simulator/send", json={"openid": "o_sim_1", "action": "voice", "text": ""})
    assert voice.get_json()["status"] == 200 and echo[-1].kind == "voice" and echo[-1].text == ""
    client.post("/dev/simulator/send", json={"openid": "o_sim_1", "action": "image"})
    assert echo[-1].kind == "image" and echo[-1].pic_url
    client.post("/dev/simulator/send", json={"openid": "o_sim_1", "action": "unsubscribe"})
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o_sim_1"))
    assert account.subscribed is False
    assert client.post("/dev/simulator/send", json={"openid": "", "action": "text"}).status_code == 400


def test_simulator_shows_pushed_messages(wx_app, fake, echo, ctx):
    client = wx_app.test_client()
    client.post("/dev/simulator/send", json={"openid": "o_sim_2", "action": "text", "text": "你好"})
    outbox.enqueue("o_sim_2", "text", {"text": "您的报修已派单给王师傅。"}, key="sim-push-1")
    db.session.commit()
    outbox.send_pending()
    pushed = client.get("/dev/simulator/pushed?openid=o_sim_2").get_json()
    assert pushed["messages"][0]["text"] == "您的报修已派单给王师傅。"
    assert client.get("/dev/simulator/pushed?openid=o_sim_2&since=1").get_json()["messages"] == []


def test_simulator_absent_outside_demo_and_tests(tmp_path):
    from app import create_app

    app = create_app({"TESTING": False, "LINLI_DEMO": False, "LINLI_NLP_PRELOAD": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert not any(rule.rule.startswith("/dev/") for rule in app.url_map.iter_rules())
    demo = create_app({"TESTING": False, "LINLI_DEMO": True, "LINLI_NLP_PRELOAD": False, "WECHAT_AES_KEY": None,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/y.sqlite3"})
    assert "simulator" in demo.blueprints and demo.config["WECHAT_AES_KEY"]  # demo runs in safe mode


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM) or bool(os.environ.get("LINLI_SKIP_BROWSER")),
                    reason="needs /usr/bin/chromium (and LINLI_SKIP_BROWSER unset)")
def test_simulator_in_a_browser(wx_app, fake, echo, ctx):
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wx_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/dev/simulator/")
            page.fill("#text", "楼道灯坏了")
            page.click("#form button[type=submit]")
            page.wait_for_selector("text=收到text：楼道灯坏了")
            page.click("#menu > div:first-child")
            page.click("text=我要报修")
            page.wait_for_selector("a:has-text('我要报修')")
            page.fill("#voice-text", "三号楼漏水")
            page.click("#voice")
            page.wait_for_selector("text=收到voice：三号楼漏水")
            openid = page.eval_on_selector("#openid-select", "el => el.value")
            outbox.enqueue(openid, "text", {"text": "停水通知：明天 9 点到 12 点"}, key="browser-push")
            db.session.commit()
            outbox.send_pending()
            page.wait_for_selector("text=停水通知：明天 9 点到 12 点", timeout=10000)
            assert page.locator(".push .tag").first.inner_text() == "客服消息"
            browser.close()
    finally:
        server.shutdown()
