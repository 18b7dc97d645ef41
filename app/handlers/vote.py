"""The estate plan and owner voting in chat: read the plan, comment, vote with numbered replies, results, turnout."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.handlers import context, texts
from app.handlers.messages import Reply, TextReply
from app.handlers.registry import Turn, register
from app.models import Ballot, Plan, Vote
from app.models.vote import CHOICE_LABELS
from app.nlp.text import clean
from app.services import ballots, binding, plans, scope, staff_links
from app.services.errors import DomainError

CHOICE_WORDS = {"1": "agree", "同意": "agree", "赞成": "agree", "支持": "agree",
                "2": "disagree", "反对": "disagree", "不同意": "disagree",
                "3": "abstain", "弃权": "abstain"}
ASK_CHOICE = "请回复数字：1 同意　2 反对　3 弃权"
WANTS_RESULT = re.compile(r"结果|通过了|通过没|出来了|出来没")
WANTS_PROGRESS = re.compile(r"进度|投票率|参与率|多少人投|投了多少")
WANTS_TEXT = re.compile(r"全文|内容|看看|看一下|在哪|哪里看|什么方案|方案是")
WANTS_COMMENT = re.compile(r"意见|建议")


def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _estate_ids(turn: Turn) -> set[int]:
    return {room.estate.id for room in context.rooms(turn.inbound.openid, turn.generation)}


def _summary(plan: Plan) -> str:
    return (f"《{plan.title}》（第{plan.version}版，{plan.status_label}）\n"
            f"管理方式：{'、'.join(plan.mode_labels) or '—'}\n收费标准：{plan.fee_text}\n"
            f"要补的设施：{'、'.join(plan.six_have_labels + plan.facility_labels) or '—'}\n"
            f"方案全文：{_base()}/h5/votes/plans/{plan.id}")


def _latest_vote(estate_ids: set[int], statuses: tuple[str, ...]) -> Vote | None:
    return db.session.scalar(select(Vote).where(Vote.estate_id.in_(estate_ids), Vote.status.in_(statuses))
                             .order_by(Vote.id.desc()).limit(1)) if estate_ids else None


def _result_text(vote: Vote) -> str:
    r = vote.result
    outcome = "通过" if r["passed"] else "未通过"
    return (f"《{vote.plan.title}》表决结果：{outcome}。\n参加 {r['participating_heads']}/{r['total_heads']} 人，"
            f"面积 {r['participating_area']}/{r['total_area']} ㎡；同意 {r['agree_heads']} 人（{r['agree_area']} ㎡）。\n"
            f"详细数字：{_base()}/h5/votes/{vote.id}/result")


def _staff_progress(turn: Turn) -> Reply | None:
    """Staff linked to this WeChat see the live turnout of open votes in estates they manage, per building."""
    user = staff_links.staff_for_openid(turn.inbound.openid)
    if user is None or not scope.has_role(user, *scope.OFFICE_ROLES):
        return None
    estates = [e.id for e in db.session.scalars(scope.visible_estates(user)) if scope.reach(user, e).whole]
    votes = db.session.scalars(select(Vote).where(Vote.estate_id.in_(estates), Vote.status == "open")).all()
    if not votes:
        return TextReply("您负责的小区目前没有进行中的表决。")
    lines = []
    for vote in votes:
        figures = ballots.turnout(vote)
        lines.append(f"{vote.estate.name}《{vote.plan.title}》已投 {figures['voted_heads']}/{figures['total_heads']} 人")
        lines += [f"  {b['building']}：{b['voted_rooms']}/{b['rooms']} 户" for b in figures["buildings"]]
    return TextReply("\n".join(lines))


def start(turn: Turn) -> Reply:
    """Answer about the plan or the vote of the resident's estate; offer the ballot when one is open."""
    conversation, openid = turn.conversation, turn.inbound.openid
    conversation.end()
    if WANTS_PROGRESS.search(turn.text):
        staff_reply = _staff_progress(turn)
        if staff_reply is not None:
            return staff_reply
    estate_ids = _estate_ids(turn)
    if not estate_ids:
        return TextReply("查看小区方案和投票需要先绑定房屋。请发送“绑定”开始。")
    if WANTS_RESULT.search(turn.text):
        closed = _latest_vote(estate_ids, ("closed",))
        if closed is not None:
            return TextReply(_result_text(closed))
    vote = _latest_vote(estate_ids, ("open", "announced"))
    plan = vote.plan if vote else plans.open_plan_for(openid)
    if plan is None:
        closed = _latest_vote(estate_ids, ("closed",))
        if closed is not None:
            return TextReply(_result_text(closed))
        return TextReply("您的小区目前没有公示中的方案。方案公示和投票开始前都会在这里通知您。")
    if WANTS_COMMENT.search(turn.text) and plan.status in ("published", "voting"):
        conversation.start("vote", text=turn.text)
        conversation.slots["plan_id"] = plan.id
        conversation.goto("comment")
        return TextReply(f"请直接写下您对《{plan.title}》的意见（500字以内），我转给社区。")
    if vote is None:
        return TextReply(_summary(plan) + "\n方案正在公示征求意见，想提意见请回复“提意见”。")
    if vote.status == "announced" or WANTS_TEXT.search(turn.text):
        when = f"{vote.opens_at:%m月%d日 %H:%M}开始，{vote.closes_at:%m月%d日 %H:%M}截止"
        return TextReply(_summary(plan) + f"\n表决{when}。")
    return _offer_ballot(turn, vote)


