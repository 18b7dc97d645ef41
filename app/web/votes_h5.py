"""Resident H5 pages for the estate plan: summary and full text with comments, the ballot, results, receipts."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.extensions import db, kv
from app.models import Plan, Vote
from app.models.vote import CHOICE_LABELS
from app.services import audit, ballots, binding, plans, vote_results
from app.services.errors import DomainError, NotFound
from app.web.resident import resident_required

bp = Blueprint("votes_h5", __name__, url_prefix="/h5/votes")


def _estate_ids(openid: str) -> set[int]:
    return {b.room.estate_id for b in binding.account_for(openid).active_bindings()}


def _visible_plan(plan_id: int) -> Plan:
    """A published (or later) plan of the resident's own estate; drafts and other estates are not found."""
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.status == "draft" or plan.estate_id not in _estate_ids(g.openid):
        abort(404)
    return plan


@bp.get("")
@resident_required
def entry():
    """The plan now open for comment or vote in my estate."""
    plan = plans.open_plan_for(g.openid)
    db.session.commit()
    if plan is None:
        return render_template("h5/message.html", title="小区方案", message="您的小区目前没有公示中的方案。"
                               "如果还没有绑定房屋，请先在公众号发送“绑定”。")
    return redirect(url_for("votes_h5.plan", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@resident_required
def plan(plan_id: int):
    """The plan summary, its full text, and a comment form."""
    item = _visible_plan(plan_id)
    message = error = None
    if request.method == "POST":
        try:
            plans.add_comment(g.openid, item.id, request.form.get("text", ""), channel="h5")
            message = "谢谢，您的意见已收到，社区会认真考虑。"
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    vote = db.session.scalar(select(Vote).where(Vote.plan_id == item.id).order_by(Vote.id.desc()).limit(1))
    return render_template("plans/h5_plan.html", plan=item, vote=vote, message=message, error=error,
                           now=clock.now()), (422 if error else 200)


@bp.route("/<int:vote_id>/ballot", methods=["GET", "POST"])
@resident_required
def ballot(vote_id: int):
    """The ballot: the plan summary, a choice and a confirmation; the receipt code after casting."""
    vote = db.session.get(Vote, vote_id)
    if vote is None or vote.estate_id not in _estate_ids(g.openid):
        abort(404)
    message = error = receipt = None
    if request.method == "POST":
        try:
            if request.form.get("confirm") != "1":
                raise DomainError("请勾选“我确认以上选择”后再提交。")
            result = ballots.cast(g.openid, vote.id, request.form.get("choice", ""), channel="h5",
                                  room_id=request.form.get("room_id", type=int))
            receipt = result.receipt
            message = f"投票成功：{CHOICE_LABELS[result.ballot.choice]}。{result.note}"
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    # One form per owner whose rooms the account holds: a room already voted (say on paper) does not hide another.
    voices = ballots.voices(binding.account_for(g.openid), vote)
    db.session.commit()
    return render_template("plans/h5_ballot.html", vote=vote, plan=vote.plan, choices=CHOICE_LABELS, voices=voices,
                           receipt=receipt, message=message, error=error, now=clock.now()), (422 if error else 200)


@bp.get("/<int:vote_id>/result")
def result(vote_id: int):
    """The published result: figures and turnout per building only (no sign-in needed, nothing personal)."""
    try:
        vote, figures = vote_results.public_result(vote_id)
    except NotFound:
        return render_template("h5/message.html", title="表决结果", message="结果尚未公布，表决截止后会尽快公布。"), 404
    return render_template("plans/h5_result.html", vote=vote, plan=vote.plan, r=figures)


@bp.route("/receipt", methods=["GET", "POST"])
@resident_required
def receipt():
    """Check my ballot with its receipt code."""
    info = error = None
    if request.method == "POST":
        account = binding.account_for(g.openid)
        try:
            if kv().hit_limit(f"vote-receipt:{account.id}", 10, 3600):  # codes cannot be guessed by trying
                raise DomainError("查询次数太多了，请一小时后再试。")
            info = ballots.check_receipt(request.form.get("code", ""), ballots.receipt_owners(account))
        except DomainError as exc:
            error = exc.message
        audit.record("resident", account.id, "receipt_check", "vote_receipt", "", found=info is not None)
        db.session.commit()
    return render_template("plans/h5_receipt.html", info=info, error=error), (404 if error else 200)
