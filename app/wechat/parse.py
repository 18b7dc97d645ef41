"""Hardened parsing of WeChat XML (no DOCTYPE, no entities, bounded depth) and mapping to Inbound values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pyexpat import ExpatError, ParserCreate

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
    builder = _DictBuilder()
    try:
        builder.parser.Parse(body, True)
    except _Refused:
        raise BadMessage("DTD or entity declarations are refused") from None
    except (ExpatError, ValueError, UnicodeError):
        raise BadMessage("malformed XML") from None
    return builder.root


MAX_DEPTH = 6  # WeChat's deepest push (subscribe_msg_* lists) is 3 levels; deeper is hostile


class _Refused(Exception):
    """A document type or entity declaration: never part of a WeChat push (XXE, billion laughs)."""


def _refuse(*_args) -> None:
    raise _Refused


class _DictBuilder:
    """Build the dict straight from expat's callbacks: leaves become their text, repeated elements lists.

    Expat directly, rather than ElementTree behind defusedxml: the tree, its Python-level callbacks and the walk over
    it cost twice this, and every push is parsed twice (the envelope, then the decrypted message). The refusals are
    defusedxml's: any DOCTYPE is refused before an entity could be declared or expanded.
    """

    def __init__(self) -> None:
        self.root: dict = {}
        self._frames: list[tuple[str, dict, list[str]]] = []  # (tag, children, text parts) of the open elements
        parser = self.parser = ParserCreate()
        parser.buffer_text = True  # one text callback per run of characters, not per line or entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.UnparsedEntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse

    def _start(self, tag: str, _attributes) -> None:
        if not self._frames and tag != "xml":
            raise BadMessage("root element is not <xml>")
        if len(self._frames) > MAX_DEPTH + 1:  # a parent may sit at depth MAX_DEPTH, its leaves one below
            raise BadMessage("XML nested too deeply")
        self._frames.append((tag, {}, []))

    def _text(self, data: str) -> None:
        if self._frames:
            self._frames[-1][2].append(data)

    def _end(self, _tag: str) -> None:
        tag, children, text = self._frames.pop()
        if not self._frames:
            self.root = children
            return
        value = children or "".join(text)  # an element with children is a dict, its own text ignored
        parent = self._frames[-1][1]
        if tag in parent:  # repeated elements (e.g. <List>) become lists
            previous = parent[tag]
            parent[tag] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            parent[tag] = value


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
