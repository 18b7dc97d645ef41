"""An independent implementation of WeChat's side of the webhook (sha1 signatures, AES-CBC), using `cryptography`.

Written from the protocol description only, so tests do not check wechatpy against itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
import time
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
OLD_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
TOKEN = "peer-token"
APPID = "wxpeerapp00000001"
ACCOUNT = "gh_linli_peer"
# The WECHAT_MODE of an account whose pushes come in this form (None: the default, safe with an EncodingAESKey).
ACCOUNT_MODE = {"plaintext": "plain", "compatible": "compat", "safe": None}


def signature(*parts: str) -> str:
    """sha1 of the sorted parts concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    return key


def encrypt(xml: str, encoding_aes_key: str = AES_KEY, appid: str = APPID, random16: bytes | None = None) -> str:
    """16 random bytes + big-endian length + xml + appid, PKCS#7 to 32, AES-256-CBC with IV = key[:16]."""
    key = _key(encoding_aes_key)
    body = xml.encode()
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def decrypt(encrypted: str, encoding_aes_key: str = AES_KEY) -> tuple[str, str]:
    """Return (xml, appid) from an Encrypt value."""
    key = _key(encoding_aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    plain = plain[:-plain[-1]]
    length = struct.unpack(">I", plain[16:20])[0]
    return plain[20:20 + length].decode(), plain[20 + length:].decode()


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, msg_type: str, fields: dict, create_time: int | None = None,
                account: str = ACCOUNT) -> str:
    """A push as WeChat builds it: header fields then the type's own fields (numbers bare, text in CDATA)."""
    parts = [f"<ToUserName>{cdata(account)}</ToUserName>", f"<FromUserName>{cdata(openid)}</FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>", f"<MsgType>{cdata(msg_type)}</MsgType>"]
    for name, value in fields.items():
        if isinstance(value, (int, float)):
            parts.append(f"<{name}>{value}</{name}>")
        elif isinstance(value, str) and value.startswith("<"):
            parts.append(f"<{name}>{value}</{name}>")  # nested XML (subscribe_msg_* lists)
        else:
            parts.append(f"<{name}>{cdata(str(value))}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def push(xml: str, mode: str = "safe", token: str = TOKEN, aes_key: str = AES_KEY, appid: str = APPID,
         timestamp: int | None = None, nonce: str | None = None, openid: str = "") -> tuple[str, bytes]:
    """(query string, body) of a POST in plaintext, compatible or safe mode; a fresh nonce unless given (as WeChat:
    Linli refuses a (timestamp, nonce) pair that comes again with another body)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce if nonce is not None else str(secrets.randbelow(10**10))
    query = {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": openid}
    if mode == "plaintext":
        body = xml
    else:
        enc = encrypt(xml, aes_key, appid)
        query.update(encrypt_type="aes", msg_signature=signature(token, ts, nonce, enc))
        inner = xml[len("<xml>"):-len("</xml>")] if mode == "compatible" else \
            f"<ToUserName>{cdata(ACCOUNT)}</ToUserName>"
        body = f"<xml>{inner}<Encrypt>{cdata(enc)}</Encrypt></xml>"
    return "&".join(f"{k}={escape(v)}" for k, v in query.items()), body.encode()


def open_reply(body: bytes, mode: str, token: str = TOKEN, aes_key: str = AES_KEY) -> str:
    """Check an encrypted reply's MsgSignature and appid and return the inner XML (plain replies pass through)."""
    import xml.etree.ElementTree as ET

    text = body.decode()
    if mode == "plaintext" or text == "success":
        return text
    root = ET.fromstring(text)
    enc = root.findtext("Encrypt")
    expected = signature(token, root.findtext("TimeStamp"), root.findtext("Nonce"), enc)
    assert root.findtext("MsgSignature") == expected, "reply MsgSignature does not verify"
    xml, appid = decrypt(enc, aes_key)
    assert appid == APPID, f"reply encrypted for appid {appid}"
    return xml
