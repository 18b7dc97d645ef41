"""Offline WeChat: a small Flask app answering like api.weixin.qq.com, with a control API for tests and demos."""

from __future__ import annotations

import io
import json
import threading
import time
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request

from app.wechat.fake_state import FakeError, FakeWeChat


def create_fake_app(appid: str = "wxlinlidemo0000001", secret: str = "linli-dev-secret") -> Flask:
    """A fresh fake WeChat API server (its state lives in app.extensions['fake_wechat'])."""
    app = Flask("linli_fake_wechat")
    state = FakeWeChat(appid=appid, secret=secret)
    app.extensions["fake_wechat"] = state

    def body() -> dict:
        try:
            data = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise FakeError(47001, "data format error") from None
        if not isinstance(data, dict):
            raise FakeError(47001, "data format error")
        return data

    @app.errorhandler(FakeError)
    def _api_error(error: FakeError):
        return jsonify({"errcode": error.errcode, "errmsg": error.errmsg})

    @app.before_request
    def _inject():
        # Latency and failures a test or the demo asked for, applied to API paths only.
        if request.path.startswith("/_fake"):
            return None
        delay = state.latency.get(request.path) or state.latency.get("*")
        if delay:
            time.sleep(float(delay))
        failure = state.take_failure(request.path)
        if failure is not None:
            raise failure
        return None

    def authorised() -> None:
        state.validate(request.args.get("access_token"))

    @app.post("/cgi-bin/stable_token")
    def stable_token():
        data = body()
        if data.get("grant_type") != "client_credential":
            raise FakeError(40002, "invalid grant_type")
        return jsonify(state.stable_token(data.get("appid"), data.get("secret"), bool(data.get("force_refresh"))))

    @app.get("/cgi-bin/token")
    def legacy_token():
        return jsonify(state.legacy_token(request.args.get("appid"), request.args.get("secret")))

    @app.post("/cgi-bin/message/custom/send")
    def custom_send():
        authorised()
        state.custom_send(body())
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @app.post("/cgi-bin/message/template/send")
    def template_send():
        authorised()
        return jsonify({"errcode": 0, "errmsg": "ok", **state.template_send(body())})

    @app.post("/cgi-bin/message/subscribe/bizsend")
    def subscribe_send():
        authorised()
        state.subscribe_send(body())
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @app.post("/cgi-bin/qrcode/create")
    def qrcode_create():
        authorised()
        return jsonify(state.create_qr(body()))

    @app.get("/cgi-bin/showqrcode")
    def showqrcode():
        import qrcode

        scene = state.qr_tickets.get(request.args.get("ticket", ""))
        if scene is None:
            return Response("invalid ticket", status=404, mimetype="text/plain")
        buffer = io.BytesIO()
        qrcode.make(f"linli-fake-qr:{scene}").save(buffer, format="PNG")
        return Response(buffer.getvalue(), mimetype="image/png")

    @app.post("/cgi-bin/menu/create")
    def menu_create():
        authorised()
        state.menu = _validate_menu(body())
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @app.get("/cgi-bin/menu/get")
    def menu_get():
        authorised()
        if state.menu is None:
            raise FakeError(46003, "menu no exist")
        return jsonify({"menu": state.menu})

    @app.get("/cgi-bin/ticket/getticket")
    def jsapi_ticket():
        authorised()
        return jsonify({"errcode": 0, "errmsg": "ok", "ticket": "FAKE_JSAPI_TICKET", "expires_in": 7200})

    @app.get("/connect/oauth2/authorize")
    def oauth_authorize():
        if request.args.get("appid") != state.appid or request.args.get("scope") != "snsapi_base":
            return Response("invalid appid or scope", status=400, mimetype="text/plain")
        # The fake's own extension: ?openid=… chooses who is "using WeChat" (the real one knows it).
        code = state.issue_code(request.args.get("openid", "o_fake_h5_user"), request.args.get("snapshot") == "1")
        target = request.args.get("redirect_uri", "")
        sep = "&" if "?" in target else "?"
        return redirect(f"{target}{sep}{urlencode({'code': code, 'state': request.args.get('state', '')})}")

    @app.get("/sns/oauth2/access_token")
    def oauth_token():
        args = request.args
        return jsonify(state.redeem_code(args.get("appid"), args.get("secret"), args.get("code")))

    # -- control API (not part of WeChat) ----------------------------------------------------------------------
    @app.post("/_fake/control")
    def control():
        data = body()
        with state.mutex:
            if data.get("reset"):
                fresh = FakeWeChat(appid=state.appid, secret=state.secret)
                for name in ("offset", "tokens", "stable", "token_fetches", "followers", "log", "failures",
                             "latency", "codes", "client_msg_ids", "menu", "qr_tickets"):
                    setattr(state, name, getattr(fresh, name))
            state.offset += float(data.get("advance", 0))
            state.failures.extend(dict(rule) for rule in data.get("fail", []))
            state.latency.update(data.get("latency", {}))
        if data.get("expire_tokens"):
            state.expire_tokens()
        if data.get("revoke_tokens"):
            state.revoke_tokens()
        return jsonify({"ok": True})

    @app.post("/_fake/interact")
    def interact():
        data = body()
        state.interact(str(data.get("openid", "")), str(data.get("kind", "message")))
        return jsonify({"ok": True})

    @app.post("/_fake/oauth_code")
    def oauth_code():
        data = body()
        return jsonify({"code": state.issue_code(str(data["openid"]), bool(data.get("snapshot")))})

    @app.get("/_fake/log")
    def sent_log():
        return jsonify({"messages": state.messages(int(request.args.get("since", 0)),
                                                   request.args.get("openid") or None)})

    @app.get("/_fake/state")
    def summary():
        return jsonify({"token_fetches": state.token_fetches, "tokens": len(state.tokens), "menu": state.menu,
                        "followers": {k: v.subscribed for k, v in state.followers.items()}})

    return app


def _validate_menu(menu: dict) -> dict:
    """WeChat's menu rules: 1–3 buttons, ≤5 sub-buttons, click needs key, view needs url."""
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise FakeError(40017, "invalid button size")
    for button in buttons:
        subs = button.get("sub_button")
        if not button.get("name"):
            raise FakeError(40018, "invalid button name size")
        for item in subs if subs else [button]:
            if subs is not None and len(subs) > 5:
                raise FakeError(40023, "invalid sub button size")
            if item.get("type") == "click" and not item.get("key"):
                raise FakeError(40019, "invalid button key size")
            if item.get("type") == "view" and not str(item.get("url", "")).startswith(("http://", "https://")):
                raise FakeError(40055, "invalid button url domain")
            if item.get("type") not in ("click", "view", "miniprogram", "scancode_push", "location_select"):
                raise FakeError(40016, "invalid button type")
    return menu


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, app: Flask | None = None,
                    appid: str = "wxlinlidemo0000001", secret: str = "linli-dev-secret") -> str:
    """Run a fake in a daemon thread (port 0 = any free port) and return its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # the send log is the record; access lines are noise
            pass

    server = make_server(host, port, app or create_fake_app(appid, secret), threaded=True,
                         request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, name="fake-wechat", daemon=True).start()
    return f"http://{host}:{server.server_port}"
