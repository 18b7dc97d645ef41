"""Hardened parsing of WeChat XML (defusedxml refuses DOCTYPE/ENTITY) and mapping to Inbound values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from app.handlers.messages import Inbound
from app.wechat.errors import BadMessage

# Event names (lower-cased) → Inbound kinds; subscribe with qrscene_ stays "subscribe" with a scene.
EVENT_KINDS = {
    "subscribe": "subscribe",
    "scan": "scan",
    "unsubscribe": "unsubscribe",
    "click": "click",
    "view": "view",
    "location": "location_event",
    "templatesendjobfinish": "template_finish",
    "subscribe_msg_popup_event": "subscribe_msg_popup",
    "subscribe_msg_change_event": "subscribe_msg_change",
    "subscribe_msg_sent_event": "subscribe_msg_sent",
}
# WeChat openids are 28 characters; the openid columns hold 64.
MAX_OPENID = 64
MESSAGE_KINDS = {"text", "voice", "image", "location", "link", "video", "shortvideo"}
_SUBSCRIBE_MSG_NODES = ("SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent")


@dataclass(frozen=True)
class Parsed:
    """One decoded WeChat message: the Inbound value plus what the gateway itself needs."""

    inbound: Inbound
    to_user: str
    from_user: str
    dedupe_key: str
    raw: dict = field(default_factory=dict)


def xml_to_dict(body: bytes | str) -> dict:
    """Parse a WeChat XML document into a dict, refusing DTDs and entities; anything odd is BadMessage."""
    if not body or not str(body if isinstance(body, str) else body.decode("utf-8", "replace")).strip():
        raise BadMessage("empty body")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadMessage("DTD or entity declarations are refused") from None
    except (ParseError, ValueError, UnicodeError):
        raise BadMessage("malformed XML") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    return _element_to_dict(root, 0)


MAX_DEPTH = 6  # WeChat's deepest push (subscribe_msg_* lists) is 3 levels; deeper is hostile


def _element_to_dict(element: Element, depth: int) -> dict:
    if depth > MAX_DEPTH:
        raise BadMessage("XML nested too deeply")
    result: dict = {}
    for child in element:
        value = _element_to_dict(child, depth + 1) if len(child) else (child.text or "")
        if child.tag in result:  # repeated elements (e.g. <List>) become lists
            previous = result[child.tag]
            result[child.tag] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            result[child.tag] = value
    return result


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _subscribe_msg_summary(data: dict) -> str:
    """Compress subscribe_msg_* lists to 'template_id:status,…' (the only part handlers care about)."""
    for node in _SUBSCRIBE_MSG_NODES:
        block = data.get(node)
        if isinstance(block, dict):
            items = block.get("List", [])
            items = items if isinstance(items, list) else [items]
            return ",".join(f"{i.get('TemplateId', '')}:{i.get('SubscribeStatusString') or i.get('ErrorStatus', '')}"
                            for i in items if isinstance(i, dict))
    return ""


def to_inbound(data: dict, received_at: datetime) -> Parsed:
    """Map a parsed message dict to an Inbound with its kind, plus the dedupe key."""
    msg_type = str(data.get("MsgType", "")).strip().lower()
    openid = str(data.get("FromUserName", "")).strip()
    if not msg_type or not openid:
        raise BadMessage("MsgType and FromUserName are required")
    if len(openid) > MAX_OPENID:
        raise BadMessage("FromUserName is not an openid")  # the fuzzer's were a logged DataError on PostgreSQL
    fields: dict = {"openid": openid, "received_at": received_at, "msg_id": str(data.get("MsgId", "") or "")}
    event = ""
    if msg_type == "event":
        event = str(data.get("Event", "")).strip().lower()
        kind = EVENT_KINDS.get(event, "unknown")
        key = str(data.get("EventKey", "") or "")
        if kind == "subscribe" and key.startswith("qrscene_"):
            fields["scene"] = key[len("qrscene_"):]
        elif kind == "scan":
            fields["scene"] = key
        elif kind in ("click", "view"):
            fields["event_key"] = key
        elif kind == "location_event":
            fields.update(latitude=_float(data.get("Latitude")), longitude=_float(data.get("Longitude")))
        elif kind == "template_finish":
            fields.update(msg_id=str(data.get("MsgID", "") or ""), text=str(data.get("Status", "") or ""))
        elif kind.startswith("subscribe_msg_"):
            fields["event_key"] = _subscribe_msg_summary(data)
    elif msg_type in MESSAGE_KINDS:
        kind = "video" if msg_type == "shortvideo" else msg_type
        if kind == "text":
            fields["text"] = str(data.get("Content", "") or "")
        elif kind == "voice":
            fields.update(text=str(data.get("Recognition", "") or "").strip(), media_id=str(data.get("MediaId", "")))
        elif kind == "image":
            fields.update(media_id=str(data.get("MediaId", "")), pic_url=str(data.get("PicUrl", "")))
        elif kind == "video":
            fields["media_id"] = str(data.get("MediaId", ""))
        elif kind == "location":
            fields.update(latitude=_float(data.get("Location_X")), longitude=_float(data.get("Location_Y")),
                          label=str(data.get("Label", "") or ""))
        elif kind == "link":
            fields.update(text=str(data.get("Title", "") or ""), event_key=str(data.get("Url", "") or ""))
    else:
        kind = "unknown"
    inbound = Inbound(kind=kind, **fields)
    return Parsed(inbound=inbound, to_user=str(data.get("ToUserName", "")), from_user=openid,
                  dedupe_key=dedupe_key(data, event), raw=data)


def dedupe_key(data: dict, event: str = "") -> str:
    """Messages dedupe by MsgId; events by FromUserName + CreateTime + Event + EventKey (+ MsgID)."""
    msg_id = str(data.get("MsgId", "") or "")
    if msg_id and msg_id != "0":
        return f"m:{msg_id}"
    parts = [data.get("FromUserName", ""), data.get("CreateTime", ""), event or data.get("MsgType", ""),
             data.get("EventKey", "") if isinstance(data.get("EventKey", ""), str) else "", data.get("MsgID", "")]
    return "e:" + ":".join(str(p or "") for p in parts)
