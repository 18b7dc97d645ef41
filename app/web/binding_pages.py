"""Dashboard pages for identity: binding requests beside the register, binding-code slips, linking staff WeChat."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from app import clock
from app.extensions import db
from app.models import Room
from app.models.binding import REQUEST_METHODS
from app.models.person import RELATIONS
from app.services import audit, binding, binding_review, fonts, scope, staff_links
from app.services.errors import DomainError
from app.services.slips import binding_slips_pdf, valid_until_text
from app.web.auth import role_required
from app.web.dashboard import add_nav_item

bp = Blueprint("identity", __name__, url_prefix="/admin")
APPROVERS = binding.APPROVER_ROLES

add_nav_item("绑定审核", "identity.requests", APPROVERS, order=20)
add_nav_item("关联微信", "identity.link_wechat", None, order=95)


@bp.get("/binding/requests")
@role_required(*APPROVERS)
def requests():
    """Pending requests, each beside what the register says about that room."""
    rows = []
    for item in binding.pending_requests(current_user):
        rows.append({"request": item, "check": binding_review.compare(item)})
        audit.record_staff(current_user, "view", "binding_request", item.id, room_id=item.room_id)
    db.session.commit()
    return render_template("admin/binding_requests.html", rows=rows, relations=RELATIONS, methods=REQUEST_METHODS,
                           reason_min=binding_review.REASON_MIN_CHARS)


@bp.post("/binding/requests/<int:request_id>")
@role_required(*APPROVERS)
def decide(request_id: int):
    """Approve or reject one request (a second decision is refused with a message)."""
    approve = request.form.get("decision") == "approve"
    try:
        binding.decide_request(current_user, request_id, approve, note=request.form.get("note", ""),
                               reason=request.form.get("reason", ""))
        flash("已通过，已通知居民。" if approve else "已驳回，已通知居民。", "ok")
    except DomainError as exc:
        db.session.rollback()
        if exc.__class__.__name__ == "NotFound":
            abort(404)
        flash(exc.message, "error")
    return redirect(url_for("identity.requests"))


@bp.post("/estates/<int:estate_id>/binding-codes")
@role_required(*APPROVERS)
def binding_codes(estate_id: int):
    """Issue new codes for the rooms this user reaches (old ones are revoked) and download the slips."""
    try:
        estate = scope.estate_for(current_user, estate_id)
    except DomainError:
        abort(404)
    query = scope.visible_rooms(current_user, estate)
    building_id = request.form.get("building_id", type=int)
    if building_id:
        query = query.where(Room.building_id == building_id)
    rooms = list(db.session.scalars(query))
    if not rooms:
        abort(404)
    fonts.register_pdf_font()  # before issuing: codes that cannot be printed would void the old ones for nothing
    issued = binding.issue_codes(rooms, actor=f"staff:{current_user.id}")
    pdf = binding_slips_pdf(estate.name, issued, valid_until_text(clock.now()))
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"binding-codes-{estate.id}.pdf")


@bp.route("/wechat-link", methods=["GET", "POST"])
@login_required
def link_wechat():
    """Show a one-time code that links this staff account to the WeChat user who sends it to the account."""
    code = None
    if request.method == "POST":
        if request.form.get("action") == "unlink":
            staff_links.unlink_staff(current_user)
            flash("已取消关联。", "ok")
            return redirect(url_for("identity.link_wechat"))
        code = staff_links.create_link_code(current_user)
    return render_template("admin/link_wechat.html", code=code, minutes=staff_links.LINK_CODE_MINUTES,
                           linked=bool(current_user.openid))
