"""Hypothesis strategies for hostile WeChat traffic: awkward text, XML-ish pushes, query strings and ciphertexts."""

from __future__ import annotations

import base64
import os
import string
import struct
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import strategies as st

import wxpeer

MSG_TYPES = ["text", "voice", "image", "location", "link", "video", "shortvideo", "event", "file", "miniprogrampage",
             "TEXT", " event "]
EVENTS = ["subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "LOCATION", "TEMPLATESENDJOBFINISH",
          "subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event",
          "view_miniprogram", "scancode_push", "pic_sysphoto", "MASSSENDJOBFINISH", ""]
# Field names WeChat uses (so the parser's branches are reached) — random names are drawn as well.
FIELDS = ["Content", "MsgId", "MsgID", "EventKey", "Event", "Latitude", "Longitude", "Precision", "Location_X",
          "Location_Y", "Scale", "Label", "Recognition", "MediaId", "Format", "PicUrl", "ThumbMediaId", "Title",
          "Description", "Url", "Status", "Ticket", "MsgDataId", "Idx", "ScanCodeInfo", "SendPicsInfo", "List",
          "SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent", "TemplateId",
          "SubscribeStatusString", "ErrorStatus", "Encrypt"]
HEADERS = ["ToUserName", "FromUserName", "CreateTime", "MsgType"]
QUERY_KEYS = ["signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "openid", "echostr", "x"]
FOREIGN_APPID = "wxforeignapp000001"

_SPICE = ["]]>", "]]", "<![CDATA[", "&amp;", "&#x0;", "<", ">", "&", "'", '"', "\u0085", "\u2028", "\u202e",
          "\ufeff", "\u0000", "\x07", "\x1b", "\r\n", "\r", "楼道灯坏了", "𠀀😀", "qrscene_", "1" * 400, "-0", "1e999",
          "nan", "NaN", "inf", "0x1f", " ", "%s%n", "{{7*7}}", "'; drop table rooms; --"]


def xml_char(c: str) -> bool:
    """Characters XML 1.0 allows in a document (WeChat cannot send the others)."""
    o = ord(c)
    return o in (0x9, 0xA, 0xD) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


def _text_values(legal_only: bool) -> st.SearchStrategy[str]:
    base = st.text(st.characters(codec="utf-8"), max_size=40)
    numbers = st.integers(min_value=-(10 ** 60), max_value=10 ** 60).map(str)
    floats = st.floats(allow_nan=True, allow_infinity=True).map(repr)
    pieces = st.lists(st.one_of(base, st.sampled_from(_SPICE), numbers, floats), max_size=5).map("".join)
    if legal_only:
        return pieces.map(lambda s: "".join(c for c in s if xml_char(c)))
    return pieces


# Built once, at import: building strategies on every draw made each example ~50 times slower.
LEGAL_TEXT = _text_values(True)  # unicode with `]]>`, C1 controls, huge numbers, markup, template syntax
ANY_TEXT = _text_values(False)  # the same plus NUL and the C0 controls XML forbids
# Up to U+9FA5: expat names follow XML 1.0's older character classes (Unicode 2.0), so later ideographs are not
# name characters and the document would rightly be refused (the first long fuzz run tripped over U+9FA6).
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_NAME_START = st.one_of(st.sampled_from(string.ascii_letters + "_"), _CJK)
_NAME_REST = st.text(st.one_of(st.sampled_from(string.ascii_letters + string.digits + "_.-"), _CJK), max_size=15)
NAMES = st.one_of(st.sampled_from(FIELDS), st.tuples(_NAME_START, _NAME_REST).map("".join)).filter(
    lambda name: name not in HEADERS and not name.lower().startswith("xml"))


def _render(name: str, value, style: str) -> str:
    if isinstance(value, list):  # nested children (subscribe_msg_* lists, ScanCodeInfo …)
        return f"<{name}>" + "".join(_render(n, v, s) for n, v, s in value) + f"</{name}>"
    text = wxpeer.cdata(value) if style == "cdata" else escape(value)
    return f"<{name}>{text}</{name}>"


def _elements(depth: int):
    leaf = st.tuples(NAMES, LEGAL_TEXT, st.sampled_from(["cdata", "escaped"]))
    if depth == 0:
        return leaf
    nested = st.tuples(NAMES, st.lists(_elements(depth - 1), max_size=3), st.just("nested"))
    return st.one_of(leaf, leaf, nested)


_ELEMENTS = st.lists(_elements(2), max_size=8)
_OPENIDS = LEGAL_TEXT.map(lambda s: s[:64]).filter(lambda s: s.strip() != "")  # longer is no openid: 400
_MSG_TYPES = st.one_of(st.sampled_from(MSG_TYPES), LEGAL_TEXT).filter(lambda s: s.strip() != "")
_CREATE_TIMES = st.one_of(st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str), LEGAL_TEXT)
_EVENT_NAMES = st.one_of(st.sampled_from(EVENTS), LEGAL_TEXT)


