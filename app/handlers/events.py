"""Events and non-text messages: subscribing, scanning a building's or unit's QR code, menu clicks, photos, locations."""

from __future__ import annotations

import re

from app.extensions import db
from app.handlers import context, texts
from app.handlers.context import BuildingRef
from app.handlers.messages import NoReply, Reply, TextReply
from app.handlers.registry import HANDLERS, Turn
from app.models import Building, Unit
from app.nlp import Understanding
from app.services.qr import place_name

FLOWS_WITH_MEDIA = ("report_issue", "complaint", "order_service")
_SCENE = re.compile(r"^(?:qrscene_)?([bu]):(\d{1,9})$")
# Menu keys → intents. The agreed upper-case keys, and the keys of the current app/wechat/menu.json.
CLICKS = {
    "REPORT": "report_issue", "SERVICES": "order_service", "FEES": "fee", "VOTE": "vote", "NOTICES": "notice",
    "PROGRESS": "progress", "HUMAN": "human", "BIND": "bind", "COMPLAINT": "complaint",
    "repair_report": "report_issue", "complaint_report": "complaint", "ticket_status": "progress",
    "service_directory": "human", "service_order": "order_service", "notices": "notice", "bind_room": "bind",
    "my_tickets": "progress", "contact": "human",
}
WELCOME = ("感谢关注邻里！我是小区的服务助手，可以帮您报修公共设施、预约上门服务、查物业费、参与小区投票、"
           "看通知公告、联系楼栋长和社区。")
STAFF_PHOTO = "照片收到了，发送“办结 编号 说明”即可附上。"
BAD_SCENE = "这个二维码无法识别，可能已经失效。请扫描楼栋里张贴的最新二维码，或直接告诉我您在哪栋楼。"


def scanned_place(turn: Turn) -> tuple[Building | BuildingRef, Unit | None] | None:
    """The building and unit a scene names ("b:<id>" → unit None, "u:<id>"), or None for a missing, unknown or
    forged scene."""
    match = _SCENE.match((turn.inbound.scene or "").strip())
    if not match:
        return None
    if match.group(1) == "b":
        building = context.building(int(match.group(2)), turn.generation)
        return (building, None) if building is not None else None
    unit = db.session.get(Unit, int(match.group(2)))
    return (unit.building, unit) if unit is not None else None


def _here(building: Building | BuildingRef, unit: Unit | None) -> str:
    return building.estate.name + place_name(building, unit)


def _start_unit_report(turn: Turn, building: Building, unit: Unit) -> Reply:
    """A unit's code starts a report with building and unit filled in; what is wrong is the first question.

    Inside an open report or complaint (a photo sent first opened one), the scan says where and the flow goes on;
    not while it asks "the same problem?", which was about the place said before."""
    conversation = turn.conversation
    if conversation.flow not in ("report_issue", "complaint") or conversation.step == "same":
        conversation.start("report_issue")
    for name in ("unit", "room"):
        conversation.slots.pop(name, None)
    conversation.slots.update(building=building.number, unit=unit.number)
    return HANDLERS[conversation.flow].ask(turn)


def subscribe(turn: Turn) -> Reply:
    """Welcome, what Linli can do, and the building (or unit) when the resident followed by scanning one."""
    text = WELCOME
    if turn.inbound.scene:
        place = scanned_place(turn)
        if place is None:
            text += "\n" + BAD_SCENE
        else:
            building, unit = place
            turn.conversation.building_id = building.id
            if unit is not None:
                asked = _start_unit_report(turn, building, unit)
                return TextReply(f"{text}\n您扫的是{_here(building, unit)}的二维码，楼号和单元已经记下了。\n{asked.text}")
            text += f"\n您扫的是{_here(building, None)}的二维码，报修时不用再说楼号。"
    return TextReply(text + "\n" + texts.EXAMPLE + "\n回复“菜单”看全部功能。")


def scan(turn: Turn) -> Reply:
    """A building's QR code: remember the building; inside a report it answers "which building?".
    A unit's code: remember its building and start a report there (or answer "where?" of the open one)."""
    place = scanned_place(turn)
    if place is None:
        return TextReply(BAD_SCENE)
    building, unit = place
    conversation = turn.conversation
    conversation.building_id = building.id
    turn.forget_resident()  # the scanned building changes where the resident is
    here = f"您好！这里是{_here(building, unit)}。"
    if unit is not None:
        return TextReply(here + "\n" + _start_unit_report(turn, building, unit).text)
    if conversation.flow in ("report_issue", "complaint") and conversation.step in ("what", "where"):
        conversation.slots.update(building=building.number)
        conversation.slots.pop("unit", None)
        return TextReply(here + "\n" + HANDLERS[conversation.flow].ask(turn).text)
    return TextReply(here + "公共设施坏了，直接发文字或照片告诉我就行，例如“楼道灯不亮”“单元门关不上”。")


def click(turn: Turn) -> Reply:
    """A menu click starts its capability afresh (any open flow is left)."""
    key = turn.inbound.event_key
    if key in ("MY", "my"):
        return _mine(turn)
    intent = CLICKS.get(key)
    if intent is None:
        return TextReply(texts.menu_text())
    turn.conversation.end()
    turn.text = ""
    turn.understanding = Understanding(intent, 1.0, {})
    return HANDLERS[intent].start(turn)


def _mine(turn: Turn) -> Reply:
    rooms = context.rooms(turn.inbound.openid, turn.generation)
    if not rooms:
        turn.understanding = Understanding("bind", 1.0, {})
        reply = HANDLERS["bind"].start(turn)
        return TextReply("您还没有绑定房屋。" + reply.text)
    listed = "\n".join(f"{room.estate.name} {room.label}" for room in rooms)
    return TextReply(f"您绑定的房屋：\n{listed}")


def media(turn: Turn) -> Reply:
    """A photo or video: attached to the open flow, kept for a linked staff member's next 办结, or it starts a report."""
    conversation, inbound = turn.conversation, turn.inbound
    if conversation.flow in FLOWS_WITH_MEDIA:
        conversation.attach(inbound.kind, inbound.media_id)
        return TextReply("照片收到了，会一起提交。\n" + HANDLERS[conversation.flow].ask(turn).text)
    if inbound.kind == "image" and _kept_for_staff(turn):
        return TextReply(STAFF_PHOTO)
    conversation.start("report_issue")
    conversation.goto("what")
    conversation.attach(inbound.kind, inbound.media_id)
    return TextReply("收到您的照片。请问是哪里坏了？用文字简单说一下，例如“楼道灯不亮”。")


def _kept_for_staff(turn: Turn) -> bool:
    """A linked staff member's photo outside a report is a site photo for their next 办结: keep it there."""
    from app.services import tickets_chat

    # Inside a dialogue (a vote, a binding…) a photo starts a report, as for anyone; the menu only offered choices.
    if turn.conversation.flow not in (None, "menu"):
        return False
    return tickets_chat.remember_photo(turn.inbound.openid, turn.inbound.media_id) is not None


def location(turn: Turn) -> Reply:
    """A shared location: kept with an open flow as a hint of where; otherwise acknowledged."""
    conversation, inbound = turn.conversation, turn.inbound
    if conversation.flow in FLOWS_WITH_MEDIA:
        conversation.slots["location"] = inbound.label or f"{inbound.latitude},{inbound.longitude}"
        return TextReply("位置收到了。\n" + HANDLERS[conversation.flow].ask(turn).text)
    if inbound.kind == "location_event":
        return NoReply()
    return TextReply("收到您的位置。请问需要帮什么忙？" + texts.EXAMPLE)
