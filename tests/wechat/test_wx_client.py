"""The API client against the offline WeChat: shared token, bounded refresh, timeouts, messages, QR, menu, OAuth."""

from __future__ import annotations

import json
import threading

import pytest
import requests
import wxpeer
from wechatpy.exceptions import WeChatClientException

from app.wechat import h5
from app.wechat.client import get_client


def test_token_is_fetched_once_and_shared(fake, ctx):
    client = get_client()
    first = client.access_token
    assert first.startswith("FAKE_") and client.access_token == first
    assert fake.state()["token_fetches"] == 1


def test_token_stampede_threads_fetch_once(fake, ctx, wx_app):
    # Eight cold clients in one process share the store: one fetch (the cross-process case is test_wx_procs).
    from app.extensions import kv
    from app.wechat.client import LinliWeChatClient

    clients = [LinliWeChatClient(wxpeer.APPID, "peer-secret", kv(), wx_app.config["WECHAT_API_BASE"])
               for _ in range(8)]
    barrier, tokens = threading.Barrier(8), []

    def fetch(c):
        barrier.wait()
        tokens.append(c.access_token)

    threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(set(tokens)) == 1 and fake.state()["token_fetches"] == 1


@pytest.mark.parametrize("flag,errcode", [("revoke_tokens", 40001), ("expire_tokens", 42001)])
def test_rejected_token_is_refreshed_once_and_the_call_retried(fake, ctx, flag, errcode):
    client = get_client()
    fake.interact("o1")
    old = client.access_token
    fake.control(**{flag: True})
    client.send_custom("o1", "text", {"text": "通知"})
    assert client.access_token != old
    assert fake.state()["token_fetches"] == 2
    assert [m["body"]["text"]["content"] for m in fake.log("o1")] == ["通知"]


def test_refresh_is_bounded(fake, ctx):
    client = get_client()
    fake.interact("o1")
    client.access_token
    fake.control(fail=[{"path": "/cgi-bin/message/custom/send", "errcode": 40001, "times": 10}])
    with pytest.raises(WeChatClientException) as info:
        client.send_custom("o1", "text", {"text": "x"})
    assert info.value.errcode == 40001
    assert fake.state()["token_fetches"] == 2  # one refresh, one retry, then give up
    assert fake.log() == []


def test_calls_time_out(fake, ctx, wx_app):
    wx_app.config["WECHAT_API_TIMEOUT"] = 0.3
    wx_app.extensions.pop("linli_wechat_client", None)
    fake.control(latency={"/cgi-bin/stable_token": 1.0})
    with pytest.raises(requests.Timeout):
        get_client().access_token
    fake.control(latency={"/cgi-bin/stable_token": 0, "/cgi-bin/menu/create": 1.0})
    with pytest.raises(requests.Timeout):
        get_client().create_menu({"button": [{"type": "click", "name": "a", "key": "k"}]})


def test_window_and_unsubscribed_errors(fake, ctx):
    client = get_client()
    with pytest.raises(WeChatClientException) as info:
        client.send_custom("o_stranger", "text", {"text": "x"})
    assert info.value.errcode == 43004
    fake.interact("o_click", "event")  # a click allows a few replies within a minute
    for _ in range(3):
        client.send_custom("o_click", "text", {"text": "x"})
    with pytest.raises(WeChatClientException) as info:
        client.send_custom("o_click", "text", {"text": "x"})
    assert info.value.errcode == 45047
    fake.interact("o_old")
    fake.control(advance=49 * 3600)
    with pytest.raises(WeChatClientException) as info:
        get_client().send_custom("o_old", "text", {"text": "x"})
    assert info.value.errcode in (45015, 42001)  # the token expired too in 49 h; the client refreshes it


def test_template_message_dedupes_client_msg_id(fake, ctx):
    client = get_client()
    fake.interact("o1")
    first = client.send_template("o1", "tpl", {"first": {"value": "停水通知"}}, client_msg_id="abc")
    second = client.send_template("o1", "tpl", {"first": {"value": "停水通知"}}, client_msg_id="abc")
    assert first["msgid"] == second["msgid"] and len(fake.log("o1")) == 1


def test_subscribe_bizsend(fake, ctx):
    fake.interact("o1")
    get_client().send_subscribe("o1", "sub-tpl", {"thing1": {"value": "水费"}}, page="/pages/fee")
    assert fake.log("o1")[0]["channel"] == "subscribe"