@st.composite
def wechat_messages(draw, strict: bool = True) -> str:
    """A push with the header WeChat always sends and random fields after it (names, values, nesting).

    With `strict`, every message is one Linli must answer with 200; otherwise headers may be missing or reordered.
    """
    msg_type = draw(_MSG_TYPES)
    header = [("ToUserName", draw(LEGAL_TEXT), "cdata"), ("FromUserName", draw(_OPENIDS), "cdata"),
              ("CreateTime", draw(_CREATE_TIMES), "escaped"),
              ("MsgType", msg_type, draw(st.sampled_from(["cdata", "escaped"])))]
    body = []
    if msg_type.strip().lower() == "event" or draw(st.booleans()):
        body.append(("Event", draw(_EVENT_NAMES), "cdata"))
    body += draw(_ELEMENTS)
    parts = header + body
    if not strict:
        kept = draw(st.lists(st.sampled_from(header), max_size=4, unique=True))
        parts = draw(st.permutations(kept + body))
    return "<xml>" + "".join(_render(*part) for part in parts) + "</xml>"


_SPLICES = st.one_of(ANY_TEXT, st.sampled_from(["<", "</xml>", "<xml>", "<!--", "&", "\x00", "<!DOCTYPE x>",
                                                "<a><b>", "<?xml version='1.0'?>"]))


def _splice(parts) -> str:
    xml, at, insert, cut = parts
    at %= len(xml) + 1
    return xml[:at] + insert + ("" if cut else xml[at:])


def mangled_messages() -> st.SearchStrategy[str]:
    """A loose push with something spliced in at a random place: illegal characters, stray markup, a cut-off end."""
    return st.tuples(wechat_messages(strict=False), st.integers(min_value=0), _SPLICES, st.booleans()).map(_splice)


ODD_MESSAGES = st.one_of(wechat_messages(strict=False), mangled_messages())
QUERIES = st.one_of(
    st.text(max_size=200),
    st.dictionaries(st.sampled_from(QUERY_KEYS), ANY_TEXT, max_size=7)
    .map(lambda params: "&".join(f"{k}={v}" for k, v in params.items())),
)
BODIES = st.one_of(st.binary(max_size=500), mangled_messages().map(lambda s: s.encode("utf-8", "replace")))
TIMESTAMPS = st.one_of(st.none(), LEGAL_TEXT, st.integers(min_value=-(10 ** 400), max_value=10 ** 400).map(str))
SIGNED_EXTRAS = st.fixed_dictionaries({}, optional={
    "encrypt_type": st.one_of(st.sampled_from(["aes", "AES", "raw", ""]), LEGAL_TEXT),
    "msg_signature": st.one_of(st.just("<valid>"), LEGAL_TEXT),
    "openid": LEGAL_TEXT})


def sealed(plain: bytes, encoding_aes_key: str = wxpeer.AES_KEY) -> str:
    """AES-CBC of any plaintext under the account key, with no valid layout or padding promised."""
    key = base64.b64decode(encoding_aes_key + "=")
    plain += b"\0" * (-len(plain) % 16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def _layout(body: bytes, declared: int, appid: bytes, pad: int) -> bytes:
    """WeChat's plaintext layout with a lying length field, any appid and any padding byte."""
    return os.urandom(16) + struct.pack(">I", declared % (1 << 32)) + body + appid + bytes([pad % 256]) * (pad % 40)


# Ciphertexts Linli must refuse: junk, random blocks under our key (bad padding/length/appid), truncated base64 of a
# real one, one sealed for another appid, one under a key we do not hold.
BAD_CIPHERTEXTS = st.one_of(
    st.text(max_size=120),
    st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=1, max_size=200).map(sealed),
    st.builds(_layout, st.binary(max_size=80), st.integers(min_value=0), st.binary(max_size=30).filter(
        lambda appid: appid != wxpeer.APPID.encode()), st.integers(min_value=0, max_value=300)).map(sealed),
    st.tuples(st.text(max_size=60), st.integers(min_value=1, max_value=60))
    .map(lambda t: wxpeer.encrypt("<xml>" + t[0] + "</xml>")[: -t[1]]),
    LEGAL_TEXT.map(lambda s: wxpeer.encrypt(f"<xml>{wxpeer.cdata(s)}</xml>", appid=FOREIGN_APPID)),
    LEGAL_TEXT.map(lambda s: wxpeer.encrypt(f"<xml>{wxpeer.cdata(s)}</xml>", "Q" * 43)),
)
