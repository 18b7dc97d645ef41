"""Error pages and JSON errors: a clear Chinese message, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template_string, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

from app.services.errors import NotFound, PermissionDenied
from app.services.fonts import FontMissing

log = logging.getLogger(__name__)

# Standalone on purpose: an error page must render even when the database (and so the navigation) is down.
_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title>
<link rel="stylesheet" href="/assets/linli.css">
<body><main class="page"><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">返回首页</a></p></main>"""

_MESSAGES = {
    400: ("请求有误", "请求格式不正确。"),
    401: ("请先登录", "请先登录。"),
    403: ("无权访问", "您没有权限访问此页面。"),
    404: ("页面不存在", "没有找到，或您无权查看。"),
    405: ("方法不允许", "不支持此操作。"),
    413: ("内容过大", "上传的内容太大了。"),
    429: ("操作太频繁", "操作太频繁，请稍后再试。"),
    500: ("系统繁忙", "系统繁忙，请稍后再试。"),
    503: ("暂时无法打印", "暂时无法打印，请联系系统管理员。"),
}
_CSRF_MESSAGE = "页面已过期或来源不明，请刷新页面后再提交。"


def init_app(app: Flask) -> None:
    """Register one handler per status code, plus the scope errors of the services."""
    for code in _MESSAGES:
        app.register_error_handler(code, _handle)
    app.register_error_handler(CSRFError, _csrf)
    # A scope miss is a 404 whatever the cause: we never reveal that something exists outside the user's reach.
    app.register_error_handler(NotFound, lambda error: respond(404))
    app.register_error_handler(PermissionDenied, lambda error: respond(403, error.message))
    # A number too big for its column in a query string or form (PostgreSQL: DataError; SQLite: OverflowError when
    # binding it) is a bad request, not a 500; path ids are bounded by the URL converter already.
    app.register_error_handler(DataError, _bad_value)
    app.register_error_handler(OverflowError, _bad_value)
    # A server without the print font says so (the message tells the operator how to fix it) instead of a 500.
    app.register_error_handler(FontMissing, _font_missing)


def respond(code: int, message: str | None = None):
    """A Chinese error page, or JSON under /api/."""
    title, default = _MESSAGES.get(code, _MESSAGES[500])
    message = message or default
    if request.path.startswith("/api/"):
        return jsonify({"code": code, "message": message}), code
    return render_template_string(_PAGE, title=title, message=message), code


def _handle(error):
    return respond(getattr(error, "code", 500) or 500)


def _bad_value(error):
    from app.extensions import db

    db.session.rollback()  # PostgreSQL has aborted the transaction
    log.info("bad value refused path=%s: %s", request.path, str(error).splitlines()[0][:200])
    return respond(400)


def _csrf(error):
    return respond(400, _CSRF_MESSAGE)


def _font_missing(error):
    log.error("print font missing: %s", error)
    return respond(503, str(error))