def test_qr_codes_are_validated(fake, ctx):
    client = get_client()
    result = client.create_qr("b:12")
    assert result["ticket"] and result["image_url"].startswith(client.api_base)
    image = requests.get(result["image_url"], timeout=5)
    assert image.headers["Content-Type"] == "image/png"
    with pytest.raises(ValueError):
        client.create_qr("x" * 65)
    with pytest.raises(WeChatClientException):
        client.post("qrcode/create", data={"action_name": "QR_LIMIT_STR_SCENE",
                                           "action_info": {"scene": {"scene_str": ""}}})


def test_sync_menu_command(fake, wx_app):
    from click.testing import CliRunner

    from app.cli import cli

    result = CliRunner().invoke(cli, ["wechat", "sync-menu"], obj=_script_info(wx_app))
    assert result.exit_code == 0, result.output
    menu = fake.state()["menu"]
    assert [b["name"] for b in menu["button"]] == ["报事报修", "便民服务", "我的"]
    keys = [s["key"] for b in menu["button"] for s in b["sub_button"]]
    assert {"REPORT", "SERVICES", "MY"} <= set(keys) and len(keys) == len(set(keys))


def test_bad_menu_is_refused_by_the_fake(fake, ctx, tmp_path):
    with pytest.raises(WeChatClientException):
        get_client().create_menu({"button": [{"type": "click", "name": "x"}]})


def test_oauth_code_is_single_use_and_cookie_round_trips(fake, ctx, wx_app):
    client = get_client()
    url = client.oauth_url("http://localhost/h5/tickets", state="s1")
    assert "scope=snsapi_base" in url and url.endswith("#wechat_redirect")
    redirect = requests.get(url.split("#")[0] + "&openid=o_h5", allow_redirects=False, timeout=5)
    code = redirect.headers["Location"].split("code=")[1].split("&")[0]
    assert client.oauth_openid(code) == {"openid": "o_h5", "is_snapshotuser": False}
    with pytest.raises(WeChatClientException) as info:
        client.oauth_openid(code)
    assert info.value.errcode == 40163
    cookie = h5.sign_openid(wx_app.config["SECRET_KEY"], "o_h5")
    assert h5.load_openid(wx_app.config["SECRET_KEY"], cookie) == "o_h5"
    # Change a signature character that carries only signature bits (the last one may carry padding bits), and to a
    # different one: a fixed "xx" matched the real signature once in a few thousand runs.
    tampered = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    assert h5.load_openid(wx_app.config["SECRET_KEY"], tampered) is None
    assert h5.load_openid("another-secret", cookie) is None
    snapshot = requests.post(f"{client.api_base}/_fake/oauth_code", json={"openid": "o_v", "snapshot": True},
                             timeout=5).json()["code"]
    assert client.oauth_openid(snapshot)["is_snapshotuser"] is True
    assert h5.load_openid(wx_app.config["SECRET_KEY"], h5.sign_openid(wx_app.config["SECRET_KEY"], "o_v", True)) is None


def test_jssdk_signature_known_answer(fake, ctx):
    # The example from WeChat's JS-SDK documentation (appendix 1).
    ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    assert h5.jssdk_signature(ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value#frag") \
        == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    config = h5.jssdk_config(get_client(), "http://localhost/h5/x#y")
    assert config["signature"] == h5.jssdk_signature("FAKE_JSAPI_TICKET", config["nonceStr"], config["timestamp"],
                                                     "http://localhost/h5/x")


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_fake_wechat_command_is_registered():
    from app.cli import COMMANDS

    assert {"fake-wechat", "outbox", "wechat"} <= set(COMMANDS)
    assert json.loads((__import__("app.commands.wechat", fromlist=["x"]).MENU_FILE).read_text("utf-8"))


def test_fake_token_rotation_grace_and_expiry(fake, ctx):
    base = get_client().api_base
    params = {"grant_type": "client_credential", "appid": wxpeer.APPID, "secret": "peer-secret"}

    def call(token):
        return requests.get(f"{base}/cgi-bin/menu/get", params={"access_token": token}, timeout=5).json()

    stable = requests.post(f"{base}/cgi-bin/stable_token", json=params, timeout=5).json()["access_token"]
    assert requests.post(f"{base}/cgi-bin/stable_token", json=params, timeout=5).json()["access_token"] == stable
    legacy = requests.get(f"{base}/cgi-bin/token", params=params, timeout=5).json()["access_token"]
    assert legacy != stable
    assert call(stable)["errcode"] == 46003  # the old token still works during the grace period (no menu yet)
    fake.control(advance=301)
    assert call(stable)["errcode"] == 40001 and call(legacy)["errcode"] == 46003
    fake.control(advance=7200)
    assert call(legacy)["errcode"] == 42001
    wrong = requests.post(f"{base}/cgi-bin/stable_token", json={**params, "secret": "x"}, timeout=5).json()
    assert wrong["errcode"] == 40125
