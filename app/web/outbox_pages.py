"""Staff page /admin/outbox: messages waiting, failed or undeliverable, with a manual resend."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, func, or_, select

from app.extensions import db
from app.models import Estate, ResidentAccount, Room, RoomBinding
from app.models.outbox import STATUSES, OutboxMessage
from app.services import outbox, scope

bp = Blueprint("outbox_pages", __name__, url_prefix="/admin/outbox")
OFFICE = ("street_admin", "community_staff")
DEFAULT_STATUSES = ("pending", "sending", "failed", "undeliverable")
PAGE_SIZE = 100

try:  # the dashboard owns the navigation; add our entry when it offers the hook
    from app.web.dashboard import add_nav_item

    add_nav_item("待发消息", "outbox_pages.index", OFFICE, order=80)
except ImportError:  # pragma: no cover - the dashboard is optional for this page
    pass


def _require_office() -> None:
    # Openids and message contents are for office staff only; others get a page that does not exist.
    if not scope.has_role(current_user, *OFFICE):
        abort(404)


def _visible() -> ColumnElement[bool]:
    """Messages the user may see: to residents bound in their estates, to themselves, and — for a street office —
    to openids bound nowhere (new residents, staff), which belong to no estate's staff."""
    estates = scope.visible_estates(current_user).with_only_columns(Estate.id).order_by(None)
    bound_here = (select(ResidentAccount.openid).join(RoomBinding, RoomBinding.account_id == ResidentAccount.id)
                  .join(Room, Room.id == RoomBinding.room_id)
                  .where(RoomBinding.status == "bound", Room.estate_id.in_(estates)))
    clauses = [OutboxMessage.openid.in_(bound_here)]
    if current_user.openid:
        clauses.append(OutboxMessage.openid == current_user.openid)
    if scope.has_role(current_user, "street_admin"):
        bound_anywhere = (select(ResidentAccount.openid)
                          .join(RoomBinding, RoomBinding.account_id == ResidentAccount.id)
                          .where(RoomBinding.status == "bound"))
        clauses.append(OutboxMessage.openid.not_in(bound_anywhere))
    return or_(*clauses)


@bp.get("/")
@login_required
def index():
    """List messages by status (default: everything not yet sent)."""
    _require_office()
    wanted = request.args.get("status")
    statuses = (wanted,) if wanted in STATUSES else DEFAULT_STATUSES
    visible = _visible()
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status.in_(statuses), visible)
                                  .order_by(OutboxMessage.created_at.desc()).limit(PAGE_SIZE)).all()
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).where(visible)
                                     .group_by(OutboxMessage.status)).all())
    return render_template("outbox/index.html", messages=messages, counts=counts, statuses=STATUSES,
                           wanted=wanted, summary=summarise)


@bp.post("/<int:message_id>/retry")
@login_required
def retry(message_id: int):
    """Send a failed message again (same idempotency key)."""
    _require_office()
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.id == message_id, _visible())) is None:
        abort(404)
    if outbox.retry_message(message_id):
        flash("已重新排队发送。", "success")
    else:
        flash("这条消息不能重发（可能已发送或正在发送）。", "error")
    return redirect(url_for("outbox_pages.index", status=request.args.get("status")))


def summarise(message: OutboxMessage) -> str:
    """A one-line preview of a message's content."""
    payload = message.payload or {}
    if payload.get("text"):
        text = payload["text"]
    elif payload.get("articles"):
        text = "；".join(a.get("title", "") for a in payload["articles"])
    elif payload.get("values"):
        text = payload["values"].get("text") or payload["values"].get("summary") or payload.get("template", "")
    else:
        text = payload.get("template_id", "") or message.kind
    return text if len(text) <= 60 else text[:59] + "…"
