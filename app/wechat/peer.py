"""WeChat's side of the webhook, for the simulator and the benchmark: build, sign and encrypt a push."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

from wechatpy.crypto import PrpCrypto

from app.wechat.crypto import WebhookCrypto, aes_key_bytes, sign
from app.wechat.parse import xml_to_dict
from app.wechat.reply import cdata

_ids = iter(range(1, 1 << 62))


def new_msg_id() -> int:
    """A MsgId that is unique within this process and roughly time-ordered, like WeChat's 64-bit ids."""
    return time.time_ns() // 1000 * 1000 + next(_ids) % 1000


def message_xml(openid: str, account: str, msg_type: str, fields: dict, create_time: int | None = None) -> str:
    """The XML WeChat pushes for one message or event."""
    parts = [f"<ToUserName>{cdata(account)}</ToUserName>", f"<FromUserName>{cdata(openid)}</FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>", f"<MsgType>{cdata(msg_type)}</MsgType>"]
    for name, value in fields.items():
        inner = value if isinstance(value, (int, float)) else cdata(value)
        parts.append(f"<{name}>{inner}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


class Peer:
    """Signs and (in safe mode) encrypts pushes for one account, and opens the replies."""

    def __init__(self, token: str, appid: str, aes_key: str | None, account: str = "gh_linli_demo"):
        self.token, self.appid, self.account = token, appid, account
        self.aes_key = aes_key
        self.crypto = WebhookCrypto(token, appid, aes_key)

    @property
    def safe(self) -> bool:
        return bool(self.aes_key)

    def push(self, xml: str, openid: str) -> tuple[str, bytes]:
        """(query string, body) of the POST WeChat would make: safe mode when a key is configured."""
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": openid}
        if not self.safe:
            return urlencode(query), xml.encode("utf-8")
        encrypt = PrpCrypto(aes_key_bytes(self.aes_key)).encrypt(xml, self.appid).decode("ascii")
        query.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, encrypt))
        body = f"<xml><ToUserName>{cdata(self.account)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return urlencode(query), body.encode("utf-8")

    def open_reply(self, body: bytes) -> dict | None:
        """The reply as a dict (None for `success`), checking its signature and appid in safe mode."""
        text = body.decode("utf-8")
        if not text.strip() or text.strip() == "success":
            return None
        data = xml_to_dict(text)
        if self.safe:
            data = xml_to_dict(self.crypto.decrypt(data["Encrypt"], data.get("MsgSignature"),
                                                   data.get("TimeStamp", ""), data.get("Nonce", "")))
        return data
