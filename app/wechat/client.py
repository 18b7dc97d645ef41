"""The WeChat API client: wechatpy's WeChatClient with a shared stable_token, bounded retry, timeouts, a fake base."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote, urlencode, urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from app.config import DEFAULT_API_BASE
from app.kv import KeyValueStore

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential / invalid token / expired token
TOKEN_MARGIN = 300  # refresh five minutes early: a fetched token only has to outlive one request
REAL_HOSTS = ("https://api.weixin.qq.com", "https://mp.weixin.qq.com", "https://open.weixin.qq.com")


class RewriteHostAdapter(HTTPAdapter):
    """Send requests for WeChat's hosts to another base URL (wechatpy hard-codes some absolute URLs)."""

    def __init__(self, base: str, **kwargs):
        super().__init__(**kwargs)
        self.base = base.rstrip("/")

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


class SharedTicket:
    """A credential (access token, jsapi ticket) cached in the shared store; one process fetches it under a lock."""

    def __init__(self, store: KeyValueStore, name: str, fetch):
        self.store = store
        self.key = name
        self.fetch = fetch  # fetch(force: bool) -> (value, expires_in)

    def _cached(self) -> str | None:
        entry = self.store.get_json(self.key)
        if entry and entry.get("expires_at", 0) - time.time() > TOKEN_MARGIN:
            return entry["value"]
        return None

    def get(self) -> str:
        """The cached value, fetching it once for all processes when missing or about to expire."""
        value = self._cached()
        if value:
            return value
        with self.store.lock(self.key, timeout=30, wait=20):
            value = self._cached()  # another process may have fetched it while we waited
            if value:
                return value
            return self._store(*self.fetch(False))

    def refresh(self, rejected: str | None) -> str:
        """Replace a value WeChat rejected, unless another process already did."""
        with self.store.lock(self.key, timeout=30, wait=20):
            value = self._cached()
            if value and value != rejected:
                return value
            return self._store(*self.fetch(True))

    def _store(self, value: str, expires_in: int) -> str:
        self.store.set_json(self.key, {"value": value, "expires_at": time.time() + expires_in},
                            ttl=max(expires_in, 1))
        return value


