"""Resident H5 pages opened from WeChat: snsapi_base sign-in, binding a room, and my data (see/export/delete)."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

from flask import (Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, session,
                   url_for)
from sqlalchemy import select

from app.extensions import db
from app.models import Estate, Room
from app.models.person import RELATIONS
from app.services import binding, estates, privacy_rights
from app.services.errors import DomainError
from app.wechat import h5

bp = Blueprint("resident", __name__, url_prefix="/h5")


def current_openid() -> str | None:
    """The openid in the signed cookie, or None (never from a form field or query string)."""
    return h5.load_openid(current_app.config["SECRET_KEY"], request.cookies.get(h5.OPENID_COOKIE))


def resident_required(view):
    """Send the resident through WeChat's snsapi_base sign-in first when we do not know their openid."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        openid = current_openid()
        if openid is None:
            from app.wechat.client import get_client

            callback = url_for("resident.oauth_callback", _external=True)
            return redirect(get_client().oauth_url(callback, state=request.full_path))
        g.openid = openid
        return view(*args, **kwargs)

    return wrapper


@bp.get("/oauth")
def oauth_callback():
    """WeChat sends the resident back with a single-use code: exchange it, set the cookie, go where they were."""
    from wechatpy.exceptions import WeChatClientException

    from app.wechat.client import get_client

    code = request.args.get("code", "")
    if not code:
        return render_template("h5/message.html", title="无法登录", message="请在微信中打开此页面。"), 400
    try:
        result = get_client().oauth_openid(code)
    except WeChatClientException:
        return render_template("h5/message.html", title="登录已过期", message="请返回微信重新打开此页面。"), 400
    if result["is_snapshotuser"]:
        return render_template("h5/message.html", title="请在微信中打开",
                               message="这是预览页，请点击“使用完整服务”后再操作。"), 403
    target = request.args.get("state") or url_for("resident.me")
    if urlparse(target).netloc or not target.startswith("/"):
        target = url_for("resident.me")  # never redirect off-site
    response = redirect(target)
    response.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(current_app.config["SECRET_KEY"], result["openid"]),
                        max_age=h5.COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _find_room(estate_id: str, building: str, unit: str, number: str) -> Room | None:
    if not estate_id.isdigit():
        return None
    rooms = estates.find_rooms(int(estate_id), building, number, unit)
    return rooms[0] if len(rooms) == 1 else None


@bp.route("/bind", methods=["GET", "POST"])
@resident_required
def bind():
    """Consent, then a binding code — or a request for staff to approve."""
    account = binding.account_for(g.openid)
    db.session.commit()
    message, error = None, None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "consent":
                if request.form.get("agree") != "1":
                    raise DomainError("请勾选“我已阅读并同意”。")
                binding.record_consent(g.openid, channel="h5")
                message = "已记录您的同意，请继续绑定。"
            elif action == "code":
                try:
                    result = binding.bind_with_code(g.openid, request.form.get("code", ""))
                    message = f"绑定成功：{result.room.estate.name}{result.room.label}（业主）。"
                except binding.BindingNeedsApproval as pending:  # saved as a request: news, not an error
                    message = pending.message
            elif action == "request":
                room = _find_room(request.form.get("estate", ""), request.form.get("building", ""),
                                  request.form.get("unit", ""), request.form.get("room", ""))
                if room is None:
                    raise DomainError("没有找到这个房屋，请核对小区、楼号、单元和房号。")
                binding.request_binding(g.openid, room, request.form.get("name", ""),
                                        request.form.get("last4", ""), request.form.get("relation", ""))
                message = "申请已提交，楼栋长或社区核对后会通知您。"
            else:
                abort(400)
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    estate_list = db.session.scalars(select(Estate).order_by(Estate.name)).all()
    return render_template("h5/bind.html", notice=binding.PROCESSING_NOTICE, consented=binding.has_consent(account),
                           bindings=account.active_bindings(), estates=estate_list, relations=RELATIONS,
                           message=message, error=error), (200 if not error else 422)


@bp.get("/me")
@resident_required
def me():
    """What Linli holds about me, masked."""
    try:
        data = privacy_rights.my_data(g.openid)
    except DomainError:
        data = None
    return render_template("h5/me.html", data=data, erase_warning=privacy_rights.ERASE_WARNING)


@bp.get("/me/export.json")
@resident_required
def export_me():
    """Download my data as JSON (PIPL Art. 45)."""
    response = jsonify(privacy_rights.export_data(g.openid))
    response.headers["Content-Disposition"] = "attachment; filename=linli-my-data.json"
    return response


@bp.post("/me/delete")
@resident_required
def delete_me():
    """Delete my account after an explicit confirmation."""
    if request.form.get("confirm") != "注销":
        return render_template("h5/me.html", data=privacy_rights.my_data(g.openid),
                               erase_warning=privacy_rights.ERASE_WARNING,
                               error="请在框中输入“注销”两个字以确认。"), 422
    privacy_rights.erase_account(g.openid)
    response = redirect(url_for("resident.deleted"))
    response.delete_cookie(h5.OPENID_COOKIE)
    session.clear()
    return response


@bp.get("/deleted")
def deleted():
    return render_template("h5/message.html", title="账号已注销", message=privacy_rights.ERASED_PAGE)
