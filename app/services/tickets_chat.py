"""Ticket work in WeChat chat: staff short commands (接单 7, 办结 7 已更换灯泡 + photo), the resident's progress
list and the current notices, as plain texts the chat handlers send back."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select
from app.extensions import db, kv
from app.models.ticket import OPEN_STATUSES, Ticket
from app.services import notices, tickets, tickets_flow
from app.services.errors import DomainError
from app.services.staff_links import staff_for_openid

# "接单 7", "办结7 已更换灯泡", "退回 12 不归我们管"; the number is the ticket's short id shown in pushes.
COMMAND = re.compile(r"^\s*(接单|受理|开始|处理|办结|完成|退回)\s*#?(\d{1,9})\s*[，,。:：]?\s*(.*)$", re.S)
ACTIONS = {"接单": "accept", "受理": "accept", "开始": "start", "处理": "start", "办结": "done", "完成": "done",
           "退回": "return"}
LIST_WORDS = {"待办", "我的工单", "工单", "待办工单"}
PHOTO_TTL = 1800  # a photo sent before "办结 7 …" is kept for half an hour
HELP = "工单指令：回复“待办”看待办；“接单 7”受理；“开始 7”开始处理；“办结 7 处理结果”办结（可先发现场照片）；“退回 7 原因”退回。"


def is_staff_command(openid: str, text: str) -> bool:
    """Whether this message is a ticket command from a linked staff member (so chat routes it here)."""
    text = (text or "").strip()
    return bool((COMMAND.match(text) or text in LIST_WORDS) and staff_for_openid(openid))


def _photo_key(openid: str) -> str:
    return f"tickets:staff-photos:{openid}"


def remember_photo(openid: str, media_id: str) -> str | None:
    """A linked staff member sent a photo: keep it for their next 办结; None when the sender is not staff."""
    if staff_for_openid(openid) is None:
        return None
    held = (kv().get_json(_photo_key(openid)) or [])[-(tickets.MAX_PHOTOS - 1):] + [media_id]
    kv().set_json(_photo_key(openid), held, ttl=PHOTO_TTL)
    return f"现场照片收到了（{len(held)} 张），发送“办结 编号 处理结果”时会一起附上。"


def staff_command(openid: str, text: str) -> str:
    """Run one staff command and say what happened (or why not), in one short text."""
    user = staff_for_openid(openid)
    if user is None:
        return "这个微信还没有关联工作账号，请在后台“关联微信”里生成关联码。"
    text = (text or "").strip()
    if text in LIST_WORDS:
        return todo_text(user)
    match = COMMAND.match(text)
    if match is None:
        return HELP
    word, number, note = match.group(1), int(match.group(2)), match.group(3).strip()
    action = ACTIONS[word]
    media = (kv().get_json(_photo_key(openid)) or []) if action == "done" else []
    try:
        ticket = tickets_flow.transition(user, number, action, note, media_ids=media)
    except DomainError as error:
        db.session.rollback()
        return f"{word} {number} 没有成功：{error.message}"
    if media:
        kv().delete(_photo_key(openid))
    tail = {"accept": f"请在 {ticket.deadline:%m月%d日 %H:%M} 前办结。", "start": "办好后回复“办结 "
            f"{ticket.id} 处理结果”。", "done": "已通知居民评价。", "return": "已退回社区重新指派。"}[action]
    photos = f"（附照片 {len(media)} 张）" if media else ""
    return f"{ticket.number} 已{tickets_flow.ACTION_LABELS[action]}{photos}。{tail}"


RATING_WORDS = {"满意": "satisfied", "非常满意": "satisfied", "基本满意": "basic", "还行": "basic",
                "不满意": "unsatisfied"}


def rate_latest(openid: str, word: str, comment: str = "") -> str | None:
    """Rate the resident's latest finished ticket from chat ("满意", "不满意 还在漏"); None when none waits."""
    from app.models import ResidentAccount

    waiting = db.session.scalar(select(Ticket).join(ResidentAccount, ResidentAccount.id == Ticket.reporter_id)
                                .where(ResidentAccount.openid == openid, Ticket.status == "done")
                                .order_by(Ticket.done_at.desc(), Ticket.id.desc()).limit(1))
    if waiting is None or word not in RATING_WORDS:
        return None
    try:
        ticket = tickets_flow.rate(openid, waiting.id, RATING_WORDS[word], comment)
    except DomainError as error:
        db.session.rollback()
        return error.message
    if ticket.status == "closed":
        return f"谢谢您的评价！{ticket.number} 已销号。"
    return f"抱歉没让您满意。{ticket.number} 已重新办理，并已报告楼栋长和社区，会尽快给您答复。"


def todo_text(user) -> str:
    """The staff member's open tickets (assigned to them first), at most ten."""
    rows = db.session.scalars(tickets_flow.visible_tickets(user).where(Ticket.status.in_(OPEN_STATUSES))
                              .order_by((Ticket.handler_id == user.id).desc(), Ticket.deadline).limit(10)).all()
    if not rows:
        return "目前没有待办工单。"
    lines = [f"{t.id}. {t.number} {t.where} {t.description[:16]}（{t.status_label}"
             f"{'，已超期' if t.overdue() else ''}）" for t in rows]
    return "待办工单：\n" + "\n".join(lines) + "\n回复“接单 编号”受理，例如“接单 " + str(rows[0].id) + "”。"


def progress_text(openid: str) -> str:
    """The resident's tickets and their state, newest first (the 'progress' intent)."""
    mine = tickets.my_tickets(openid)[:5]
    if not mine:
        return "您还没有报修或投诉记录。公共设施坏了，直接发文字或照片告诉我就行。"
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    lines = [f"{t.number} {t.description[:14]}：{t.status_label}"
             + ("（请评价）" if t.status == "done" and t.reporter and t.reporter.openid == openid else "")
             for t in mine]
    return "您的报修和投诉：\n" + "\n".join(lines) + f"\n详情和评价：{base}/h5/tickets"


def notices_text(openid: str) -> str:
    """The current notices for the resident's building(s) (the 'notice' intent)."""
    items = notices.current_notices_for(openid)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if not items:
        return ("现在没有您所在楼栋的通知。" if notices.resident_places(openid)
                else f"绑定房屋后才能看到您楼栋的通知公告（停水、停电、检修等）。绑定：{base}/h5/bind")
    lines = [f"{'【紧急】' if n.urgent else ''}【{n.kind_label}】{n.title}"
             + (f"（至{n.valid_until:%m月%d日 %H:%M}）" if n.valid_until else "") for n in items[:5]]
    return "当前通知：\n" + "\n".join(lines) + f"\n全部通知：{base}/h5/notices"