def _offer_ballot(turn: Turn, vote: Vote) -> Reply:
    try:
        binding.require_owner_binding(turn.inbound.openid)
    except DomainError as error:
        return TextReply(_summary(vote.plan) + f"\n正在表决，{vote.closes_at:%m月%d日 %H:%M}截止。" + error.message)
    account = binding.account_for(turn.inbound.openid)
    mine = account.person_id is not None and db.session.scalar(
        select(Ballot.id).where(Ballot.vote_id == vote.id, Ballot.person_id == account.person_id)) is not None
    if mine and not vote.allow_change_until_close:
        return TextReply(f"您已经投过票了，谢谢参与。{vote.closes_at:%m月%d日 %H:%M}截止后公布结果。"
                         f"凭回执码可查询：{_base()}/h5/votes/receipt")
    turn.conversation.start("vote", text=turn.text)
    turn.conversation.slots["vote_id"] = vote.id
    turn.conversation.goto("choose")
    again = "您已投过票，截止前可以更改，以最后一次为准。\n" if mine else ""
    return TextReply(f"{_summary(vote.plan)}\n{vote.closes_at:%m月%d日 %H:%M}截止。也可以在网页上投票："
                     f"{_base()}/h5/votes/{vote.id}/ballot\n{again}{ASK_CHOICE}")


def resume(turn: Turn) -> Reply | None:
    """The next message inside the voting or comment flow; None when it does not answer the question."""
    conversation, answer = turn.conversation, clean(turn.text).rstrip("。!！.")
    if conversation.step == "comment":
        try:
            plans.add_comment(turn.inbound.openid, conversation.slots["plan_id"], turn.text, channel="chat")
        except DomainError as error:
            db.session.rollback()
            conversation.end()
            return TextReply(error.message)
        conversation.end()
        return TextReply("谢谢，您的意见已转给社区。")
    if conversation.step == "choose":
        choice = CHOICE_WORDS.get(answer)
        if choice is None:
            return None
        conversation.slots["choice"] = choice
        conversation.goto("confirm")
        return ask(turn)
    if conversation.step == "confirm":
        if answer in texts.YES or answer == "确认":
            return _cast(turn)
        if answer in texts.NO or answer in ("重选", "重新选择"):
            conversation.goto("choose")
            return TextReply(ASK_CHOICE)
    return None


def _cast(turn: Turn) -> Reply:
    conversation = turn.conversation
    vote_id, choice = conversation.slots["vote_id"], conversation.slots["choice"]
    conversation.end()
    try:
        result = ballots.cast(turn.inbound.openid, vote_id, choice, channel="chat")
    except DomainError as error:
        return TextReply(error.message)
    return TextReply(f"投票成功：{CHOICE_LABELS[result.ballot.choice]}。{result.note}\n"
                     f"您的回执码：{result.receipt}\n请保存好，可凭它查询自己的投票是否已计入：{_base()}/h5/votes/receipt")


def ask(turn: Turn) -> TextReply:
    """Repeat the pending question of the flow."""
    conversation = turn.conversation
    if conversation.step == "confirm":
        label = CHOICE_LABELS[conversation.slots["choice"]]
        vote = db.session.get(Vote, conversation.slots["vote_id"])
        final = "" if vote and vote.allow_change_until_close else "提交后不能更改。"
        return TextReply(f"您选择：{label}。确认提交请回复 1，重新选择请回复 2。{final}")
    if conversation.step == "comment":
        return TextReply("请直接写下您的意见（500字以内）。")
    return TextReply(ASK_CHOICE)


register("vote", start, resume, ask)
