"""Signatures and AES against an independent implementation pinned to wechat.md's known-answer vector."""

from __future__ import annotations

import pytest
import wxpeer

from app.wechat.crypto import WebhookCrypto, aes_key_bytes, sign, signature_matches
from app.wechat.errors import BadMessage, BadSignature, ConfigurationError


def test_known_vector_independent_and_ours():
    expected = "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert wxpeer.signature("AAAAA", "1714036504", "1514711492") == expected
    assert sign("AAAAA", "1714036504", "1514711492") == expected
    WebhookCrypto("AAAAA", "wxapp").check_signature(expected, "1714036504", "1514711492")


def test_signature_mismatch_and_missing_are_refused():
    crypto = WebhookCrypto("AAAAA", "wxapp")
    with pytest.raises(BadSignature):
        crypto.check_signature("f464b24fc39322e44b38aa78f5edd27bd1441697", "1714036504", "1514711492")
    with pytest.raises(BadSignature):
        crypto.check_signature(None, "1714036504", "1514711492")
    assert not signature_matches("abc", "非ascii")


def test_we_decrypt_what_the_independent_peer_encrypts():
    crypto = WebhookCrypto(wxpeer.TOKEN, wxpeer.APPID, wxpeer.AES_KEY)
    xml = "<xml><Content><![CDATA[楼道灯坏了]]></Content></xml>"
    enc = wxpeer.encrypt(xml)
    msg_sig = wxpeer.signature(wxpeer.TOKEN, "1700000000", "n1", enc)
    assert crypto.decrypt(enc, msg_sig, "1700000000", "n1") == xml


def test_peer_decrypts_what_we_encrypt():
    crypto = WebhookCrypto(wxpeer.TOKEN, wxpeer.APPID, wxpeer.AES_KEY)
    envelope = crypto.encrypt("<xml><Content>好的</Content></xml>", nonce="n2", timestamp="1700000001")
    inner = wxpeer.open_reply(envelope.encode(), "safe")
    assert inner == "<xml><Content>好的</Content></xml>"


def test_fixed_random_prefix_gives_a_stable_ciphertext():
    # Pin the byte layout: same 16-byte prefix → the independent and wechatpy ciphertexts are identical.
    from wechatpy.crypto import PrpCrypto

    prefix = b"0123456789abcdef"
    ours = PrpCrypto(aes_key_bytes(wxpeer.AES_KEY))
    ours.get_random_string = lambda: prefix.decode()
    assert ours.encrypt("<xml/>", wxpeer.APPID).decode() == wxpeer.encrypt("<xml/>", random16=prefix)


def test_previous_key_still_decrypts_during_rotation():
    crypto = WebhookCrypto(wxpeer.TOKEN, wxpeer.APPID, wxpeer.AES_KEY, previous_aes_key=wxpeer.OLD_AES_KEY)
    enc = wxpeer.encrypt("<xml><A>1</A></xml>", wxpeer.OLD_AES_KEY)
    assert crypto.decrypt(enc, wxpeer.signature(wxpeer.TOKEN, "1", "2", enc), "1", "2") == "<xml><A>1</A></xml>"
    # Replies always use the current key.
    assert wxpeer.open_reply(crypto.encrypt("<xml/>").encode(), "safe") == "<xml/>"


def test_foreign_appid_and_garbage_are_bad_messages():
    crypto = WebhookCrypto(wxpeer.TOKEN, wxpeer.APPID, wxpeer.AES_KEY)
    for enc in (wxpeer.encrypt("<xml/>", appid="wxsomeoneelse00001"), "!!!not base64!!!", "QUJD", "A" * 44):
        with pytest.raises(BadMessage):
            crypto.decrypt(enc, wxpeer.signature(wxpeer.TOKEN, "1", "2", enc), "1", "2")


def test_bad_aes_keys_are_configuration_errors_not_asserts():
    for key in ("short", "x" * 43 + "!", "abc" * 20):
        with pytest.raises(ConfigurationError):
            WebhookCrypto("t", "wx", key)