class LinliWeChatClient(WeChatClient):
    """wechatpy's client with our token handling; call methods raise WeChatClientException or requests errors."""

    def __init__(self, appid: str, secret: str, store: KeyValueStore, api_base: str = DEFAULT_API_BASE,
                 timeout: float = 5.0):
        # auto_retry=False: wechatpy's own retry recurses without bound on 40001.
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        if self.api_base != DEFAULT_API_BASE:
            adapter = RewriteHostAdapter(self.api_base)
            for host in REAL_HOSTS:
                self._http.mount(host, adapter)
        self.token = SharedTicket(store, f"wx:token:{appid}", self._fetch_stable_token)
        self.jsapi_ticket = SharedTicket(store, f"wx:jsapi:{appid}", self._fetch_jsapi_ticket)

    # -- credentials -------------------------------------------------------------------------------------------
    @property
    def access_token(self) -> str:
        return self.token.get()

    def fetch_access_token(self):
        """Force a new token (wechatpy calls this name)."""
        return self.token.refresh(None)

    def _fetch_stable_token(self, force: bool) -> tuple[str, int]:
        log.info("fetching stable access token appid=%s force=%s", self.appid, force)
        res = self._http.post(f"{DEFAULT_API_BASE}/cgi-bin/stable_token", timeout=self.timeout, json={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": force})
        result = self._checked(res)
        return result["access_token"], int(result.get("expires_in", 7200))

    def _fetch_jsapi_ticket(self, force: bool) -> tuple[str, int]:
        result = self.get("ticket/getticket", params={"type": "jsapi"})
        return result["ticket"], int(result.get("expires_in", 7200))

    def _checked(self, res: requests.Response) -> dict:
        try:
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError):
            raise WeChatClientException(None, f"HTTP {res.status_code}", client=self, response=res) from None
        if int(result.get("errcode", 0) or 0) != 0:
            raise WeChatClientException(int(result["errcode"]), result.get("errmsg", ""), client=self, response=res)
        return result

    def _request(self, method, url_or_endpoint, **kwargs):
        """One call; on an invalid/expired token refresh once and retry once, never more."""
        kwargs.setdefault("timeout", self.timeout)
        params = dict(kwargs.pop("params", None) or {})
        token = params.get("access_token") or self.access_token
        try:
            return super()._request(method, url_or_endpoint, params={**params, "access_token": token}, **kwargs)
        except WeChatClientException as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
            log.warning("token rejected (%s), refreshing once", error.errcode)
        fresh = self.token.refresh(token)
        return super()._request(method, url_or_endpoint, params={**params, "access_token": fresh}, **kwargs)

    # -- messages ----------------------------------------------------------------------------------------------
    def send_custom(self, openid: str, kind: str, payload: dict) -> dict:
        """A customer-service message (text, news or image) inside the resident's window."""
        if kind == "text":
            return self.message.send_text(openid, payload["text"])
        if kind == "news":
            return self.message.send_articles(openid, payload["articles"])
        if kind == "image":
            return self.message.send_image(openid, payload["media_id"])
        raise ValueError(f"unknown customer-service kind {kind}")

    def send_template(self, openid: str, template_id: str, data: dict, url: str | None = None,
                      client_msg_id: str | None = None) -> dict:
        """A template message; WeChat drops a repeated client_msg_id for the same openid."""
        body = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        return self.post("message/template/send", data=body)

    def send_subscribe(self, openid: str, template_id: str, data: dict, page: str | None = None) -> dict:
        """A subscription notice (一次性/长期订阅) via bizsend."""
        body = {"touser": openid, "template_id": template_id, "data": data}
        if page:
            body["page"] = page
        return self.post("message/subscribe/bizsend", data=body)

    # -- QR codes, menus, OAuth --------------------------------------------------------------------------------
    def create_qr(self, scene: str, expire_seconds: int | None = None) -> dict:
        """A parametric QR code: permanent QR_LIMIT_STR_SCENE, or temporary QR_STR_SCENE with expire_seconds."""
        if not 1 <= len(scene) <= 64:
            raise ValueError("scene_str must be 1–64 characters")
        body: dict = {"action_name": "QR_STR_SCENE" if expire_seconds else "QR_LIMIT_STR_SCENE",
                      "action_info": {"scene": {"scene_str": scene}}}
        if expire_seconds:
            body["expire_seconds"] = min(int(expire_seconds), 2592000)
        result = self.post("qrcode/create", data=body)
        result["image_url"] = self.qr_image_url(result["ticket"])
        return result

    def qr_image_url(self, ticket: str) -> str:
        """Where the QR image for a ticket can be fetched (the fake serves it too)."""
        host = "https://mp.weixin.qq.com" if self.api_base == DEFAULT_API_BASE else self.api_base
        return f"{host}/cgi-bin/showqrcode?ticket={quote(ticket)}"

    def create_menu(self, menu: dict) -> dict:
        """Replace the account's custom menu."""
        return self.menu.create(menu)

    def oauth_url(self, redirect_uri: str, state: str = "") -> str:
        """The snsapi_base authorisation URL an H5 page redirects to."""
        host = "https://open.weixin.qq.com" if self.api_base == DEFAULT_API_BASE else self.api_base
        query = urlencode({"appid": self.appid, "redirect_uri": redirect_uri, "response_type": "code",
                           "scope": "snsapi_base", "state": state})
        return f"{host}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_openid(self, code: str) -> dict:
        """Exchange a single-use OAuth code for {openid, is_snapshotuser}."""
        res = self._http.get(f"{DEFAULT_API_BASE}/sns/oauth2/access_token", timeout=self.timeout, params={
            "appid": self.appid, "secret": self.secret, "code": code, "grant_type": "authorization_code"})
        result = self._checked(res)
        return {"openid": result["openid"], "is_snapshotuser": bool(int(result.get("is_snapshotuser", 0) or 0))}


def get_client() -> LinliWeChatClient:
    """The current app's client (one per app, sharing its token through the key-value store)."""
    from app.extensions import kv

    client = current_app.extensions.get("linli_wechat_client")
    if client is None:
        config = current_app.config
        client = LinliWeChatClient(config["WECHAT_APPID"], config["WECHAT_SECRET"], kv(),
                                   config["WECHAT_API_BASE"], config.get("WECHAT_API_TIMEOUT", 5.0))
        current_app.extensions["linli_wechat_client"] = client
    return client
