"""Short commands that skip understanding: staff actions ("同意 12"), link codes, binding codes, my data.

Other capabilities add theirs with register_command(pattern, function); a function returns a reply, or None to let
the message go on to the normal dialogue.
"""

from __future__ import annotations

import re
from typing import Callable

from app.handlers.messages import Reply, TextReply
from app.handlers.registry import Turn

Command = Callable[[Turn, re.Match], Reply | None]
COMMANDS: list[tuple[re.Pattern, Command]] = []


def register_command(pattern: str, command: Command) -> None:
    """Add a command matched against the whole (trimmed) message."""
    COMMANDS.append((re.compile(pattern), command))


def match(turn: Turn) -> Reply | None:
    """The reply of the first command whose pattern matches the message, if any answers."""
    text = turn.text.strip().rstrip("。.!！")
    for pattern, command in COMMANDS:
        found = pattern.fullmatch(text)
        if found:
            reply = command(turn, found)
            if reply is not None:
                return reply
    return None


def _link(turn: Turn, found: re.Match) -> Reply:
    from app.services import staff_links
    from app.services.errors import DomainError

    try:
        user = staff_links.link_staff(turn.inbound.openid, found.group(2))
    except DomainError as error:
        return TextReply(error.message)
    return TextReply(f"已关联工作账号：{user.display_name or user.username}。新的工单和申请会发到这里。")


def _decide(turn: Turn, found: re.Match) -> Reply | None:
    from app.extensions import db
    from app.services import binding, staff_links
    from app.services.errors import DomainError

    user = staff_links.staff_for_openid(turn.inbound.openid)
    if user is None:
        return None  # a resident saying "同意 1" is not a staff command
    approve = found.group(1) in ("同意", "通过")
    try:
        # From chat only a request that matches the register can pass; the service refuses the others.
        request = binding.decide_request(user, int(found.group(2)), approve, note=found.group(3).strip(),
                                         channel="chat")
    except DomainError as error:
        db.session.rollback()
        return TextReply(error.message)
    verdict = "已通过（与台账一致）" if approve else "已驳回"
    return TextReply(f"绑定申请{request.id}{verdict}：{request.room.label}，已通知居民。")


def _my_data(turn: Turn, found: re.Match) -> Reply:
    from flask import current_app

    from app.services import privacy_rights
    from app.services.errors import NotFound

    try:
        text = privacy_rights.summary_text(turn.inbound.openid)
    except NotFound as error:
        return TextReply(error.message)
    return TextReply(text + f"\n查看和下载：{current_app.config['PUBLIC_BASE_URL']}/h5/me")


def _erase(turn: Turn, found: re.Match) -> Reply:
    from app.services.privacy_rights import ERASE_WARNING

    turn.conversation.start("erase", "confirm", turn.text)
    return TextReply(ERASE_WARNING + "确定注销请回复“确认注销”，回复其他内容则不注销。")


def _code(turn: Turn, found: re.Match) -> Reply | None:
    from app.services.binding import looks_like_code

    if not looks_like_code(found.group(0)):
        return None
    from app.handlers import bind

    return bind.use_code(turn, found.group(0))


register_command(r"(关联|关联工作账号|绑定工作账号)\s*(\d{6})", _link)
register_command(r"(同意|通过|拒绝|驳回)\s*(\d{1,9})\s*(.*)", _decide)
register_command(r"我的信息|我的资料|查看我的信息|我的个人信息", _my_data)
register_command(r"注销账号|注销我的账号|删除我的信息|删除我的账号", _erase)
register_command(r"[A-Za-z0-9]{4}[\s\-]?[A-Za-z0-9]{4}", _code)
