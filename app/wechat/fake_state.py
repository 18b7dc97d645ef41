"""The state of the offline WeChat: tokens with rotation grace, followers, reply windows, codes and a send log."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

TOKEN_TTL = 7200
ROTATION_GRACE = 300  # an old token keeps working for ~5 minutes after a new one is issued
MESSAGE_WINDOW, MESSAGE_QUOTA = 48 * 3600, 5  # a resident's message opens 48 h for a handful of replies
EVENT_WINDOW, EVENT_QUOTA = 60, 3  # a click/scan/subscribe: a few replies within a minute
OAUTH_CODE_TTL = 300


class FakeError(Exception):
    """An API error in WeChat's shape."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


@dataclass
class Follower:
    subscribed: bool = True
    window_opened: float = 0.0
    window_length: float = 0.0
    window_quota: int = 0
    sent_in_window: int = 0


@dataclass
class FakeWeChat:
    """Everything the fake remembers; all methods are thread-safe."""

    appid: str = "wxlinlidemo0000001"
    secret: str = "linli-dev-secret"
    offset: float = 0.0
    tokens: dict = field(default_factory=dict)  # token → {"expires_at", "retired_at"}
    stable: str | None = None
    token_fetches: int = 0
    followers: dict = field(default_factory=dict)
    log: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # [{"path", "errcode", "times"}]
    latency: dict = field(default_factory=dict)  # path → seconds
    codes: dict = field(default_factory=dict)  # oauth code → {"openid", "snapshot", "expires_at", "used"}
    client_msg_ids: dict = field(default_factory=dict)  # (openid, client_msg_id) → msgid
    menu: dict | None = None
    qr_tickets: dict = field(default_factory=dict)
    next_msgid: int = 1000
    mutex: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> float:
        return time.time() + self.offset

    # -- tokens ------------------------------------------------------------------------------------------------
    def check_credentials(self, appid: str | None, secret: str | None) -> None:
        if appid != self.appid:
            raise FakeError(40013, "invalid appid")
        if secret != self.secret:
            raise FakeError(40125, "invalid appsecret")

    def _issue(self) -> str:
        now = self.now()
        for entry in self.tokens.values():  # issuing rotates: older tokens enter their grace period
            entry["retired_at"] = entry["retired_at"] or now
        token = "FAKE_" + secrets.token_urlsafe(24)
        self.tokens[token] = {"expires_at": now + TOKEN_TTL, "retired_at": None}
        self.token_fetches += 1
        return token

    def stable_token(self, appid, secret, force: bool) -> dict:
        """POST /cgi-bin/stable_token: the same token until it expires, unless force_refresh."""
        with self.mutex:
            self.check_credentials(appid, secret)
            entry = self.tokens.get(self.stable or "")
            if force or entry is None or entry["retired_at"] or entry["expires_at"] <= self.now():
                self.stable = self._issue()
            else:
                self.token_fetches += 1
            return {"access_token": self.stable, "expires_in": int(self.tokens[self.stable]["expires_at"] - self.now())}

    def legacy_token(self, appid, secret) -> dict:
        """GET /cgi-bin/token: every call rotates."""
        with self.mutex:
            self.check_credentials(appid, secret)
            self.stable = self._issue()
            return {"access_token": self.stable, "expires_in": TOKEN_TTL}

    def validate(self, token: str | None) -> None:
        with self.mutex:
            entry = self.tokens.get(token or "")
            now = self.now()
            if entry is None or (entry["retired_at"] and now > entry["retired_at"] + ROTATION_GRACE):
                raise FakeError(40001, "invalid credential, access_token is invalid or not latest")
            if now >= entry["expires_at"]:
                raise FakeError(42001, "access_token expired")

    def expire_tokens(self) -> None:
        with self.mutex:
            for entry in self.tokens.values():
                entry["expires_at"] = self.now()

    def revoke_tokens(self) -> None:
        with self.mutex:
            self.tokens.clear()
            self.stable = None

    # -- followers and windows ---------------------------------------------------------------------------------
    def interact(self, openid: str, kind: str) -> None:
        """What WeChat learns when a resident acts: a message (48 h window), an event (1 min), (un)follow."""
        with self.mutex:
            follower = self.followers.setdefault(openid, Follower())
            if kind == "unsubscribe":
                follower.subscribed = False
                return
            follower.subscribed = True
            long_window = kind == "message"
            follower.window_opened = self.now()
            follower.window_length = MESSAGE_WINDOW if long_window else EVENT_WINDOW
            follower.window_quota = MESSAGE_QUOTA if long_window else EVENT_QUOTA
            follower.sent_in_window = 0

    def _follower(self, openid: str) -> Follower:
        follower = self.followers.get(openid)
        if follower is None or not follower.subscribed:
            raise FakeError(43004, "require subscribe")
        return follower

    def custom_send(self, body: dict) -> dict:
        with self.mutex:
            follower = self._follower(body.get("touser", ""))
            if self.now() > follower.window_opened + follower.window_length:
                raise FakeError(45015, "response out of time limit or subscription is canceled")
            if follower.sent_in_window >= follower.window_quota:
                raise FakeError(45047, "out of response count limit")
            msgtype = body.get("msgtype")
            if msgtype not in ("text", "news", "image", "voice", "video", "mpnews", "link"):
                raise FakeError(40008, "invalid message type")
            follower.sent_in_window += 1
            return self._record("custom", body["touser"], body)

    def template_send(self, body: dict) -> dict:
        with self.mutex:
            openid = body.get("touser", "")
            self._follower(openid)
            if not body.get("template_id"):
                raise FakeError(40037, "invalid template_id")
            dedupe = (openid, body.get("client_msg_id"))
            if body.get("client_msg_id") and dedupe in self.client_msg_ids:
                return {"msgid": self.client_msg_ids[dedupe]}  # a repeated client_msg_id is not sent again
            result = self._record("template", openid, body)
            if body.get("client_msg_id"):
                self.client_msg_ids[dedupe] = result["msgid"]
            return result

    def subscribe_send(self, body: dict) -> dict:
        with self.mutex:
            self._follower(body.get("touser", ""))
            if not body.get("template_id") or not isinstance(body.get("data"), dict):
                raise FakeError(47003, "argument invalid")
            return self._record("subscribe", body["touser"], body)

    def _record(self, channel: str, openid: str, body: dict) -> dict:
        self.next_msgid += 1
        self.log.append({"seq": len(self.log) + 1, "channel": channel, "touser": openid, "body": body,
                         "msgid": self.next_msgid, "at": self.now()})
        return {"msgid": self.next_msgid}

    def messages(self, since: int = 0, openid: str | None = None) -> list[dict]:
        with self.mutex:
            return [m for m in self.log if m["seq"] > since and (openid is None or m["touser"] == openid)]

    # -- failures injected by tests ----------------------------------------------------------------------------
    def take_failure(self, path: str) -> FakeError | None:
        with self.mutex:
            for rule in self.failures:
                if rule.get("path") in (path, "*") and rule.get("times", 1) > 0:
                    rule["times"] = rule.get("times", 1) - 1
                    return FakeError(int(rule["errcode"]), rule.get("errmsg", "injected failure"))
            return None

    # -- QR codes and OAuth ------------------------------------------------------------------------------------
    def create_qr(self, body: dict) -> dict:
        action = body.get("action_name")
        scene = (body.get("action_info") or {}).get("scene") or {}
        if action not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
            raise FakeError(40053, "invalid action info")
        if action.endswith("STR_SCENE"):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                raise FakeError(40053, "invalid scene_str")
        elif not isinstance(scene.get("scene_id"), int) or scene["scene_id"] <= 0:
            raise FakeError(40053, "invalid scene_id")
        expire = body.get("expire_seconds")
        if not action.startswith("QR_LIMIT") and expire is not None and not 60 <= int(expire) <= 2592000:
            raise FakeError(40009, "invalid expire_seconds")
        ticket = "gQ" + secrets.token_urlsafe(18)
        with self.mutex:
            self.qr_tickets[ticket] = scene.get("scene_str") or str(scene.get("scene_id"))
        result = {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket[:12]}"}
        if not action.startswith("QR_LIMIT"):
            result["expire_seconds"] = int(expire or 60)
        return result

    def issue_code(self, openid: str, snapshot: bool = False) -> str:
        with self.mutex:
            code = secrets.token_hex(16)
            self.codes[code] = {"openid": openid, "snapshot": snapshot, "expires_at": self.now() + OAUTH_CODE_TTL,
                                "used": False}
            return code

    def redeem_code(self, appid, secret, code) -> dict:
        with self.mutex:
            self.check_credentials(appid, secret)
            entry = self.codes.get(code or "")
            if entry is None or entry["expires_at"] < self.now():
                raise FakeError(40029, "invalid code")
            if entry["used"]:
                raise FakeError(40163, "code been used")
            entry["used"] = True
            result = {"access_token": "OAUTH_" + secrets.token_hex(8), "expires_in": 7200, "openid": entry["openid"],
                      "scope": "snsapi_base", "refresh_token": secrets.token_hex(8)}
            if entry["snapshot"]:
                result["is_snapshotuser"] = 1
            return result
