"""H5 page helpers: the resident's openid in a signed cookie (after snsapi_base OAuth) and the JS-SDK signature."""

from __future__ import annotations

import hashlib
import secrets
import time

from itsdangerous import BadSignature, URLSafeTimedSerializer

OPENID_COOKIE = "linli_openid"
COOKIE_MAX_AGE = 7 * 24 * 3600
_SALT = "linli-wechat-openid"


def sign_openid(secret_key: str, openid: str, snapshot: bool = False) -> str:
    """A tamper-proof cookie value carrying the openid (and whether it is a 快照页 virtual user)."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"o": openid, "s": int(snapshot)})


def load_openid(secret_key: str, value: str | None, max_age: int = COOKIE_MAX_AGE) -> str | None:
    """The openid from a cookie value, or None when missing, forged, expired or a virtual (snapshot) user."""
    if not value:
        return None
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(value, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s"):
        return None
    return data.get("o") or None


def jssdk_signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, with the URL's #fragment removed."""
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url.split('#', 1)[0]}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def jssdk_config(client, url: str) -> dict:
    """The wx.config() values for a page URL, using the shared jsapi ticket."""
    noncestr = secrets.token_hex(8)
    timestamp = int(time.time())
    return {"appId": client.appid, "timestamp": timestamp, "nonceStr": noncestr,
            "signature": jssdk_signature(client.jsapi_ticket.get(), noncestr, timestamp, url)}
