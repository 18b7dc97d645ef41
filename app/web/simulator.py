"""/dev/simulator: a phone-like chat that sends real signed, encrypted pushes through /wechat (demo/tests only)."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import requests
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from app.config import DEFAULT_API_BASE
from app.extensions import db
from app.models import Building, ResidentAccount
from app.privacy import mask_name
from app.wechat.peer import Peer, message_xml, new_msg_id

log = logging.getLogger(__name__)
bp = Blueprint("simulator", __name__, url_prefix="/dev/simulator")
MENU_FILE = Path(__file__).resolve().parent.parent / "wechat" / "menu.json"
# What each simulated action pushes: (MsgType, WeChat's interaction kind for the fake's reply window).
ACTIONS = {"text", "voice", "image", "location", "click", "scan", "subscribe", "unsubscribe"}


# Demo mode without a configured EncodingAESKey still runs in safe mode, as a real account would.
DEMO_AES_KEY = "TGlubGkgZGVtbyBrZXk6IG5vdCBmb3IgcmVhbCB1c2U"  # "Linli demo key: not for real use"


def init_app(app) -> None:
    """Register the simulator only in demo or test mode: it can impersonate any resident."""
    if app.config.get("LINLI_DEMO") and not app.config.get("WECHAT_AES_KEY"):
        app.config["WECHAT_AES_KEY"] = DEMO_AES_KEY
    if app.config.get("LINLI_DEMO") or app.config.get("TESTING"):
        app.register_blueprint(bp)


def _peer() -> Peer:
    config = current_app.config
    return Peer(config["WECHAT_TOKEN"], config["WECHAT_APPID"], config.get("WECHAT_AES_KEY"))


def _fake_base() -> str | None:
    base = current_app.config.get("WECHAT_API_BASE", DEFAULT_API_BASE).rstrip("/")
    return None if base == DEFAULT_API_BASE else base


@bp.get("/")
def page():
    """The chat page."""
    accounts = db.session.scalars(select(ResidentAccount).order_by(ResidentAccount.id).limit(30)).all()
    buildings = db.session.scalars(select(Building).order_by(Building.id).limit(200)).all()
    menu = json.loads(MENU_FILE.read_text(encoding="utf-8"))["button"]
    return render_template("simulator/index.html", accounts=accounts, buildings=buildings, menu=menu,
                           mask_name=mask_name, new_openid="o_sim_" + secrets.token_hex(6), safe=_peer().safe)


@bp.post("/send")
def send():
    """Build the push WeChat would send for one action, post it to /wechat, and return the opened reply."""
    data = request.get_json(silent=True) or {}
    openid, action = str(data.get("openid", "")).strip(), data.get("action")
    if not openid or len(openid) > 64 or action not in ACTIONS:
        abort(400)
    msg_type, fields, interaction = _fields(action, data)
    peer = _peer()
    xml = message_xml(openid, peer.account, msg_type, fields)
    _tell_fake(openid, interaction)
    query, body = peer.push(xml, openid)
    response = current_app.test_client().post(f"/wechat?{query}", data=body, content_type="text/xml")
    if response.status_code != 200:
        return jsonify({"status": response.status_code, "error": response.get_data(as_text=True)}), 502
    reply = peer.open_reply(response.data)
    return jsonify({"status": 200, "safe_mode": peer.safe, "reply": _reply_view(reply)})


def _fields(action: str, data: dict) -> tuple[str, dict, str]:
    text = str(data.get("text", ""))[:2000]
    if action == "text":
        return "text", {"Content": text, "MsgId": new_msg_id()}, "message"
    if action == "voice":
        return "voice", {"MediaId": "sim_voice_" + secrets.token_hex(4), "Format": "amr", "Recognition": text,
                         "MsgId": new_msg_id()}, "message"
    if action == "image":
        media = "sim_img_" + secrets.token_hex(4)
        return "image", {"PicUrl": f"https://sim.invalid/{media}.jpg", "MediaId": media,
                         "MsgId": new_msg_id()}, "message"
    if action == "location":
        return "location", {"Location_X": 30.2741, "Location_Y": 120.1551, "Scale": 15, "Label": text or "小区门口",
                            "MsgId": new_msg_id()}, "message"
    if action == "click":
        return "event", {"Event": "CLICK", "EventKey": str(data.get("key", ""))}, "event"
    if action == "scan":
        scene = str(data.get("scene", ""))
        if data.get("first_follow"):
            return "event", {"Event": "subscribe", "EventKey": f"qrscene_{scene}", "Ticket": "sim"}, "subscribe"
        return "event", {"Event": "SCAN", "EventKey": scene, "Ticket": "sim"}, "event"
    if action == "subscribe":
        return "event", {"Event": "subscribe", "EventKey": ""}, "subscribe"
    return "event", {"Event": "unsubscribe", "EventKey": ""}, "unsubscribe"


def _tell_fake(openid: str, interaction: str) -> None:
    # The real WeChat knows who follows and who just wrote; the fake learns it from the simulator.
    base = _fake_base()
    if base:
        try:
            requests.post(f"{base}/_fake/interact", json={"openid": openid, "kind": interaction}, timeout=2)
        except requests.RequestException:
            log.warning("fake WeChat not reachable at %s", base)


def _reply_view(reply: dict | None) -> dict | None:
    if reply is None:
        return None
    if reply.get("MsgType") == "news":
        items = reply.get("Articles", {}).get("item", [])
        items = items if isinstance(items, list) else [items]
        return {"type": "news", "articles": [{"title": i.get("Title", ""), "description": i.get("Description", ""),
                                              "url": i.get("Url", "")} for i in items]}
    if reply.get("MsgType") == "image":
        return {"type": "image", "media_id": reply.get("Image", {}).get("MediaId", "")}
    return {"type": "text", "text": reply.get("Content", "")}


@bp.get("/pushed")
def pushed():
    """Messages the fake WeChat delivered to this openid (customer-service, template, subscription)."""
    base = _fake_base()
    if not base:
        return jsonify({"messages": [], "fake": False})
    try:
        res = requests.get(f"{base}/_fake/log", params={"openid": request.args.get("openid", ""),
                                                        "since": request.args.get("since", 0)}, timeout=2)
        entries = res.json()["messages"]
    except (requests.RequestException, ValueError, KeyError):
        return jsonify({"messages": [], "fake": False})
    return jsonify({"fake": True, "messages": [{"seq": e["seq"], "channel": e["channel"], **_pushed_view(e["body"])}
                                               for e in entries]})


def _pushed_view(body: dict) -> dict:
    if body.get("msgtype") == "text":
        return {"type": "text", "text": body.get("text", {}).get("content", "")}
    if body.get("msgtype") == "news":
        return {"type": "news", "articles": body.get("news", {}).get("articles", [])}
    data = body.get("data", {})
    lines = [str(v.get("value", "")) for v in data.values() if isinstance(v, dict) and v.get("value")]
    return {"type": "notice", "text": "\n".join(lines), "url": body.get("url") or body.get("page") or ""}
