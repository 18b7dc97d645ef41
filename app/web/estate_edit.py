"""The estate edit page: the register attributes staff keep up to date (type, modes, flags, 六有 dates)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models.place import ESTATE_TYPES, MANAGEMENT_MODES, SIX_HAVES
from app.services import estates, scope
from app.services.errors import DomainError, NotFound
from app.web.auth import role_required

bp = Blueprint("estate_edit", __name__, url_prefix="/admin/estates")


@bp.route("/<int:estate_id>/edit", methods=["GET", "POST"])
@role_required(*sorted(scope.OFFICE_ROLES))
def edit(estate_id: int):
    """Show and save the estate form; an invalid form is shown again with the message and nothing saved."""
    try:
        estate = scope.estate_for(current_user, estate_id)
    except NotFound:
        abort(404)
    error = None
    if request.method == "POST":
        try:
            standards = {code: _date(request.form.get(f"six_{code}", "")) for code in SIX_HAVES}
            estates.update_estate(
                estate, actor_id=current_user.id, name=request.form.get("name", ""),
                address=request.form.get("address", ""), estate_type=request.form.get("estate_type", ""),
                modes=request.form.getlist("modes"), committee=bool(request.form.get("committee")),
                fund=bool(request.form.get("fund")), handed_over=bool(request.form.get("handed_over")),
                standards=standards)
            flash("已保存。", "ok")
            return redirect(url_for("dashboard.estate", estate_id=estate.id))
        except DomainError as exc:
            db.session.rollback()
            estate = scope.estate_for(current_user, estate_id)
            error = exc.message
    return render_template("admin/estate_edit.html", estate=estate, types=ESTATE_TYPES, modes=MANAGEMENT_MODES,
                           six=SIX_HAVES, status=estate.standard_status(), error=error), (422 if error else 200)


def _date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DomainError(f"日期“{text}”格式不正确，请用 2025-03-01 这样的格式。") from exc
