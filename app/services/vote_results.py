"""Closing a vote with tally(), the published figures (never individual choices), and the committee export."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import (AuditEntry, Ballot, ResidentAccount, Room, RoomBinding, SetAsideBallot, StaffUser, Vote,
                        VoteRoll)
from app.models.vote import BALLOT_CHANNELS, CHOICE_LABELS
from app.services import audit, outbox
from app.services.ballots import owner_label, turnout
from app.services.errors import DomainError, NotFound
from app.services.plans import require_office
from app.services.voting import RULE_PROFILES, RoomVote, apply_profile, tally


def _figures(figures) -> dict:
    return {"participating_area": str(figures.participating_area), "participating_heads": figures.participating_heads,
            "agree_area": str(figures.agree_area), "agree_heads": figures.agree_heads,
            "quorum_met": figures.quorum_met, "passed": figures.passed}


def count(vote: Vote) -> dict:
    """Tally the vote from its snapshot roll and counted ballots; figures only, JSON-ready."""
    choices = dict(db.session.execute(select(Ballot.owner_key, Ballot.choice).where(Ballot.vote_id == vote.id)).all())
    rows = db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id).order_by(VoteRoll.room_id)).all()
    rooms = [RoomVote(str(row.room_id), row.owner_key, Decimal(row.area), choices.get(row.owner_key),
                      developer_held=row.developer_held) for row in rows]
    result = apply_profile(tally(rooms, tier=vote.tier, follow_majority=vote.follow_majority), vote.rule_profile)
    by_choice = {}
    for choice in CHOICE_LABELS:
        keys = {key for key, value in choices.items() if value == choice}
        by_choice[choice] = {"heads": len(keys),
                             "area": str(sum((Decimal(r.area) for r in rows if r.owner_key in keys), Decimal("0.00")))}
    live = turnout(vote)
    return {
        "tier": vote.tier, "rule_profile": vote.rule_profile, "rule_label": RULE_PROFILES[vote.rule_profile]["label"],
        "total_area": str(result.total_area), "total_heads": result.total_heads,
        "participating_area": str(result.participating_area), "participating_heads": result.participating_heads,
        "agree_area": str(result.agree_area), "agree_heads": result.agree_heads, "by_choice": by_choice,
        "quorum_met": result.quorum_met, "passed": result.passed, "notes": result.notes,
        "raw": _figures(result.raw) if result.raw else None,
        "adjusted": _figures(result.adjusted) if result.adjusted else None,
        "buildings": [{"building": b["building"], "rooms": b["rooms"], "voted_rooms": b["voted_rooms"],
                       "area": str(b["area"]), "voted_area": str(b["voted_area"])} for b in live["buildings"]],
    }


def close_vote(vote: Vote, now: datetime, actor: tuple[str, str] = ("system", "votes")) -> Vote:
    """Close an open vote at or after its deadline, store the result, decide the plan, tell the owners."""
    if vote.status != "open":
        return vote
    if now < vote.closes_at:
        raise DomainError(f"表决{vote.closes_at:%m月%d日 %H:%M}才截止，不能提前结束。")
    vote.result = count(vote)
    vote.passed = vote.result["passed"]
    vote.status, vote.closed_at = "closed", now
    vote.plan.status = "adopted" if vote.passed else "rejected"
    vote.plan.decided_at = now
    audit.record(*actor, "vote_close", "vote", vote.id, passed=vote.passed, total_heads=vote.result["total_heads"],
                 participating_heads=vote.result["participating_heads"], agree_heads=vote.result["agree_heads"])
    if vote.passed:
        _apply_fee_standard(vote.plan, now)
    _announce_result(vote)
    return vote


def _apply_fee_standard(plan, now: datetime) -> None:
    """An adopted plan's fee standard becomes the estate's fee schedule from the first day of the next month.

    A conflicting schedule set by staff is left alone and the reason recorded, so closing the vote never fails."""
    from app.models.fee import FeeSchedule
    from app.services import billing

    if not plan.fee_mode or not plan.fee_amount_fen:
        return
    starts_on = (now.date().replace(day=1) + timedelta(days=32)).replace(day=1)
    later = db.session.scalar(select(FeeSchedule.id).where(FeeSchedule.estate_id == plan.estate_id,
                                                            FeeSchedule.active.is_(True),
                                                            FeeSchedule.starts_on >= starts_on))
    if later is not None:
        audit.record("system", "votes", "fee_schedule_skipped", "plan", plan.id,
                     reason="已有同期或更晚开始的收费标准，请工作人员核对。")
        return
    try:
        schedule = billing.schedule_from_plan(plan, starts_on)
    except DomainError as error:
        audit.record("system", "votes", "fee_schedule_skipped", "plan", plan.id, reason=error.message)
        return
    db.session.flush()
    audit.record("system", "votes", "fee_schedule_from_plan", "fee_schedule", schedule.id, plan_id=plan.id)


def _announce_result(vote: Vote) -> None:
    accounts = db.session.scalars(
        select(ResidentAccount).join(RoomBinding, RoomBinding.account_id == ResidentAccount.id)
        .join(Room, Room.id == RoomBinding.room_id)
        .where(RoomBinding.status == "bound", RoomBinding.relation == "owner", Room.estate_id == vote.estate_id,
               ResidentAccount.subscribed.is_(True)).distinct()).all()
    outcome = "通过" if vote.passed else "未通过"
    text = f"【表决结果】《{vote.plan.title}》表决已结束，结果：{outcome}。回复“表决结果”或打开结果页查看统计数字。"
    for account in accounts:
        outbox.enqueue(account.openid, "text", {"text": text}, key=f"vote-result:{vote.id}:{account.id}")


def close_due(now: datetime) -> list[int]:
    """Job: close every open vote past its deadline; a second run finds none and changes nothing."""
    closed = []
    for vote_id in db.session.scalars(select(Vote.id).where(Vote.status == "open", Vote.closes_at <= now)).all():
        vote = db.session.scalar(select(Vote).where(Vote.id == vote_id).with_for_update()
                                 .execution_options(populate_existing=True))
        if vote.status == "open":
            close_vote(vote, now)
            closed.append(vote_id)
        db.session.commit()
    return closed


def close_by_staff(user, vote_id: int) -> Vote:
    """Staff close a vote whose deadline has passed (the job normally does it)."""
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound()
    require_office(user, vote.estate_id)
    if vote.status != "open":
        raise DomainError("这次表决不在进行中。")
    close_vote(vote, clock.now(), actor=("staff", str(user.id)))
    db.session.commit()
    return vote


def public_result(vote_id: int) -> tuple[Vote, dict]:
    """The published figures of a closed vote (aggregates and per-building turnout only)."""
    vote = db.session.get(Vote, vote_id)
    if vote is None or vote.status != "closed" or not vote.result:
        raise NotFound("结果尚未公布。")
    return vote, vote.result


def _ballot_rows(vote: Vote) -> list[list]:
    """Every roll room with its owner's counted ballot: the real-name record the committee keeps."""
    ballots = {b.owner_key: b for b in db.session.scalars(select(Ballot).where(Ballot.vote_id == vote.id))}
    staff = {u.id: u.username for u in db.session.scalars(select(StaffUser))}
    rows = []
    for row in db.session.scalars(select(VoteRoll).where(VoteRoll.vote_id == vote.id).order_by(VoteRoll.room_id)):
        ballot = ballots.get(row.owner_key)
        rows.append([row.label, str(row.area), owner_label(row.owner_key), row.owner_key,
                     CHOICE_LABELS[ballot.choice] if ballot else "未投票",
                     BALLOT_CHANNELS[ballot.channel] if ballot else "",
                     f"{ballot.cast_at:%Y-%m-%d %H:%M:%S}" if ballot else "",
                     staff.get(ballot.entered_by, "") if ballot and ballot.entered_by else "",
                     ballot.scan_id or "" if ballot else ""])
    return rows


