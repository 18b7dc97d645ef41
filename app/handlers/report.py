"""Reports of shared facilities and complaints in chat: what, where, confirm → a ticket with its number.

Also the handlers' short commands ("接单 7", "办结 7 已更换灯泡" after a photo, "待办"), which only answer a linked
staff member; for anyone else they fall through to the normal dialogue.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.handlers import places, texts
from app.handlers.commands import register_command
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register
from app.models import Building, Room
from app.nlp.slots import extract_category
from app.nlp.text import clean

CATEGORY_LABELS = {
    "lighting": "照明", "water": "给排水", "electric": "电路", "elevator": "电梯", "sanitation": "环境卫生",
    "greening": "绿化", "security": "门禁安防", "parking": "停车", "fire": "消防", "structure": "房屋设施",
    "noise": "噪音", "other": "其他",
}
# Problems inside a building's entrance: knowing the unit matters for these.
_UNIT_MATTERS = {"lighting", "elevator", "security", "fire"}
WORDS = {"report_issue": "报修", "complaint": "投诉"}


def start_report(turn: Turn) -> TextReply:
    """A new report of a shared facility."""
    return _start(turn, "report_issue")


def start_complaint(turn: Turn) -> TextReply:
    """A new complaint about people, behaviour or service."""
    return _start(turn, "complaint")


def _start(turn: Turn, flow: str) -> TextReply:
    conversation = turn.conversation
    media = conversation.media if conversation.flow == flow else []
    conversation.start(flow, "what", text=turn.text)
    conversation.media = media
    slots = conversation.slots
    understood = turn.understanding.slots
    if _is_description(turn.text):
        slots["description"] = clean(turn.text)
        slots["category"] = understood.get("category") or extract_category(clean(turn.text))
    for name in ("building", "unit", "room"):
        if understood.get(name):
            slots[name] = understood[name]
    places.prefill(turn, slots, with_room=False)
    return _next(turn)


def _is_description(text: str) -> bool:
    # "我要报修" / "投诉" alone say what to do, not what is wrong.
    bare = clean(text)
    for word in ("我要", "我想", "帮我", "一下", "报修", "报事", "投诉", "举报", "反映", "个", "问题", "了", "要"):
        bare = bare.replace(word, "")
    return len(bare) >= 2


def _next(turn: Turn) -> TextReply:
    conversation, slots = turn.conversation, turn.conversation.slots
    word = WORDS[conversation.flow]
    if not slots.get("description"):
        conversation.goto("what")
        if conversation.flow == "complaint":
            return TextReply("请问您要反映什么问题？简单说一下，例如“楼上装修太吵”“消防通道被车堵了”。")
        return TextReply("请问哪里坏了？简单说一下，例如“楼道灯不亮”“电梯停了”。也可以发照片。")
    if not slots.get("building"):
        conversation.goto("where")
        return TextReply("请问是哪栋楼哪个单元？（例如：3栋2单元）")
    if ("unit" not in slots and conversation.flow == "report_issue"
            and slots.get("category") in _UNIT_MATTERS):
        conversation.goto("unit")
        return TextReply(f"{slots['building']}号楼的几单元？不清楚的话回复“不知道”。")
    conversation.goto("confirm")
    media = f"\n附件：{len(conversation.media)}个（照片/语音）" if conversation.media else ""
    category = CATEGORY_LABELS.get(slots.get("category") or "other", "其他")
    return TextReply(f"请确认{word}内容：\n问题：{slots['description']}（{category}）\n地点：{places.label(slots)}{media}\n"
                     f"回复 1 确认，2 修改地点；回复“取消”不{word}了。")


def resume(turn: Turn) -> TextReply | None:
    """Take the answer to the pending question; None when the message is not an answer."""
    conversation, slots, text = turn.conversation, turn.conversation.slots, turn.text
    step = conversation.step
    if step == "what":
        understood = turn.understanding
        off_topic = understood.sure and understood.intent not in ("report_issue", "complaint", "order_service")
        if off_topic or not _is_description(text):
            return None
        slots["description"] = clean(text)
        slots["category"] = extract_category(clean(text))
        for name, value in places.place_from(text).items():
            slots.setdefault(name, value)
        places.prefill(turn, slots, with_room=False)  # a flow started by a photo still knows the scanned building
        return _next(turn)
    if step == "where":
        found = places.place_from(text)
        if not found.get("building"):
            return None
        problem = places.unknown_building(turn, found["building"])
        if problem:
            return TextReply(problem)
        slots.pop("unit", None)
        slots.update(found)
        return _next(turn)
    if step == "unit":
        found = places.place_from(text)
        if found.get("unit") or (found.get("building") and len(clean(text)) <= 2):
            slots["unit"] = found.get("unit") or found["building"]
        elif places.NOT_KNOWN.search(text):
            slots["unit"] = ""
        else:
            return None
        return _next(turn)
    if step == "same":
        return _same(turn)
    if step == "confirm":
        answer = clean(text)
        if answer in texts.YES:
            return _finish(turn)
        if answer in texts.NO:
            for name in ("building", "unit", "room"):
                slots.pop(name, None)
            return _next(turn)
        corrected = places.place_from(text)
        if corrected.get("building"):  # "不是这栋，是4栋": a correction of the place
            problem = places.unknown_building(turn, corrected["building"])
            if problem:
                return TextReply(problem)
            for name in ("building", "unit", "room"):
                slots.pop(name, None)
            slots.update(corrected)
            return _next(turn)
        return None
    return None


def ask(turn: Turn) -> TextReply:
    """Repeat the pending question."""
    if turn.conversation.step == "same":
        return TextReply("是同一个问题吗？回复 1 是同一个（补充到原来那条），2 不是（另外登记一条）。")
    return _next(turn)


def _finish(turn: Turn) -> TextReply:
    """Create the ticket (one commit); a retried message with the same msg_id gives the same number."""
    from app.services.errors import DomainError
    from app.services.tickets import create_ticket

    conversation, slots = turn.conversation, turn.conversation.slots
    word = WORDS[conversation.flow]
    place = _locate(turn)
    if isinstance(place, str):
        return TextReply(place)
    building, unit, room = place
    key = f"chat:{turn.inbound.openid}:{turn.inbound.msg_id}" if turn.inbound.msg_id else None
    try:
        result = create_ticket(
            openid=turn.inbound.openid, kind="report" if conversation.flow == "report_issue" else "complaint",
            category=slots.get("category") or "other", description=slots.get("description", ""),
            building_id=building.id, unit_id=unit.id if unit else None, room_id=room.id if room else None,
            spot=(slots.get("location") or "")[:40], urgent=_urgent(slots), media_ids=_images(conversation),
            client_key=key, source="chat", confirmed_new=slots.get("same") == "new")
    except DomainError as error:
        db.session.rollback()
        conversation.end()
        return TextReply(f"{word}没有登记成功：{error.message}")
    if result.outcome == "ask_same":
        slots["same_ticket"] = result.ticket_id
        conversation.goto("same")
        return TextReply(result.message + "\n回复 1 是同一个（补充到原来那条），2 不是（另外登记一条）。")
    conversation.end()
    if result.outcome == "linked":
        return TextReply(f"{result.message}受理和办好时也会通知您。")
    return TextReply(f"已登记{word}，编号 {result.number}。受理和办好时会在这里通知您，办好后请给个评价。"
                     f"\n查进度回复“进度”。")


def _same(turn: Turn) -> TextReply | None:
    """Answer to "is it the same problem?": add to the old ticket, or record a new one."""
    from app.services.tickets import add_supplement

    conversation, slots, answer = turn.conversation, turn.conversation.slots, clean(turn.text)
    if answer in texts.YES:
        ticket = add_supplement(turn.inbound.openid, slots["same_ticket"], slots.get("description", ""),
                                media_ids=_images(conversation))
        conversation.end()
        return TextReply(f"已补充到 {ticket.number}，谢谢您。")
    if answer in texts.NO:
        slots["same"] = "new"
        return _finish(turn)
    return None


def _locate(turn: Turn):
    """(building, unit, room) from the slots within the resident's estate, or a message saying what is missing."""
    from app.models import Unit
    from app.services.tickets import account_for, bound_room_ids

    slots, who = turn.conversation.slots, turn.resident
    if who.estate is None:
        # Nothing tells us the estate: keep the flow so that a scan followed by "1" still submits.
        return ("我还不知道您是哪个小区的，这条还不能登记。请扫描楼栋里张贴的报修二维码后回复“1”提交，"
                "或先发送“绑定”绑定房屋。")
    building = db.session.scalar(select(Building).where(Building.estate_id == who.estate.id,
                                                        Building.number == str(slots.get("building", ""))))
    if building is None:
        turn.conversation.goto("where")
        return f"{who.estate.name}没有找到{slots.get('building')}号楼，请再说一遍楼号（例如：3栋2单元）。"
    unit = db.session.scalar(select(Unit).where(Unit.building_id == building.id,
                                                Unit.number == str(slots["unit"]))) if slots.get("unit") else None
    room = None
    if slots.get("room"):
        query = select(Room).where(Room.building_id == building.id, Room.number == str(slots["room"]))
        if unit is not None:
            query = query.where(Room.unit_id == unit.id)
        candidate = db.session.scalars(query).first()
        # Someone else's home is never put on a report: without a binding it is a shared-area report.
        if candidate is not None and candidate.id in bound_room_ids(account_for(turn.inbound.openid)):
            room = candidate
    return building, unit, room


