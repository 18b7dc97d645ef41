"""Paid home services (菜单式服务): which service, the home address, when — then say booking is not live yet.

Orders belong to a later issue: the dialogue collects what an order needs and then says plainly that nothing was
booked, so nobody waits for a worker who is not coming.
"""

from __future__ import annotations

import re
from datetime import datetime

from app import clock
from app.handlers import places, texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register
from app.nlp.slots import extract_service
from app.nlp.text import clean
from app.nlp.when import extract_when

SERVICE_LABELS = {
    "unlock": "开锁换锁", "drain": "疏通下水", "plumbing": "水暖维修", "appliance": "家电维修",
    "electrical": "电路维修", "housekeeping": "家政保洁",
}
SERVICE_ORDER = tuple(SERVICE_LABELS)
_PRICE = re.compile(r"多少钱|价格|价钱|收费|怎么收|价目|贵不贵|费用")
_ANY_TIME = re.compile(r"随时|都行|都可以|尽快|越快越好|马上|现在|赶紧|啥时候都|什么时候都|尽早")
_WEEKDAYS = "一二三四五六日"


def start(turn: Turn) -> TextReply:
    """A new request for a home service (or a question about its price)."""
    conversation = turn.conversation
    understood = turn.understanding.slots
    service = understood.get("service") or extract_service(clean(turn.text))
    if _PRICE.search(turn.text):
        name = SERVICE_LABELS.get(service, "上门服务")
        return TextReply(texts.preparing("上门服务预约", turn.resident, f"{name}的价目表还在整理，暂时查不到价格。"))
    media = conversation.media if conversation.flow == "order_service" else []
    conversation.start("order_service", "service", text=turn.text)
    conversation.media = media
    slots = conversation.slots
    if service:
        slots["service"] = service
    for name in ("building", "unit", "room"):
        if understood.get(name):
            slots[name] = understood[name]
    if understood.get("when"):
        slots["when"] = understood["when"].isoformat()
    places.prefill(turn, slots, with_room=True)
    return _next(turn)


def _next(turn: Turn) -> TextReply:
    conversation, slots = turn.conversation, turn.conversation.slots
    if not slots.get("service"):
        conversation.goto("service")
        options = " ".join(f"{i} {SERVICE_LABELS[code]}" for i, code in enumerate(SERVICE_ORDER, 1))
        return TextReply(f"请问需要哪项上门服务？回复数字：{options}")
    if not slots.get("building") or not slots.get("room"):
        conversation.goto("address")
        return TextReply("请问您家的地址？（例如：3号楼2单元501）")
    if not slots.get("when"):
        conversation.goto("when")
        return TextReply("您希望师傅什么时候上门？（例如：明天下午三点；不挑时间就回复“尽快”）")
    conversation.goto("confirm")
    media = f"\n附件：{len(conversation.media)}个（照片/语音）" if conversation.media else ""
    return TextReply(f"请确认上门服务：\n服务：{SERVICE_LABELS[slots['service']]}\n地址：{places.label(slots)}\n"
                     f"时间：{_when_text(slots['when'])}{media}\n回复 1 确认，2 修改；回复“取消”不约了。")


def resume(turn: Turn) -> TextReply | None:
    """Take the answer to the pending question; None when the message is not an answer."""
    conversation, slots, text = turn.conversation, turn.conversation.slots, turn.text
    step = conversation.step
    if step == "service":
        index = texts.choice_index(text, len(SERVICE_ORDER))
        service = SERVICE_ORDER[index] if index is not None else extract_service(clean(text))
        if not service:
            return None
        slots["service"] = service
        return _next(turn)
    if step == "address":
        found = places.place_from(text, bare="room" if slots.get("building") else "building")
        if not found.get("building") and not (found.get("room") and slots.get("building")):
            return None
        if found.get("building"):
            problem = places.unknown_building(turn, found["building"])
            if problem:
                return TextReply(problem)
            for name in ("building", "unit", "room"):
                slots.pop(name, None)
        slots.update(found)
        if not slots.get("room"):
            return TextReply(f"{places.label(slots)}的哪一户？请告诉我门牌号（例如：501）。")
        return _next(turn)
    if step == "when":
        if _ANY_TIME.search(text):
            slots["when"] = "soon"
            return _next(turn)
        moment = _when(text)
        if moment is None:
            return None
        slots["when"] = moment.isoformat()
        return _next(turn)
    if step == "confirm":
        answer = clean(text)
        if answer in texts.YES:
            return _finish(turn)
        if answer in texts.NO:
            for name in ("building", "unit", "room", "when"):
                slots.pop(name, None)
            return _next(turn)
        corrected = places.place_from(text)
        moment = _when(text)
        if corrected.get("building") and corrected.get("room"):  # "地址不对，是4号楼101"
            for name in ("building", "unit", "room"):
                slots.pop(name, None)
            slots.update(corrected)
            return _next(turn)
        if moment is not None:  # "改到后天上午"
            slots["when"] = moment.isoformat()
            return _next(turn)
        return None
    return None


def ask(turn: Turn) -> TextReply:
    """Repeat the pending question."""
    return _next(turn)


def _when(text: str) -> datetime | None:
    # An answer to "when?" is an appointment whatever the classifier thinks of it ("下午" alone counts).
    return extract_when(clean(text), clock.now(), loose=True)


def _when_text(value: str) -> str:
    if value == "soon":
        return "尽快"
    moment = datetime.fromisoformat(value)
    text = f"{moment.month}月{moment.day}日（周{_WEEKDAYS[moment.weekday()]}）"
    return text + (f" {moment:%H:%M}" if (moment.hour, moment.minute) != (0, 0) else "")


def _finish(turn: Turn) -> TextReply:
    turn.conversation.end()
    lead = ("上门服务预约功能正在上线准备中，这次预约还不能登记，不会有师傅因此上门。"
            "功能上线后就可以在这里预约了。")
    return TextReply(lead + "\n" + texts.contact_text(turn.resident, "急需的话请联系："))


register("order_service", start, resume, ask)