def _audit_rows(vote: Vote) -> list[list]:
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "vote",
                                                          AuditEntry.subject_id == str(vote.id))
                                 .order_by(AuditEntry.at, AuditEntry.id))
    return [[f"{e.at:%Y-%m-%d %H:%M:%S}", f"{e.actor_type}:{e.actor_id}", e.action, str(e.detail)] for e in entries]


def _summary_rows(vote: Vote) -> list[list]:
    r = vote.result or count(vote)
    return [["小区", vote.estate.name], ["方案", f"{vote.plan.title}（第{vote.plan.version}版）"],
            ["事项类别", vote.plan.tier_label], ["表决规则", RULE_PROFILES[vote.rule_profile]["label"]],
            ["公告时间", f"{vote.announced_at:%Y-%m-%d %H:%M}"], ["开始", f"{vote.opens_at:%Y-%m-%d %H:%M}"],
            ["截止", f"{vote.closes_at:%Y-%m-%d %H:%M}"], ["状态", vote.status_label],
            ["总面积（㎡）", r["total_area"]], ["总人数", r["total_heads"]],
            ["参与面积（㎡）", r["participating_area"]], ["参与人数", r["participating_heads"]],
            ["同意面积（㎡）", r["agree_area"]], ["同意人数", r["agree_heads"]],
            ["达到法定参与", "是" if r["quorum_met"] else "否"],
            ["结果", ("通过" if r["passed"] else "未通过") if vote.status == "closed" else "表决尚未结束（以上为当前计数）"]] + \
        [["说明", note] for note in r["notes"]]


