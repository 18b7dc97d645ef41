"""Security headers on every response: a Content-Security-Policy with a per-response script nonce, no framing,
no MIME sniffing, and no referrer sent to other sites."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

WECHAT_JS_SDK = "https://res.wx.qq.com"  # jweixin.js, which WeChat H5 pages load from WeChat's own host
WECHAT_OAUTH = "https://open.weixin.qq.com"
H5_PREFIX = "/h5"
# Anything that is not a page (JSON, images, files) needs nothing: a document made of it may load nothing at all.
NON_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


def init_app(app: Flask) -> None:
    """Add the headers to every response and offer `csp_nonce()` to templates."""
    app.after_request(add_security_headers)
    app.add_template_global(csp_nonce)


def csp_nonce() -> str:
    """This response's script nonce: `<script nonce="{{ csp_nonce() }}">` is the only way an inline script runs."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def add_security_headers(response: Response) -> Response:
    """after_request hook; a view that set its own policy (an uploaded file's sandbox) keeps it."""
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = page_policy() if response.mimetype == "text/html" else NON_PAGE_POLICY
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # H5 links carry tokens in the query string (QR codes, one-time links): they must never leave the site.
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def page_policy() -> str:
    """The policy of a server-rendered page: scripts only from here (or WeChat's SDK on H5 pages) or with the nonce.

    Styles allow 'unsafe-inline': the templates use style attributes, and a style cannot run code.
    """
    h5 = request.path.startswith(H5_PREFIX)
    scripts = f"'self' 'nonce-{csp_nonce()}'" + (f" {WECHAT_JS_SDK}" if h5 else "")
    # An H5 form posted after the sign-in cookie expired is redirected to WeChat's sign-in page.
    forms = "'self'" + (f" {_oauth_origin()}" if h5 else "")
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"object-src 'none'; base-uri 'none'; form-action {forms}; frame-ancestors 'none'")


def _oauth_origin() -> str:
    # The offline fake (demo, tests) stands in for WeChat at WECHAT_API_BASE; the real one signs in elsewhere.
    from app.wechat.client import DEFAULT_API_BASE

    base = (current_app.config.get("WECHAT_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    if base == DEFAULT_API_BASE:
        return WECHAT_OAUTH
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"
