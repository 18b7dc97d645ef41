"""Dashboard pages for 一小区一方案: plan editor and versions, comments, votes, paper ballots, turnout, results."""

from __future__ import annotations

import io
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Ballot, BallotScan, Plan, Vote, VoteRoll
from app.models.place import MANAGEMENT_MODES, SIX_HAVES
from app.models.plan import EXTRA_FACILITIES, FEE_CYCLES, FEE_MODES, TIERS
from app.models.vote import BOTH_WAYS_RULES, CHOICE_LABELS
from app.services import audit, ballots, plans, scope, vote_results
from app.services.errors import DomainError, NotFound
from app.services.voting import RULE_PROFILES
from app.web.auth import role_required
from app.web.dashboard import add_nav_item
from app.web.uploads import send_upload, upload_limit

bp = Blueprint("plans", __name__, url_prefix="/admin")
OFFICE = tuple(sorted(scope.OFFICE_ROLES))
# Paper ballot scans may be larger than the app-wide request limit (phone photos).
SCAN_REQUEST_LIMIT = ballots.SCAN_MAX_BYTES + 64 * 1024

add_nav_item("小区方案", "plans.index", OFFICE, order=40)


def _form_fields() -> dict:
    """Plan fields from the editor form (lists from checkboxes, one item a line from text areas)."""
    form = request.form
    fields = {"title": form.get("title", "").strip(), "tier": form.get("tier", "ordinary"),
              "area_scope": form.get("area_scope", ""), "six_haves": form.getlist("six_haves"),
              "facilities": form.getlist("facilities"), "facilities_note": form.get("facilities_note", ""),
              "management_modes": form.getlist("management_modes"),
              "services": form.get("services", "").splitlines(), "funding": form.get("funding", "").splitlines(),
              "body": form.get("body", ""), "fee_mode": form.get("fee_mode") or None}
    fields["fee_amount_fen"] = plans.parse_yuan(form.get("fee_amount", ""))
    fields["fee_cycle"] = form.get("fee_cycle") or None
    return fields


def _choices() -> dict:
    return {"six_have_items": SIX_HAVES, "facility_items": EXTRA_FACILITIES, "mode_items": MANAGEMENT_MODES,
            "tiers": TIERS, "fee_modes": FEE_MODES, "fee_cycles": FEE_CYCLES}


@bp.get("/plans")
@role_required(*OFFICE)
def index():
    """The estates this user manages, each with its plan versions and votes."""
    estates = [e for e in db.session.scalars(scope.visible_estates(current_user))
               if scope.reach(current_user, e).whole]
    ids = [e.id for e in estates]
    all_plans = db.session.scalars(select(Plan).where(Plan.estate_id.in_(ids))
                                   .order_by(Plan.estate_id, Plan.version.desc())).all()
    votes = db.session.scalars(select(Vote).where(Vote.estate_id.in_(ids)).order_by(Vote.id.desc())).all()
    return render_template("plans/index.html", estates=estates, plans=all_plans, votes=votes,
                           current={e.id: plans.current_plan(e) for e in estates})


@bp.route("/estates/<int:estate_id>/plans/new", methods=["GET", "POST"])
@role_required(*OFFICE)
def new(estate_id: int):
    """Draft a new plan (its version number follows the estate's last one)."""
    estate = plans.require_office(current_user, estate_id)
    if request.method == "POST":
        try:
            plan = plans.create_plan(current_user, estate.id, **_form_fields())
            flash(f"已保存草稿（第{plan.version}版）。", "ok")
            return redirect(url_for("plans.edit", plan_id=plan.id))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    draft = Plan(estate_id=estate.id, title="", tier="ordinary", six_haves=[], facilities=[], management_modes=[],
                 services=[], funding=[], area_scope="", facilities_note="", body="")
    return render_template("plans/edit.html", plan=draft, estate=estate, editable=True, **_choices())


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@role_required(*OFFICE)
def edit(plan_id: int):
    """One plan version: the editor while it is a draft, its text and comments after publication."""
    plan = plans.plan_for(current_user, plan_id)
    if request.method == "POST":
        try:
            plans.update_plan(current_user, plan.id, **_form_fields())
            flash("已保存。", "ok")
            return redirect(url_for("plans.edit", plan_id=plan.id))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    votes = db.session.scalars(select(Vote).where(Vote.plan_id == plan.id).order_by(Vote.id)).all()
    return render_template("plans/edit.html", plan=plan, estate=plan.estate, editable=plan.status == "draft",
                           votes=votes, rule_profiles=RULE_PROFILES, both_ways_rules=BOTH_WAYS_RULES,
                           min_notice=plans.MIN_NOTICE_DAYS, **_choices())


