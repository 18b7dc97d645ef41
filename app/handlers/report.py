"""Reports of shared facilities and complaints: what, where (building, unit), confirm — then say it can't be recorded yet.

Tickets belong to a later issue: the dialogue runs to the point where a ticket would be created, and then says
plainly that nothing was recorded. It never pretends a ticket exists.
"""

from __future__ import annotations

from app.handlers import places, texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register
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
    return _next(turn)


def _finish(turn: Turn) -> TextReply:
    conversation = turn.conversation
    word = WORDS[conversation.flow]
    conversation.end()
    lead = (f"{word}功能正在上线准备中，这条{word}还不能登记，没有生成工单，也不会有人因此上门。"
            "功能上线后就可以在这里提交了。")
    return TextReply(lead + "\n" + texts.contact_text(turn.resident, "紧急情况请联系："))


register("report_issue", start_report, resume, ask)
register("complaint", start_complaint, resume, ask)
