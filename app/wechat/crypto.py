"""Signatures and AES for the webhook, over wechatpy's cipher, with constant-time checks and key rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

from wechatpy.crypto import PrpCrypto

from app.wechat.errors import BadMessage, BadSignature, ConfigurationError

ENCRYPTED_REPLY = (
    "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>"
    "<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
)


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 over the sorted parts joined together."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, given: str | None) -> bool:
    """Compare signatures in constant time (wechatpy uses `!=`)."""
    return bool(given) and hmac.compare_digest(expected.encode("ascii"), str(given).encode("ascii", "replace"))


def check_timestamp(timestamp: str | None, now: float, window: int) -> None:
    """Refuse a missing or non-numeric timestamp, or one outside the replay window."""
    try:
        value = int(str(timestamp))
    except ValueError:
        raise BadSignature("bad timestamp") from None
    # Integer arithmetic: a signed 309-digit timestamp overflowed `float - int` into a 500 (found by fuzzing).
    if window and abs(int(now) - value) > window:
        raise BadSignature("stale timestamp")


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    """Decode a 43-character EncodingAESKey to its 32 bytes (wechatpy only asserts the length)."""
    try:
        key = base64.b64decode((encoding_aes_key or "") + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("EncodingAESKey is not base64") from None
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise ConfigurationError("EncodingAESKey must be 43 characters (32 bytes)")
    return key


class _Cipher(PrpCrypto):
    """wechatpy's envelope, its 16 random leading characters drawn from the OS's CSPRNG.

    wechatpy draws them with random.sample over a Mersenne Twister, which is predictable and, per reply, the
    slowest step of its encryption.
    """

    def get_random_string(self) -> str:
        return secrets.token_hex(8)


class WebhookCrypto:
    """Verify, decrypt and encrypt webhook traffic for one account; tries the previous key during rotation."""

    def __init__(self, token: str, appid: str, aes_key: str | None = None, previous_aes_key: str | None = None):
        if not token or not appid:
            raise ConfigurationError("WECHAT_TOKEN and WECHAT_APPID are required")
        self.token = token
        self.appid = appid
        self._ciphers = [_Cipher(aes_key_bytes(k)) for k in (aes_key, previous_aes_key) if k]

    @property
    def can_decrypt(self) -> bool:
        """Whether an EncodingAESKey is configured."""
        return bool(self._ciphers)

    def check_signature(self, signature: str | None, timestamp: str, nonce: str) -> None:
        """The plain `signature` every request carries."""
        if not signature_matches(sign(self.token, timestamp, nonce), signature):
            raise BadSignature("signature mismatch")

    def decrypt(self, encrypt: str, msg_signature: str | None, timestamp: str, nonce: str) -> str:
        """Check msg_signature over the ciphertext, then decrypt it with the current or the previous key."""
        if not self._ciphers:
            raise BadMessage("encrypted message but no EncodingAESKey configured")
        if not signature_matches(sign(self.token, timestamp, nonce, encrypt), msg_signature):
            raise BadSignature("msg_signature mismatch")
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(encrypt, self.appid)
            # Hostile ciphertext makes wechatpy raise almost anything (binascii.Error, ValueError,
            # struct.error, UnicodeDecodeError, InvalidAppIdException…): every one means "not ours".
            except Exception:  # noqa: BLE001
                continue
        raise BadMessage("ciphertext does not decrypt for this appid")

    def encrypt(self, xml: str, nonce: str | None = None, timestamp: str | None = None) -> str:
        """Wrap a reply in WeChat's encrypted envelope with the current key."""
        if not self._ciphers:
            raise ConfigurationError("no EncodingAESKey configured")
        nonce = nonce or secrets.token_hex(5)
        timestamp = timestamp or str(int(time.time()))
        encrypt = self._ciphers[0].encrypt(xml, self.appid).decode("ascii")
        return ENCRYPTED_REPLY.format(encrypt=encrypt, signature=sign(self.token, timestamp, nonce, encrypt),
                                      timestamp=timestamp, nonce=nonce)


def crypto_from_config(config) -> WebhookCrypto:
    """Build the crypto helper from a Flask config mapping."""
    return WebhookCrypto(config["WECHAT_TOKEN"], config["WECHAT_APPID"], config.get("WECHAT_AES_KEY"),
                         config.get("WECHAT_PREVIOUS_AES_KEY"))