def _urgent(slots: dict) -> bool:
    return slots.get("category") == "fire" or bool(texts.EMERGENCY.search(slots.get("description", "")))


def _images(conversation) -> list[str]:
    return [m["media_id"] for m in conversation.media if m.get("kind") == "image" and m.get("media_id")]


def _staff_command(turn: Turn, found) -> TextReply | None:
    """接单/开始/办结/退回 <id> [note], or 待办 — for linked staff only; photos sent just before go with 办结."""
    from app.services import tickets_chat

    openid, conversation = turn.inbound.openid, turn.conversation
    if not tickets_chat.is_staff_command(openid, turn.text.strip().rstrip("。.!！")):
        return None
    # A photo a staff member sent first started a report flow (events.media); it is their site photo instead.
    if conversation.flow == "report_issue" and conversation.step == "what" and not conversation.slots:
        for media_id in _images(conversation):
            tickets_chat.remember_photo(openid, media_id)
        conversation.end()
    return TextReply(tickets_chat.staff_command(openid, turn.text.strip().rstrip("。.!！")))


def _rating(turn: Turn, found) -> TextReply | None:
    """"满意" / "不满意 还在漏" rates the resident's latest finished ticket; otherwise the dialogue goes on."""
    from app.services import tickets_chat

    reply = tickets_chat.rate_latest(turn.inbound.openid, found.group(1), found.group(2).strip())
    return TextReply(reply) if reply else None


register("report_issue", start_report, resume, ask)
register("complaint", start_complaint, resume, ask)
register_command(r"(非常满意|基本满意|不满意|满意|还行)[，,。!！\s]*(.*)", _rating)
register_command(r"(接单|受理|开始|处理|办结|完成|退回)\s*#?(\d{1,9})\s*[，,。:：]?\s*(.*)|待办|待办工单|我的工单",
                 _staff_command)
