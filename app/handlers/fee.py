"""Fees in chat: what I owe, how to pay, the fee standard, my payment records, the estate's collection figures;
and a building head's visit log ("已上门 502 答应月底交"). Answers are read-only: payments are recorded by people."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.handlers import texts
from app.handlers.commands import register_command
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register
from app.models import Room
from app.models.fee import PAYMENT_KINDS, PAYMENT_METHODS, FeeSchedule

HOW = re.compile(r"怎么(交|缴|付)|如何(交|缴|付)|在哪(交|缴)|哪里(交|缴)|去哪|交给谁|缴费方式|支付|微信(交|缴|付)|交物业费|缴物业费")
STANDARD = re.compile(r"标准|多少钱一|一平|每平|单价|怎么(算|收)|收多少|贵")
RECORDS = re.compile(r"记录|交过|缴过|收据|明细|历史")
FIGURES = re.compile(r"收缴|公示|缴费率|交费率|多少户|几户|大家")


def _base() -> str:
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")


def start(turn: Turn) -> TextReply:
    """Pick the fee question from the words and answer it for the resident's own rooms."""
    from app.services.payments import fee_rooms

    text = turn.text
    rooms, tenant_only = fee_rooms(turn.inbound.openid)
    if FIGURES.search(text):
        return TextReply(_figures(turn, rooms))
    if not rooms:
        if tenant_only:
            return TextReply("物业费账单由业主或家属查询。您是以租户身份绑定的，请和房东联系；"
                             "收费标准和收缴情况可以问我“收费标准”“收缴情况”。")
        return TextReply("查物业费要先绑定您家的房屋：发送“绑定”，按提示输入楼栋长或社区给您的绑定码。\n"
                         + texts.contact_text(turn.resident, "不方便绑定的话，可以联系："))
    if STANDARD.search(text):
        return TextReply(_standard(rooms))
    if RECORDS.search(text):
        return TextReply(_records(rooms))
    if HOW.search(text):
        return TextReply(_owed(rooms, short=True) + "\n\n" + _how(turn))
    return TextReply(_owed(rooms))


def _owed(rooms: list[Room], short: bool = False) -> str:
    from app.services.billing import yuan
    from app.services.payments import statement

    mine = statement([room.id for room in rooms])
    where = "、".join(f"{room.estate.name}{room.label}" for room in rooms[:3])
    if not mine.bills:
        done = f"{where}目前没有未缴的费用，谢谢您的支持！"
        return done + (f"另有预存余额 {yuan(mine.credit_fen)} 元。" if mine.credit_fen else "")
    lines = [f"{where}目前还欠 {yuan(mine.owed_fen)} 元："]
    for bill in mine.bills[:6]:
        lines.append(f"· {bill.title} {yuan(bill.owed_fen)} 元（{bill.due_on.month}月{bill.due_on.day}日前）")
    if len(mine.bills) > 6:
        lines.append(f"……共{len(mine.bills)}笔")
    if mine.credit_fen:
        lines.append(f"预存/以工抵费余额 {yuan(mine.credit_fen)} 元，会自动抵扣。")
    if not short:
        lines.append("怎么交：交给本楼楼栋长或到社区服务站，登记后微信会收到收据。")
    lines.append(f"明细：{_base()}/h5/fees")
    return "\n".join(lines)


def _how(turn: Turn) -> str:
    return texts.contact_text(turn.resident, "交费方式：交给本楼楼栋长，或到社区服务站交现金或转账，登记后微信会收到收据。"
                                             "暂时还不能在公众号里直接付款。")


