"""Property-based fuzzing of the crypto and parsing boundary: only the project's own errors ever come out."""

from __future__ import annotations

import base64
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fuzz_strategies as fs
import wxpeer
from app import clock
from app.wechat.crypto import WebhookCrypto, aes_key_bytes, check_timestamp
from app.wechat.errors import BadMessage, BadSignature, ConfigurationError
from app.wechat.parse import Parsed, to_inbound, xml_to_dict
from fuzzkit import FUZZ

# Pure functions: cheap, so many more examples than the webhook properties.
MANY = settings(FUZZ, max_examples=120)
SOME = settings(FUZZ, max_examples=60)  # whole generated messages are slower to draw
CRYPTO = WebhookCrypto(wxpeer.TOKEN, wxpeer.APPID, wxpeer.AES_KEY, previous_aes_key=wxpeer.OLD_AES_KEY)


@MANY
@given(encrypt=fs.BAD_CIPHERTEXTS)
def test_ciphertext_that_is_not_ours_is_bad_message(encrypt):
    # Junk, bad padding or length, truncated base64, another appid, another key: BadMessage and nothing else.
    with pytest.raises(BadMessage):
        CRYPTO.decrypt(*_push(encrypt))


@MANY
@given(encrypt=fs.BAD_CIPHERTEXTS, signature=st.one_of(st.none(), st.text(max_size=60)))
def test_a_wrong_msg_signature_is_bad_signature(encrypt, signature):
    with pytest.raises(BadSignature):
        CRYPTO.decrypt(encrypt, signature, "1700000000", "n")


@MANY
@given(text=fs.LEGAL_TEXT)
def test_what_we_encrypt_the_peer_opens_with_our_appid(text):
    xml = f"<xml><Content>{wxpeer.cdata(text)}</Content></xml>"
    assert wxpeer.open_reply(CRYPTO.encrypt(xml).encode(), "safe") == xml
    assert CRYPTO.decrypt(*_push(wxpeer.encrypt(xml))) == xml
    assert CRYPTO.decrypt(*_push(wxpeer.encrypt(xml, wxpeer.OLD_AES_KEY))) == xml  # key rotation


def _push(encrypt: str) -> tuple[str, str, str, str]:
    return encrypt, wxpeer.signature(wxpeer.TOKEN, "1700000000", "n", encrypt), "1700000000", "n"


@MANY
@given(key=st.one_of(st.text(max_size=60), st.binary(min_size=32, max_size=32)
                     .map(lambda b: base64.b64encode(b).decode()[:43])))
def test_encoding_aes_key_is_32_bytes_or_a_configuration_error(key):
    try:
        assert len(aes_key_bytes(key)) == 32
    except ConfigurationError:
        pass


@MANY
@given(timestamp=st.one_of(fs.ANY_TEXT,
                           st.integers(min_value=-(10 ** 700), max_value=10 ** 700).map(str)))
def test_any_timestamp_passes_or_is_bad_signature(timestamp):
    try:
        check_timestamp(timestamp, time.time(), 600)
    except BadSignature:
        pass


def test_a_timestamp_too_big_for_a_float_is_refused():
    # Found by the fuzzer: int → float conversion overflowed into a 500 for a (signed) 309-digit timestamp.
    with pytest.raises(BadSignature):
        check_timestamp("1" * 400, time.time(), 600)


@SOME
@given(body=st.one_of(st.binary(max_size=300), fs.mangled_messages(),
                      fs.mangled_messages().map(lambda s: s.encode("utf-16"))))
def test_xml_to_dict_returns_a_dict_or_bad_message(body):
    try:
        assert isinstance(xml_to_dict(body), dict)
    except BadMessage:
        pass


def _tree_reading(element, depth=0):
    """What xml_to_dict must give for a document without a DOCTYPE: ElementTree's tree, leaves as text, repeats as
    lists (the reading the webhook had before it parsed with expat directly)."""
    if depth > 6:
        raise BadMessage("too deep")
    result = {}
    for child in element:
        value = _tree_reading(child, depth + 1) if len(child) else (child.text or "")
        if child.tag in result:
            previous = result[child.tag]
            result[child.tag] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            result[child.tag] = value
    return result


@st.composite
def _documents(draw, depth=0):
    tag = "xml" if depth == 0 else draw(st.sampled_from(["xml", "List", "Item", "MsgType", "a"]))
    if depth < 9 and draw(st.booleans()):
        inner = "".join(draw(st.lists(_documents(depth + 1), max_size=3)))
    else:
        text = draw(st.text(alphabet="ab <&>]\n中文", max_size=6))
        inner = (text.replace("&", "&amp;").replace("<", "&lt;") if draw(st.booleans())
                 else f"<![CDATA[{text.replace(']]>', '')}]]>")
    return f"<{tag}>{inner}</{tag}>"


@MANY
@given(document=_documents())
def test_xml_to_dict_reads_a_document_as_the_element_tree_does(document):
    from xml.etree.ElementTree import fromstring  # the reference only: these documents have no DOCTYPE

    try:
        expected = _tree_reading(fromstring(document))
    except BadMessage:
        with pytest.raises(BadMessage):
            xml_to_dict(document.encode())
        return
    assert xml_to_dict(document.encode()) == expected


values = st.recursive(st.one_of(fs.LEGAL_TEXT, st.none(), st.integers(), st.floats()),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(fs.NAMES, inner, max_size=3)),
                      max_leaves=10)
messages = st.dictionaries(st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType"] + fs.FIELDS),
                           st.one_of(st.sampled_from(fs.MSG_TYPES + fs.EVENTS), values), max_size=10)


@SOME
@given(data=messages)
def test_to_inbound_maps_any_dict_or_raises_bad_message(data):
    try:
        assert isinstance(to_inbound(data, datetime(2026, 5, 1, tzinfo=clock.TZ)), Parsed)
    except BadMessage:
        pass
