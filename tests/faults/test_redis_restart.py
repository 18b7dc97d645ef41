"""Fault in the suite: the webhook across a real Redis restart (a private redis-server, killed and started empty).

The full-scale version with gunicorn, PostgreSQL and load is benchmarks/faults/redis_restart.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from chatkit import answer_with

from app import create_app, handlers
from app.handlers.messages import TextReply
from app.wechat.peer import Peer, message_xml

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (apt-get install redis-server)")

TOKEN, APPID, AES_KEY = "fault-token", "wxfaultapp0000001", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


class PrivateRedis:
    """A redis-server of this test's own, without persistence."""

    def __init__(self, directory):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.directory, self.proc = directory, None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.directory)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def test_the_webhook_answers_through_a_redis_restart_and_processes_each_message_once(app, redis_server, monkeypatch):
    calls = []

    def respond(inbound):
        calls.append(inbound.text)
        return TextReply(f"收到：{inbound.text}")

    answer_with(monkeypatch, respond)
    linli = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "LINLI_NLP_PRELOAD": False,
                        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0", "WECHAT_TOKEN": TOKEN,
                        "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY})
    client, peer = linli.test_client(), Peer(TOKEN, APPID, AES_KEY)

    def deliver(text: str, msg_id: int) -> str:
        query, body = peer.push(message_xml("o-fault", peer.account, "text", {"Content": text, "MsgId": msg_id}),
                                "o-fault")
        response = client.post(f"/wechat?{query}", data=body, content_type="text/xml")
        assert response.status_code == 200
        return peer.open_reply(response.data)["Content"]

    assert deliver("一", 1) == "收到：一"
    redis_server.kill()
    assert "稍后再试" in deliver("二", 2)  # a polite line, never an error page
    redis_server.start()  # empty: every dedupe key is gone
    assert deliver("二", 2) == "收到：二"  # WeChat's retry is processed now
    assert deliver("二", 2) == "收到：二"  # and dedupe works again: no second call
    assert calls == ["一", "二"]
