"""Error pages and JSON errors: a clear Chinese message, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template_string, request

_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title>
<body style="font-family:sans-serif;padding:2em"><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">返回首页</a></p>"""

_MESSAGES = {
    400: ("请求有误", "请求格式不正确。"),
    403: ("无权访问", "您没有权限访问此页面。"),
    404: ("页面不存在", "没有找到，或您无权查看。"),
    405: ("方法不允许", "不支持此操作。"),
    413: ("内容过大", "上传的内容太大了。"),
    429: ("操作太频繁", "操作太频繁，请稍后再试。"),
    500: ("系统繁忙", "系统繁忙，请稍后再试。"),
}


def init_app(app: Flask) -> None:
    """Register one handler per status code."""
    for code in _MESSAGES:
        app.register_error_handler(code, _handle)


def _handle(error):
    code = getattr(error, "code", 500) or 500
    title, message = _MESSAGES.get(code, _MESSAGES[500])
    if request.path.startswith("/api/"):
        return jsonify({"code": code, "message": message}), code
    return render_template_string(_PAGE, title=title, message=message), code