def _standard(rooms: list[Room]) -> str:
    from app.services.billing import bill_amount, period_containing, yuan
    from app.services.errors import DomainError

    lines = []
    today = clock.now().date()
    for room in rooms[:3]:
        schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.estate_id == room.estate_id,
                                                               FeeSchedule.active.is_(True))
                                     .order_by(FeeSchedule.starts_on.desc()))
        if schedule is None:
            lines.append(f"{room.estate.name}还没有定收费标准。")
            continue
        try:
            each = f"，您家{room.area}㎡，每期 {yuan(bill_amount(schedule, room.area))} 元" \
                if schedule.basis == "per_area" else f"，每期 {yuan(bill_amount(schedule, room.area))} 元"
        except DomainError:
            each = "，您家的面积还没登记，请联系社区核实"
        period = period_containing(schedule, today)
        due = f"。本期{period[0].month}月{period[0].day}日—{period[1].month}月{period[1].day}日" if period else ""
        origin = "（业主表决通过的方案）" if schedule.source == "plan" else ""
        lines.append(f"{room.estate.name}物业费：{schedule.describe}{origin}{each}{due}。")
    return "\n".join(lines)


def _records(rooms: list[Room]) -> str:
    from app.services.billing import yuan
    from app.services.payments import statement

    mine = statement([room.id for room in rooms], history=5)
    if not mine.payments:
        return "还没有缴费记录。交费后楼栋长或社区登记，您会收到收据。"
    lines = ["最近的缴费记录："]
    for p in mine.payments:
        lines.append(f"· {p.recorded_at:%Y-%m-%d} {PAYMENT_KINDS.get(p.kind, p.kind)} {yuan(p.amount_fen)} 元"
                     f"（{PAYMENT_METHODS.get(p.method, p.method)}，{p.bill.title}，收据号 {p.receipt_no}）")
    lines.append(f"全部记录：{_base()}/h5/fees")
    return "\n".join(lines)


def _figures(turn: Turn, rooms: list[Room]) -> str:
    from app.services import collection

    estate = rooms[0].estate if rooms else turn.resident.estate
    if estate is None:
        return "请先绑定房屋或扫描楼栋二维码，我才知道您问的是哪个小区。"
    item = collection.notice(estate)
    if item is None:
        return f"{estate.name}还没有物业费账单，暂无收缴情况。"
    total = item.total
    return (f"{estate.name}{item.period_text}收缴情况：应缴{total.billable}户，已缴清{total.paid}户，"
            f"按户收缴率{total.household_rate}，按金额收缴率{total.amount_rate}。\n"
            f"各楼栋情况：{_base()}/h5/fees/notice/{estate.id}")


def _visit(turn: Turn, found: re.Match) -> TextReply | None:
    """A building head logs a persuasion visit: '已上门 502 答应月底交'. Residents' messages pass through."""
    from app.services import arrears, staff_links
    from app.services.billing import yuan
    from app.services.errors import DomainError

    user = staff_links.staff_for_openid(turn.inbound.openid)
    if user is None:
        return None
    try:
        room, note = arrears.find_head_room(user, turn.text)
        if not note:
            return TextReply(f"请写上上门的情况，例如：已上门 {room.number} 答应月底交")
        visit = arrears.log_visit(user, room, note)
    except DomainError as error:
        db.session.rollback()
        return TextReply(error.message)
    promise = f"，约定{visit.promised_on.month}月{visit.promised_on.day}日前缴" if visit.promised_on else ""
    owed = sum(row.owed_fen for row in arrears.arrears(user, room.estate, room.building_id) if row.room_id == room.id)
    db.session.commit()
    left = f"该户目前欠费 {yuan(owed)} 元。" if owed else "该户目前没有逾期欠费。"
    return TextReply(f"已记录：{room.label}「{note}」{promise}。{left}辛苦了！")


register("fee", start)
# Only a visit report with a room number: "上门服务怎么约" from a head who is also a resident is left alone.
register_command(r"已?上门\s*(?:\d+\s*(?:号楼|栋))?\s*(?:\d+\s*单元)?\s*[0-9A-Za-z]{2,6}室?(?:[\s,，:：]*[^\s\d].*)?", _visit)
