"""The estate plan and owner voting in chat: read the plan, comment, vote with numbered replies, results, turnout."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.handlers import context, texts
from app.handlers.messages import Reply, TextReply
from app.handlers.registry import Turn, register
from app.models import Plan, Vote
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
    """Offer the ballot for each owner whose rooms the resident holds and who may still vote; name the others."""
    try:
        binding.require_owner_binding(turn.inbound.openid)
    except DomainError as error:
        return TextReply(_summary(vote.plan) + f"\n正在表决，{vote.closes_at:%m月%d日 %H:%M}截止。" + error.message)
    mine = ballots.voices(binding.account_for(turn.inbound.openid), vote)
    if not mine:
        return TextReply(ballots.NO_ROOMS)
    can_vote = [v for v in mine if v.ballot is None or vote.allow_change_until_close]
    done = "；".join(v.done_text() for v in mine if v.ballot is not None)
    if not can_vote:
        return TextReply(f"您已经投过票了：{done}。谢谢参与，{vote.closes_at:%m月%d日 %H:%M}截止后公布结果。"
                         f"凭回执码可查询：{_base()}/h5/votes/receipt")
    conversation = turn.conversation
    conversation.start("vote", text=turn.text)
    conversation.slots["vote_id"] = vote.id
    lead = (f"{_summary(vote.plan)}\n{vote.closes_at:%m月%d日 %H:%M}截止。也可以在网页上投票："
            f"{_base()}/h5/votes/{vote.id}/ballot\n")
    if len(mine) > 1 and done and not vote.allow_change_until_close:
        lead += done + "。\n"
    if len(can_vote) > 1:
        conversation.slots["rooms"] = [[v.room_id, v.label] for v in can_vote]
        conversation.goto("room")
        return TextReply(lead + _ask_room(conversation.slots["rooms"]))
    return _ask_for_room(turn, can_vote[0].room_id, can_vote[0].label if len(mine) > 1 else "", lead,
                         changing=can_vote[0].ballot is not None)


def _ask_room(rooms: list) -> str:
    lines = "\n".join(f"{number} {label}" for number, (_, label) in enumerate(rooms, start=1))
    return f"您名下有{len(rooms)}户房屋可以投票，每户单独投。请回复序号选择先投哪一户：\n{lines}"


def _ask_for_room(turn: Turn, room_id: int, label: str, lead: str = "", changing: bool = False) -> TextReply:
    """Go on to the choice for one room; `label` names it when the resident votes for more than one owner."""
    conversation = turn.conversation
    conversation.slots.update(room_id=room_id, label=label)
    conversation.goto("choose")
    again = "您已投过票，截止前可以更改，以最后一次为准。\n" if changing else ""
    return TextReply(f"{lead}{again}{f'为{label}投票。' if label else ''}{ASK_CHOICE}")


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
    if conversation.step == "room":
        rooms = conversation.slots["rooms"]
        if not (answer.isdigit() and 1 <= int(answer) <= len(rooms)):
            return None
        room_id, label = rooms[int(answer) - 1]
        return _ask_for_room(turn, room_id, label)
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
    slots = conversation.slots
    vote_id, choice, room_id = slots["vote_id"], slots["choice"], slots.get("room_id")
    conversation.end()
    try:
        result = ballots.cast(turn.inbound.openid, vote_id, choice, channel="chat", room_id=room_id)
    except DomainError as error:
        return TextReply(error.message)
    left = [v.label for v in ballots.voices(binding.account_for(turn.inbound.openid), db.session.get(Vote, vote_id))
            if v.ballot is None]
    more = f"\n{'、'.join(left)}还没有投票，回复“投票”继续。" if left else ""
    return TextReply(f"投票成功：{CHOICE_LABELS[result.ballot.choice]}。{result.note}\n"
                     f"您的回执码：{result.receipt}\n请保存好，可凭它查询自己的投票是否已计入：{_base()}/h5/votes/receipt"
                     + more)


def ask(turn: Turn) -> TextReply:
    """Repeat the pending question of the flow."""
    conversation = turn.conversation
    room = conversation.slots.get("label")
    if conversation.step == "confirm":
        label = CHOICE_LABELS[conversation.slots["choice"]]
        vote = db.session.get(Vote, conversation.slots["vote_id"])
        final = "" if vote and vote.allow_change_until_close else "提交后不能更改。"
        return TextReply(f"您选择：{label}{f'（{room}）' if room else ''}。确认提交请回复 1，重新选择请回复 2。{final}")
    if conversation.step == "comment":
        return TextReply("请直接写下您的意见（500字以内）。")
    if conversation.step == "room":
        return TextReply(_ask_room(conversation.slots["rooms"]))
    return TextReply((f"为{room}投票。" if room else "") + ASK_CHOICE)


register("vote", start, resume, ask)