BALLOT_HEADER = ["房屋", "面积", "业主", "业主编号", "表决意见", "方式", "时间", "录入人", "扫描件"]


def export_xlsx(user, vote_id: int) -> bytes:
    """The committee's full record as a workbook: summary, ballots, set-aside ballots, audit log."""
    from openpyxl import Workbook

    from app.services.spreadsheet import append_row

    vote = _vote_for_export(user, vote_id)
    book = Workbook()
    sheets = [("概况", ["项目", "内容"], _summary_rows(vote)), ("表决票", BALLOT_HEADER, _ballot_rows(vote)),
              ("不计入的票", ["业主编号", "表决意见", "方式", "时间", "原因"],
               [[a.owner_key, CHOICE_LABELS[a.choice], BALLOT_CHANNELS[a.channel], f"{a.cast_at:%Y-%m-%d %H:%M:%S}",
                 {"changed": "截止前更改", "both_ways": "重复投票（按规则不计）"}.get(a.reason, a.reason)]
                for a in db.session.scalars(select(SetAsideBallot).where(SetAsideBallot.vote_id == vote.id))]),
              ("操作记录", ["时间", "操作人", "操作", "详情"], _audit_rows(vote))]
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        append_row(sheet, header)
        for row in rows:
            append_row(sheet, row)
    buffer = io.BytesIO()
    book.save(buffer)
    audit.record_staff(user, "vote_export", "vote", vote.id, format="xlsx")
    db.session.commit()
    return buffer.getvalue()


def export_pdf(user, vote_id: int) -> bytes:
    """The same record as a printable PDF (the embedded Chinese font of app.services.fonts)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from xml.sax.saxutils import escape  # Paragraph reads markup: a title with "&" or "<" must stay text

    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from app.services.fonts import register_pdf_font

    vote = _vote_for_export(user, vote_id)
    font = register_pdf_font()
    style = ParagraphStyle("cn", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("cnt", parent=style, fontSize=14, leading=18)
    cell = ParagraphStyle("cnc", parent=style, fontSize=8, leading=10)  # long values wrap inside their column
    grid = TableStyle([("FONT", (0, 0), (-1, -1), font, 8),
                       ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))])
    story = [Paragraph(escape(f"{vote.estate.name} 业主表决记录"), title), Spacer(1, 6),
             Table([[key, Paragraph(escape(str(value)), cell)] for key, value in _summary_rows(vote)],
                   colWidths=[110, 500], style=grid), Spacer(1, 10),
             Paragraph("表决票（实名，仅供业主委员会和社区存档，不得公开）", style), Spacer(1, 4),
             Table([BALLOT_HEADER] + _ballot_rows(vote), repeatRows=1, style=grid), Spacer(1, 10),
             Paragraph("操作记录", style), Spacer(1, 4),
             Table([["时间", "操作人", "操作", "详情"]] + [r[:3] + [Paragraph(escape(r[3][:300]), style)]
                                                      for r in _audit_rows(vote)],
                   colWidths=[100, 70, 80, 520], repeatRows=1, style=grid)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=landscape(A4), title="表决记录", leftMargin=30, rightMargin=30,
                      initialFontName=font).build(story)
    audit.record_staff(user, "vote_export", "vote", vote.id, format="pdf")
    db.session.commit()
    return buffer.getvalue()


def _vote_for_export(user, vote_id: int) -> Vote:
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound()
    require_office(user, vote.estate_id)
    return vote

