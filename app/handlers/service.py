"""Paid home services (菜单式服务) in chat: price → book → time → confirm → order number; resident commands
(取消订单, 改时间, 同意改时间, 评价, 我的订单) and provider short commands (接/拒/完成/改 FW-…)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta

from flask import current_app

from app import clock
from app.extensions import db
from app.handlers import context, texts
from app.handlers.commands import register_command
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register
from app.models import CatalogItem, Estate
from app.nlp.slots import extract_service
from app.nlp.text import clean, digits
from app.nlp.when import extract_when
from app.services import catalogue, orders
from app.services.errors import DomainError

_PRICE = re.compile(r"多少钱|价格|价钱|收费|怎么收|价目|贵不贵|费用|价目表")
_ANY_TIME = re.compile(r"随时|都行|都可以|尽快|越快越好|马上|现在|赶紧|啥时候都|什么时候都|尽早")
_NUMBER = r"([Ff][Ww]-?\d{8}-?\d{4})"
SLOT_CHOICES = 6
NEED_BINDING = "预约上门服务要先绑定房屋，师傅才知道上门地址，也防止别人冒名下单。发送“绑定”开始。"


def _number(raw: str) -> str:
    """'fw202611230001' / 'FW-20261123-0001' → 'FW-20261123-0001'."""
    plain = raw.upper().replace("-", "")
    return f"{plain[:2]}-{plain[2:10]}-{plain[10:]}"


def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def _estate(turn: Turn) -> Estate | None:
    room = turn.resident.room
    return room.estate if room is not None else turn.resident.estate


def start(turn: Turn) -> TextReply:
    """A request for a home service or a question about its price."""
    conversation, understood = turn.conversation, turn.understanding.slots
    code = understood.get("service") or extract_service(clean(turn.text))
    estate = _estate(turn)
    rooms = context.rooms(turn.inbound.openid, turn.generation)
    if _PRICE.search(turn.text):
        text, item = catalogue.price_answer(estate, code)
        if item is None or not rooms:
            extra = "\n" + NEED_BINDING if item is not None else ""
            return TextReply(text.replace("需要预约吗？回复 1 预约，回复 2 不用了。", "") + extra)
        conversation.start("order_service", text=turn.text)
        conversation.slots.update(item=item.id, key=uuid.uuid4().hex)
        conversation.goto("offer")
        return TextReply(text)
    if not rooms:
        return TextReply(NEED_BINDING + "\n" + texts.contact_text(turn.resident, "急需的话请联系："))
    media = conversation.media if conversation.flow == "order_service" else []
    conversation.start("order_service", text=turn.text)
    conversation.media = media
    slots = conversation.slots
    slots.update(key=uuid.uuid4().hex, note=turn.text[:200])
    item = catalogue.find_item(rooms[0].estate, code) if code else None
    if item is not None:
        slots["item"] = item.id
    if understood.get("when"):
        slots["asked_when"] = understood["when"].isoformat()
    return _next(turn)


def _item(turn: Turn) -> CatalogItem | None:
    item_id = turn.conversation.slots.get("item")
    return db.session.get(CatalogItem, item_id) if item_id else None


def _next(turn: Turn) -> TextReply:
    conversation, slots = turn.conversation, turn.conversation.slots
    rooms = context.rooms(turn.inbound.openid, turn.generation)
    item = _item(turn)
    if item is None:
        items = catalogue.items_for_estate(rooms[0].estate)
        if not items:
            conversation.end()
            return TextReply(f"{rooms[0].estate.name}暂未开通上门服务。" + texts.contact_text(turn.resident, ""))
        slots["items"] = [i.id for i in items]
        conversation.goto("service")
        lines = "\n".join(f"{n} {i.name} {catalogue.yuan(i.price_fen)}元/{i.unit}" for n, i in enumerate(items, 1))
        return TextReply(f"请问需要哪项上门服务？回复数字：\n{lines}\n价目表：{_base()}/h5/services")
    if "room" not in slots:
        if len(rooms) > 1:
            slots["rooms"] = [r.id for r in rooms]
            conversation.goto("room")
            lines = " ".join(f"{n} {r.label}" for n, r in enumerate(rooms, 1))
            return TextReply(f"到哪一户上门？回复数字：{lines}")
        slots["room"] = rooms[0].id
    if not slots.get("when"):
        asked = slots.pop("asked_when", None)
        if asked:
            problem = _take_time(turn, datetime.fromisoformat(asked))
            if problem is None:
                return _next(turn)
            return _offer_times(turn, problem)
        return _offer_times(turn)
    conversation.goto("confirm")
    room = next(r for r in rooms if r.id == slots["room"])
    return TextReply(f"请确认预约：\n{catalogue.price_text(item)}\n地址：{room.estate.name}{room.label}\n"
                     f"时间：{orders.when_text(datetime.fromisoformat(slots['when']))}\n"
                     "师傅完工后付款。回复 1 确认预约，2 换个时间；回复“取消”不约了。")


def _offer_times(turn: Turn, lead: str = "", day=None) -> TextReply:
    """Ask for a time, offering the next free slots (of one day when the resident named only a date)."""
    item = _item(turn)
    free = catalogue.free_slots(item, days=7 if day else catalogue.SLOT_DAYS)
    if day is not None:
        free = [s for s in free if s.date() == day] or free
    free = free[:SLOT_CHOICES]
    turn.conversation.slots["choices"] = [s.isoformat() for s in free]
    turn.conversation.goto("move" if turn.conversation.step == "move" else "when")
    if not free:
        return TextReply((lead + "\n" if lead else "") + "最近几天都约满了，请说一个更晚的时间（例如：下周一上午9点）。")
    lines = "\n".join(f"{n} {orders.when_text(s)}" for n, s in enumerate(free, 1))
    return TextReply((lead + "\n" if lead else "") + f"请问什么时候上门？回复数字，或直接说时间"
                     f"（服务时间 {item.opens}-{item.closes}）：\n{lines}")


def _take_time(turn: Turn, moment: datetime) -> str | None:
    """Keep the time if the service takes bookings then; else the reason (past, outside hours, full)."""
    item = _item(turn)
    try:
        moment = orders.check_time(item, moment)
    except DomainError as error:
        return error.message
    taken = catalogue._taken(item, moment - timedelta(seconds=1), 1).get(moment, 0)
    if taken >= max(1, len(item.providers)):
        return "这个时间已经约满了。"
    turn.conversation.slots["when"] = moment.isoformat()
    return None


def resume(turn: Turn) -> TextReply | None:
    """The answer to the pending question; None when the message is not one."""
    conversation, slots, text = turn.conversation, turn.conversation.slots, turn.text
    answer = clean(text)
    step = conversation.step
    if step == "offer":
        if answer in texts.YES or answer in {"预约", "约", "要", "需要"}:
            slots.setdefault("note", "")
            return _next(turn)
        if answer in texts.NO or answer in {"不用", "不用了", "不要"}:
            conversation.end()
            return TextReply("好的。需要时发“预约上门服务”就行。")
        return None
    if step == "service":
        items = slots.get("items", [])
        index = texts.choice_index(text, len(items))
        if index is None:
            code = extract_service(answer)
            found = next((i for i in items if db.session.get(CatalogItem, i).code == code), None) if code else None
            if found is None:
                return None
            slots["item"] = found
        else:
            slots["item"] = items[index]
        return _next(turn)
    if step == "room":
        index = texts.choice_index(text, len(slots.get("rooms", [])))
        if index is None:
            return None
        slots["room"] = slots["rooms"][index]
        return _next(turn)
    if step == "when":
        return _answer_time(turn, text)
    if step == "confirm":
        if answer in texts.YES:
            return _place(turn)
        if answer in texts.NO:
            slots.pop("when", None)
            return _offer_times(turn)
        moment = extract_when(answer, clock.now(), loose=True)
        return _answer_time(turn, text) if moment is not None else None
    if step == "move":
        return _answer_time(turn, text)
    return None


def _answer_time(turn: Turn, text: str) -> TextReply | None:
    slots, answer = turn.conversation.slots, clean(text)
    choices = slots.get("choices", [])
    index = texts.choice_index(text, len(choices))
    if index is not None:
        moment = datetime.fromisoformat(choices[index])
    elif _ANY_TIME.search(text) and choices:
        moment = datetime.fromisoformat(choices[0])
    else:
        moment = extract_when(digits(answer), clock.now(), loose=True)
        if moment is None:
            return None
        if moment.time() == time(0) and not re.search(r"零点|0点|凌晨|半夜", answer):
            return _offer_times(turn, f"{orders.when_text(moment)[:-5]}几点呢？", day=moment.date())
    if turn.conversation.step == "move":
        return _move(turn, moment)
    problem = _take_time(turn, moment)
    if problem:
        return _offer_times(turn, problem)
    return _next(turn)


def _place(turn: Turn) -> TextReply:
    slots, conversation = turn.conversation.slots, turn.conversation
    photo = next((m["media_id"] for m in conversation.media if m.get("kind") == "image"), None)
    try:
        order, _ = orders.place_order(turn.inbound.openid, slots["item"], datetime.fromisoformat(slots["when"]),
                                      client_key=f"chat:{slots['key']}", room_id=slots["room"],
                                      note=slots.get("note", ""), photo_media_id=photo)
    except DomainError as error:
        db.session.rollback()
        slots.pop("when", None)
        return _offer_times(turn, error.message)
    conversation.end()
    return TextReply(f"预约成功！订单号 {order.number}\n{order.item_name} {catalogue.yuan(order.price_fen)}元/"
                     f"{order.item_unit}，{orders.when_text(order.scheduled_at)}上门。师傅接单后会通知您。\n"
                     f"不约了回复“取消订单”，改时间回复“改时间”。")


def ask(turn: Turn) -> TextReply:
    """Repeat the pending question."""
    step = turn.conversation.step
    if step == "offer":
        return TextReply(catalogue.price_answer(_estate(turn), _item(turn).code)[0])
    if step in ("when", "move"):
        return _offer_times(turn)
    return _next(turn)


register("order_service", start, resume, ask)


def _open_orders(openid: str, statuses: tuple[str, ...]) -> list:
    return [o for o in orders.resident_orders(openid) if o.status in statuses]


def _pick(turn: Turn, raw: str | None, statuses: tuple[str, ...], verb: str):
    """The order a resident command is about: the number given, else their only order in `statuses`;
    a TextReply asking for the number when there are several, None when there is none."""
    if raw:
        return orders.resident_order(turn.inbound.openid, _number(raw))
    found = _open_orders(turn.inbound.openid, statuses)
    if len(found) == 1:
        return found[0]
    if not found:
        return None
    numbers = "、".join(o.number for o in found[:5])
    return TextReply(f"您有几个订单：{numbers}。请回复“{verb} 订单号”。")


def _resident_command(action):
    """Wrap a resident command: domain errors become the reply, and nothing is kept half-written."""
    def command(turn: Turn, found: re.Match) -> TextReply | None:
        try:
            return action(turn, found)
        except DomainError as error:
            db.session.rollback()
            return TextReply(error.message)
    return command


@_resident_command
def _cancel(turn: Turn, found: re.Match) -> TextReply | None:
    order = _pick(turn, found.group(1), ("ordered", "reschedule", "accepted"), "取消订单")
    if order is None:
        return TextReply("您没有可以取消的服务订单。")
    if isinstance(order, TextReply):
        return order
    orders.cancel(turn.inbound.openid, order.number)
    turn.conversation.end()
    return TextReply(f"已取消 {order.number}（{order.item_name}），没有收费。")


@_resident_command
def _reschedule(turn: Turn, found: re.Match) -> TextReply | None:
    order = _pick(turn, found.group(1), ("ordered", "accepted"), "改时间")
    if order is None:
        return TextReply("您没有可以改时间的服务订单。")
    if isinstance(order, TextReply):
        return order
    conversation = turn.conversation
    conversation.start("order_service", text=turn.text)
    conversation.slots.update(item=order.item_id, order=order.number)
    conversation.goto("move")
    said = clean(found.group(2) or "")
    if said and extract_when(digits(said), clock.now(), loose=True) is not None:
        return _answer_time(turn, said)
    return _offer_times(turn, f"{order.number}（{order.item_name}）现在约的是{orders.when_text(order.scheduled_at)}。")


def _move(turn: Turn, moment: datetime) -> TextReply:
    number = turn.conversation.slots["order"]
    try:
        order = orders.reschedule(turn.inbound.openid, number, moment)
    except DomainError as error:
        db.session.rollback()
        return _offer_times(turn, error.message)
    turn.conversation.end()
    return TextReply(f"已改到{orders.when_text(order.scheduled_at)}：{order.number}，等师傅确认后通知您。")


@_resident_command
def _proposal(turn: Turn, found: re.Match) -> TextReply | None:
    waiting = _open_orders(turn.inbound.openid, ("reschedule",))
    if not waiting:
        return None  # "不同意" may belong to another conversation
    agree = not found.group(0).startswith(("不", "保持"))
    order = orders.answer_proposal(turn.inbound.openid, waiting[0].number, agree)
    if agree:
        return TextReply(f"好的，{order.number} 改到{orders.when_text(order.scheduled_at)}，师傅会按时上门。")
    return TextReply(f"好的，{order.number} 保持原时间{orders.when_text(order.scheduled_at)}，已告诉师傅。")


@_resident_command
def _rate(turn: Turn, found: re.Match) -> TextReply | None:
    order = _pick(turn, found.group(1), ("done",), "评价")
    if order is None:
        return TextReply("您没有待评价的服务订单。")
    if isinstance(order, TextReply):
        return order
    comment = found.group(3).strip()
    order = orders.confirm(turn.inbound.openid, order.number, int(digits(found.group(2))), comment,
                           complaint="投诉" in comment)
    thanks = "谢谢您的评价！" if order.rating >= 3 else "抱歉这次没让您满意，社区会跟进。"
    return TextReply(f"{thanks}{order.number} 已确认完工（{order.rating}分）。")


def _my_orders(turn: Turn, found: re.Match) -> TextReply | None:
    rows = orders.resident_orders(turn.inbound.openid)[:5]
    if not rows:
        return None if not context.rooms(turn.inbound.openid, turn.generation) else TextReply("您还没有服务订单。")
    lines = "\n".join(f"{o.number} {o.item_name} {orders.when_text(o.scheduled_at)} {o.status_label}" for o in rows)
    return TextReply(f"您最近的服务订单：\n{lines}")


def _staff(turn: Turn, found: re.Match) -> TextReply | None:
    """Provider short commands: 接 / 拒 / 完成 / 改 FW-… (only for staff linked to this WeChat user)."""
    from app.services import providers, staff_links

    user = staff_links.staff_for_openid(turn.inbound.openid)
    if user is None or not providers.providers_of(user):
        return None
    verb, number, rest = found.group(1), _number(found.group(2)), found.group(3).strip()
    try:
        if verb in ("接", "接单"):
            order = orders.accept(user, number)
            return TextReply(f"已接单 {order.number}：{order.item_name}，{orders.address(order)}，"
                             f"{orders.when_text(order.scheduled_at)}。完工后回复“完成 {order.number}”。")
        if verb in ("拒", "不接"):
            order = orders.decline(user, number, rest)
            return TextReply(f"已记录不接 {order.number}。")
        if verb in ("完成", "完工"):
            order = orders.complete(user, number)
            return TextReply(f"{order.number} 已完工，已请居民确认评价。收了钱请回复“收款 {order.number} "
                             f"{catalogue.yuan(order.price_fen)} 现金”（或转账、微信）。")
        moment = extract_when(digits(clean(rest)), clock.now(), loose=True)
        order = orders.propose(user, number, moment)
        return TextReply(f"已把新时间{orders.when_text(order.proposed_at)}发给居民（{order.number}），等居民回复。")
    except DomainError as error:
        db.session.rollback()
        return TextReply(error.message)


def _collect(turn: Turn, found: re.Match) -> TextReply | None:
    """收款 FW-… 50 现金: the provider records what the resident paid; the resident gets a receipt."""
    from app.services import providers, staff_links

    user = staff_links.staff_for_openid(turn.inbound.openid)
    if user is None or not providers.providers_of(user):
        return None
    method = {"现金": "cash", "转账": "transfer", "微信": "wechat_pay", "微信支付": "wechat_pay"}.get(
        found.group(3) or "现金")
    try:
        order = orders.order_by_number(_number(found.group(1)))
        payment = providers.record_payment(user, order, catalogue.parse_yuan(found.group(2), "收款金额"), method)
    except DomainError as error:
        db.session.rollback()
        return TextReply(error.message)
    return TextReply(f"已登记收款 {order.number}：{catalogue.yuan(payment.amount_fen)}元（{payment.method_label}），"
                     "收据已发给居民。")


register_command(r"(?:收款|收费|已收)\s*" + _NUMBER + r"\s*(\d{1,5}(?:\.\d{1,2})?)\s*元?\s*(现金|转账|微信支付|微信)?",
                 _collect)
register_command(r"(接单|接|不接|拒|完成|完工|改)\s*" + _NUMBER + r"\s*(.*)", _staff)
register_command(r"取消订单\s*" + _NUMBER + r"?", _cancel)
register_command(r"取消\s*" + _NUMBER, _cancel)
register_command(r"(?:改时间|改个时间|换个时间|改约)\s*" + _NUMBER + r"?\s*(.*)", _reschedule)
register_command(r"同意改时间|同意新时间|不同意改时间|不同意|保持原时间", _proposal)
register_command(r"评价\s*" + _NUMBER + r"?\s*([1-5一二三四五])\s*分?[，,。\s]*(.*)", _rate)
register_command(r"我的订单|我的服务订单|查订单|服务订单", _my_orders)