@bp.post("/plans/<int:plan_id>/<action>")
@role_required(*OFFICE)
def act(plan_id: int, action: str):
    """Publish, copy into a new version, or put to a vote."""
    try:
        if action == "publish":
            plans.publish(current_user, plan_id)
            flash("已公示，居民可以查看并提意见。", "ok")
        elif action == "version":
            plan = plans.new_version(current_user, plan_id)
            flash(f"已另存为第{plan.version}版草稿。", "ok")
            return redirect(url_for("plans.edit", plan_id=plan.id))
        elif action == "vote":
            vote = plans.put_to_vote(
                current_user, plan_id, _when("opens_at"), _when("closes_at"),
                rule_profile=request.form.get("rule_profile", "art278"),
                notice_days=request.form.get("notice_days", type=int),
                allow_change_until_close=request.form.get("allow_change") == "1",
                follow_majority=request.form.get("follow_majority") == "1",
                both_ways_rule=request.form.get("both_ways_rule", "electronic"))
            flash("已发布表决公告，已通知已绑定的业主。", "ok")
            return redirect(url_for("plans.vote", vote_id=vote.id))
        else:
            abort(404)
    except NotFound:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("plans.edit", plan_id=plan_id))


def _when(name: str) -> datetime:
    try:
        return clock.localize(datetime.fromisoformat(request.form.get(name, "")))
    except ValueError:
        raise DomainError("请填写开始和截止时间。") from None


def _vote(vote_id: int) -> Vote:
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        abort(404)
    plans.require_office(current_user, vote.estate_id)
    return vote


@bp.get("/votes/<int:vote_id>")
@role_required(*OFFICE)
def vote(vote_id: int):
    """The vote: snapshot, live turnout per building, paper ballot entry, close, results and exports."""
    item = _vote(vote_id)
    audit.record_staff(current_user, "view", "vote", item.id)
    db.session.commit()
    roll = db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == item.id)
                              .order_by(VoteRoll.building_id, VoteRoll.room_id)).all() if item.status == "open" else []
    paper = db.session.scalars(select(Ballot).where(Ballot.vote_id == item.id, Ballot.channel == "paper")
                               .order_by(Ballot.id)).all()
    return render_template("plans/vote.html", vote=item, turnout=ballots.turnout(item), roll=roll,
                           paper=paper, choices=CHOICE_LABELS, now=clock.now(), rule_profiles=RULE_PROFILES,
                           both_ways_rules=BOTH_WAYS_RULES)


@bp.post("/votes/<int:vote_id>/paper")
@upload_limit(lambda config: SCAN_REQUEST_LIMIT)
@role_required(*OFFICE)
def paper(vote_id: int):
    """Enter one paper ballot with its scan; the receipt code is shown once to hand to the owner."""
    item = _vote(vote_id)
    upload = request.files.get("scan")
    try:
        result = ballots.enter_paper(current_user, item.id, request.form.get("room_id", type=int) or 0,
                                     request.form.get("choice", ""), upload.read() if upload else b"",
                                     upload.filename if upload else "", upload.mimetype if upload else "")
        flash(f"纸质票已登记。回执码：{result.receipt}（请抄给业主，只显示这一次）。{result.note}", "ok")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("plans.vote", vote_id=item.id))


@bp.get("/votes/<int:vote_id>/scans/<int:scan_id>")
@role_required(*OFFICE)
def scan(vote_id: int, scan_id: int):
    """A paper ballot's scan, for checking (audit-logged)."""
    item = _vote(vote_id)
    owned = db.session.scalar(select(Ballot.id).where(Ballot.vote_id == item.id, Ballot.scan_id == scan_id))
    stored = db.session.get(BallotScan, scan_id) if owned else None
    if stored is None:
        abort(404)
    audit.record_staff(current_user, "view_scan", "vote", item.id, scan_id=scan_id)
    db.session.commit()
    return send_upload(stored.data, name=stored.filename)


@bp.post("/votes/<int:vote_id>/close")
@role_required(*OFFICE)
def close(vote_id: int):
    """Close a vote whose deadline has passed (the job normally does it)."""
    try:
        vote_results.close_by_staff(current_user, vote_id)
        flash("表决已结束，结果已公布。", "ok")
    except NotFound:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("plans.vote", vote_id=vote_id))


@bp.get("/votes/<int:vote_id>/export.<fmt>")
@role_required(*OFFICE)
def export(vote_id: int, fmt: str):
    """The committee's full record: XLSX or PDF."""
    if fmt == "xlsx":
        data = vote_results.export_xlsx(current_user, vote_id)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "pdf":
        data = vote_results.export_pdf(current_user, vote_id)
        mimetype = "application/pdf"
    else:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"vote-{vote_id}-record.{fmt}")

