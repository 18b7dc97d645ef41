"""Binding a room in chat: the processing notice and consent, then a one-time code or a request for approval."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.handlers import places, texts
from app.handlers.messages import Reply, TextReply
from app.handlers.registry import Turn, register
from app.models import Estate, Room
from app.models.person import RELATIONS
from app.services import binding, estates, privacy_rights
from app.services.errors import DomainError

CONSENT_WORDS = {"同意", "我同意", "同意了", "好的同意", "1"} | texts.YES
APPLY_WORDS = {"申请", "没有", "没有绑定码", "没码", "没有码", "申请核验", "2"}
RELATION_CHOICES = {"1": "owner", "业主": "owner", "本人": "owner", "业主本人": "owner",
                    "2": "family", "家属": "family", "家人": "family",
                    "3": "tenant", "租户": "tenant", "租的": "tenant", "租房": "tenant"}


def _link() -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/h5/bind"


def _ask_method() -> str:
    return "请回复楼栋长发给您的纸条上的8位绑定码（例如 AB3K7QPZ）。没有绑定码请回复“申请”。"


def start(turn: Turn) -> Reply:
    """Begin: the notice first (once), then ask for a code; an address in the message is kept for a request."""
    conversation = turn.conversation
    conversation.start("bind", text=turn.text)
    slots = {k: v for k, v in turn.understanding.slots.items() if k in ("building", "unit", "room")}
    conversation.slots.update(slots)
    account = binding.account_for(turn.inbound.openid)
    db.session.commit()
    lead = f"好的，绑定{places.label(slots)}。" if slots.get("room") or slots.get("building") else ""
    if not binding.has_consent(account):
        conversation.goto("consent")
        return TextReply(lead + binding.PROCESSING_NOTICE + "\n\n同意请回复“同意”，不同意回复“取消”。"
                         f"也可以在页面上办理：{_link()}")
    conversation.goto("method")
    return TextReply(lead + _ask_method())


def use_code(turn: Turn, code: str) -> Reply:
    """A binding code typed at any point: bind now, or keep it until the resident consents."""
    conversation = turn.conversation
    account = binding.account_for(turn.inbound.openid)
    db.session.commit()
    if not binding.has_consent(account):
        conversation.start("bind", "consent", turn.text)
        conversation.slots["code"] = code
        return TextReply(binding.PROCESSING_NOTICE + "\n\n同意请回复“同意”，同意后会用您发来的绑定码完成绑定。")
    return _bind_code(turn, code)


def _bind_code(turn: Turn, code: str) -> Reply:
    try:
        result = binding.bind_with_code(turn.inbound.openid, code)
    except binding.BindingNeedsApproval as pending:
        turn.conversation.end()  # the request is saved; nothing more to ask
        return TextReply(pending.message)
    except DomainError as error:
        db.session.rollback()
        turn.conversation.start("bind", "method")
        return TextReply(error.message + "\n没有绑定码请回复“申请”，退出请回复“取消”。")
    turn.conversation.end()
    return TextReply(f"绑定成功：{result.room.estate.name}{result.room.label}（业主）。"
                     "现在可以查缴费、参与小区投票了。发送“我的信息”可查看您的信息。")


def _estate(turn: Turn) -> Estate | None:
    if turn.resident.estate is not None:
        return turn.resident.estate
    candidates = db.session.scalars(select(Estate).limit(2)).all()
    return candidates[0] if len(candidates) == 1 else None


def resume(turn: Turn) -> Reply | None:
    """The next answer inside the binding dialogue."""
    conversation, text = turn.conversation, turn.text.strip().rstrip("。")
    step, slots = conversation.step, conversation.slots
    if step == "consent":
        if text not in CONSENT_WORDS:
            return None
        binding.record_consent(turn.inbound.openid)
        if slots.get("code"):
            return _bind_code(turn, slots["code"])
        conversation.goto("method")
        return TextReply("已记录您的同意。" + _ask_method())
    if step == "method":
        if text in APPLY_WORDS:
            return _start_request(turn)
        return None
    if step == "room":
        found = places.place_from(text, bare="room")
        slots.update({k: v for k, v in found.items() if k in ("building", "unit", "room")})
        return _check_room(turn)
    if step == "name":
        if not text or len(text) > 20:
            return TextReply("请告诉我台账上登记的业主姓名。")
        slots["name"] = text
        conversation.goto("last4")
        return TextReply("请告诉我台账登记手机号的后四位数字。")
    if step == "last4":
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) != 4:
            return TextReply("请回复4位数字，例如 5678。")
        slots["last4"] = digits
        conversation.goto("relation")
        return TextReply("您是这户的：1 业主本人 2 家属 3 租户")
    if step == "relation":
        relation = RELATION_CHOICES.get(text)
        if relation is None:
            return TextReply("请回复数字：1 业主本人 2 家属 3 租户")
        return _submit(turn, relation)
    return None


def _start_request(turn: Turn) -> Reply:
    estate = _estate(turn)
    if estate is None:
        turn.conversation.end()
        return TextReply(f"请先扫描您楼栋上张贴的二维码再发“绑定”，或打开页面填写：{_link()}")
    turn.conversation.slots["estate_id"] = estate.id
    if turn.conversation.slots.get("room"):
        return _check_room(turn)
    turn.conversation.goto("room")
    return TextReply(f"请告诉我您在{estate.name}的楼号、单元和房号，例如“5号楼1单元302”。")


def _check_room(turn: Turn) -> Reply:
    conversation, slots = turn.conversation, turn.conversation.slots
    estate = db.session.get(Estate, slots.get("estate_id")) if slots.get("estate_id") else _estate(turn)
    if estate is None:
        return _start_request(turn)
    slots["estate_id"] = estate.id
    if not slots.get("building") or not slots.get("room"):
        conversation.goto("room")
        return TextReply("请把楼号和房号都告诉我，例如“5号楼1单元302”。")
    rooms = estates.find_rooms(estate.id, slots["building"], slots["room"], slots.get("unit", ""))
    if len(rooms) > 1:
        conversation.goto("room")
        return TextReply(f"{places.label(slots)}有几个单元都有，请连单元一起说，例如“5号楼1单元302”。")
    if not rooms:
        conversation.goto("room")
        return TextReply(f"{estate.name}没有找到{places.label(slots)}，请核对后再说一遍。")
    slots["room_id"] = rooms[0].id
    conversation.goto("name")
    return TextReply(f"{estate.name}{rooms[0].label}。请告诉我台账上登记的业主姓名。")


def _submit(turn: Turn, relation: str) -> Reply:
    slots = turn.conversation.slots
    room = db.session.get(Room, slots["room_id"])
    try:
        request = binding.request_binding(turn.inbound.openid, room, slots["name"], slots["last4"], relation)
    except DomainError as error:
        db.session.rollback()
        turn.conversation.end()
        return TextReply(error.message)
    turn.conversation.end()
    return TextReply(f"已提交绑定申请（编号{request.id}）：{room.label}，{RELATIONS[relation]}。"
                     "楼栋长或社区核对后会通知您。")


def ask(turn: Turn) -> TextReply:
    """Repeat the pending question."""
    step = turn.conversation.step
    questions = {"consent": "同意《个人信息处理说明》请回复“同意”。", "method": _ask_method(),
                 "room": "请告诉我楼号、单元和房号，例如“5号楼1单元302”。", "name": "请告诉我台账上登记的业主姓名。",
                 "last4": "请告诉我台账登记手机号的后四位数字。", "relation": "您是这户的：1 业主本人 2 家属 3 租户"}
    return TextReply(questions.get(step, _ask_method()))


def erase_resume(turn: Turn) -> Reply:
    """The answer to “确认注销”."""
    if turn.text.strip() == "确认注销":
        privacy_rights.erase_account(turn.inbound.openid)
        turn.conversation.end()
        return TextReply(privacy_rights.ERASED)
    turn.conversation.end()
    return TextReply("好的，没有注销。")


def erase_start(turn: Turn) -> Reply:
    return TextReply("如需注销账号，请回复“注销账号”。")


register("bind", start, resume, ask)
register("erase", erase_start, erase_resume)
