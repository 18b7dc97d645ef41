"""Working the arrears list: a head's own unpaid rooms (room, months, amount; phone only if the estate allows),
persuasion visits (劝导) logged from chat or the dashboard, and recorded 催告 letters with lawful wording."""

from __future__ import annotations

import io
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Building, Estate, Ownership, Person, Room, StaffUser, Unit
from app.models.fee import Bill, Reminder, Visit
from app.services import audit, scope
from app.services.billing import yuan
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.reminders import policy_for
from app.services.fonts import register_pdf_font
from app.services.print_layout import draw_pdf_lines, new_canvas, pdf_measure, wrap

HEAD_ROLES = ("building_head", "unit_head")
STAGE_ORDER = ["none", "private", "building_head", "community", "letter"]
WORKER_ROLES = ("street_admin", "community_staff", "building_head", "unit_head")
VISIT_PATTERN = re.compile(r"^\s*已?上门\s*(?:(\d+)\s*(?:号楼|栋))?\s*(?:(\d+)\s*单元)?\s*([0-9A-Za-z]{2,6})\s*(?:室)?\s*[,，:：]?\s*(.*)$")


@dataclass
class ArrearsRow:
    """One unpaid room as a head or staff member sees it (never published)."""

    room_id: int
    label: str
    building_id: int
    months: int
    owed_fen: int
    oldest_due: date
    stage: str
    phone: str
    last_visit: str


def arrears(user: StaffUser, estate: Estate, building_id: int | None = None) -> list[ArrearsRow]:
    """The unpaid rooms of an estate that `user` reaches: a building head sees only their own building."""
    rooms = scope.visible_rooms(user, estate, building_id).with_only_columns(Room.id).order_by(None)
    rows = db.session.execute(
        select(Bill.room_id, func.sum(Bill.amount_fen - Bill.paid_fen), func.sum(Bill.months), func.min(Bill.due_on))
        .where(Bill.estate_id == estate.id, Bill.status == "open", Bill.due_on < clock.now().date(),
               Bill.room_id.in_(rooms)).group_by(Bill.room_id)).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    info = {room.id: room for room in db.session.scalars(select(Room).where(Room.id.in_(ids)))}
    stages: dict[int, str] = {}
    for room_id, stage in db.session.execute(
            select(Bill.room_id, Reminder.stage).join(Reminder, Reminder.bill_id == Bill.id)
            .where(Bill.room_id.in_(ids), Bill.status == "open").distinct()):
        if STAGE_ORDER.index(stage) > STAGE_ORDER.index(stages.get(room_id, "none")):
            stages[room_id] = stage
    visits: dict[int, str] = {}
    for visit in db.session.scalars(select(Visit).where(Visit.room_id.in_(ids)).order_by(Visit.created_at)):
        visits[visit.room_id] = f"{visit.created_at:%m-%d} {visit.note}"
    show_phone = scope.can_see_phone(user) or policy_for(estate.id).heads_see_phone
    phones = _phones(ids) if show_phone else {}
    result = [ArrearsRow(room_id, info[room_id].label, info[room_id].building_id, int(months or 0), int(owed),
                         oldest, _stage_label(stages.get(room_id)), phones.get(room_id, ""), visits.get(room_id, ""))
              for room_id, owed, months, oldest in rows]
    audit.record_staff(user, "view", "arrears", estate.id, rooms=len(result), phones=bool(phones))
    return sorted(result, key=lambda r: (info[r.room_id].building.sort_key, info[r.room_id].unit.sort_key,
                                         info[r.room_id].sort_key))


def _stage_label(stage: str | None) -> str:
    return {"private": "已私信提醒", "building_head": "楼栋长劝导中", "community": "社区处理中",
            "letter": "已发催告函"}.get(stage or "", "未提醒")


def _phones(room_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(select(Ownership.room_id, Person).join(Person, Ownership.person_id == Person.id)
                              .where(Ownership.room_id.in_(room_ids), Ownership.is_designated_voter.is_(True)))
    # Masked like everywhere else (138****1234); a full number is revealed, audit-logged, on the register page.
    return {room_id: person.masked_phone if person.phone else "" for room_id, person in rows}


def parse_promise(note: str, today: date) -> date | None:
    """'答应月底交' → the month's last day; '15号交' → that day (next month if passed); else None."""
    if "月底" in note:
        return today.replace(day=monthrange(today.year, today.month)[1])
    match = re.search(r"(\d{1,2})\s*[号日]", note)
    if match and 1 <= int(match.group(1)) <= 31:
        day = int(match.group(1))
        year, month = today.year, today.month
        if day < today.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return date(year, month, min(day, monthrange(year, month)[1]))
    return None


def find_head_room(user: StaffUser, text: str) -> tuple[Room, str]:
    """Parse '已上门 502 答应月底交' (optionally '3号楼 2单元 502') into a room the head reaches and the note."""
    match = VISIT_PATTERN.match(text or "")
    if not match:
        raise DomainError("请这样写：已上门 502 答应月底交")
    building_no, unit_no, number, note = match.groups()
    query = select(Room).join(Building, Room.building_id == Building.id).join(Unit, Room.unit_id == Unit.id) \
        .where(Room.number == number.upper())
    if building_no:
        query = query.where(Building.number == building_no)
    if unit_no:
        query = query.where(Unit.number == unit_no)
    candidates = [room for room in db.session.scalars(query) if _reaches(user, room)]
    if not candidates:
        raise NotFound(f"您负责的楼栋里没有找到{number}室。")
    if len(candidates) > 1:
        raise DomainError(f"有{len(candidates)}个{number}室，请写上单元，例如：已上门 2单元{number} {note or '答应月底交'}")
    return candidates[0], note.strip()


def _reaches(user: StaffUser, room: Room) -> bool:
    estate = db.session.get(Estate, room.estate_id)
    return db.session.scalar(scope.visible_rooms(user, estate).where(Room.id == room.id)) is not None


def log_visit(user: StaffUser, room: Room, note: str) -> Visit:
    """Record a persuasion visit by a head or staff member for a room they reach, and commit."""
    if not scope.has_role(user, *WORKER_ROLES) or not _reaches(user, room):
        raise PermissionDenied("您只能记录自己负责楼栋的上门情况。")
    note = (note or "").strip()
    if not note:
        raise DomainError("请写一句上门的情况，例如：答应月底交。")
    visit = Visit(room_id=room.id, building_id=room.building_id, staff_user_id=user.id, note=note[:300],
                  promised_on=parse_promise(note, clock.now().date()), created_at=clock.now())
    db.session.add(visit)
    audit.record_staff(user, "fee_visit", "room", room.id)
    db.session.commit()
    return visit


LETTER_BODY = [
    "您好！根据本小区经业主共同决定的收费标准，您名下上述房屋以下费用尚未缴纳：",
    "此前，我们已通过微信消息提醒、楼栋长上门等方式与您沟通。小区的保洁、维修、安全等公共服务依靠每一户业主共同支持，"
    "恳请您于收到本函之日起十五日内，到社区服务站或联系楼栋长缴纳。",
    "如您对费用有异议，或因家庭困难暂时无法缴纳，请与社区联系说明情况，我们会认真核实、协商解决。",
    "逾期仍未缴纳的，小区将依法通过调解或诉讼等途径主张权利。本函不影响您正常使用水、电、气、暖。",
    "特此函告。",
]
MARGIN = 25 * mm  # of a letter, on every side
INDENT = "\u3000\u3000"  # a paragraph's first line starts two characters in, as Chinese letters do
BODY_SIZE, BODY_LEADING = 12, 7 * mm


def letters_pdf(user: StaffUser, estate: Estate, room_ids: list[int]) -> bytes:
    """催告函 for chosen unpaid rooms (office roles only), one page each, dated and numbered; each is recorded
    as a 'letter' reminder on every open bill of the room (it interrupts the limitation period). Commits."""
    if not scope.can_manage_register(user):
        raise PermissionDenied("催告函由社区或街道工作人员打印。")
    today = clock.now().date()
    rooms = [room for room in db.session.scalars(select(Room).where(Room.id.in_(room_ids), Room.estate_id == estate.id)
                                                 .order_by(Room.id))]
    buffer = io.BytesIO()
    pdf = new_canvas(buffer, f"{estate.name} 缴费催告函")
    printed = 0
    for room in rooms:
        bills = list(db.session.scalars(select(Bill).where(Bill.room_id == room.id, Bill.status == "open",
                                                          Bill.due_on < today).order_by(Bill.due_on)))
        if not bills:
            continue
        seq = (db.session.scalar(select(func.count(Reminder.id)).where(Reminder.stage == "letter",
                                                                       Reminder.bill_id == bills[0].id)) or 0) + 1
        number = f"{estate.id}-{today:%Y%m%d}-{room.id}-{seq}"
        for bill in bills:
            db.session.add(Reminder(bill_id=bill.id, stage="letter", seq=seq, sent_at=clock.now(), recipients=0,
                                    detail={"letter_no": number, "printed_by": user.id}))
        _letter_page(pdf, estate, room, bills, number, today)
        printed += 1
    if not printed:
        raise DomainError("所选房屋没有逾期未缴的账单，无需打印催告函。")
    pdf.save()
    audit.record_staff(user, "fee_letters", "estate", estate.id, rooms=printed)
    db.session.commit()
    return buffer.getvalue()


def _letter_page(pdf, estate: Estate, room: Room, bills: list[Bill], number: str, today: date) -> None:
    width, height = A4
    inner = width - 2 * MARGIN
    y = height - 30 * mm
    draw_pdf_lines(pdf, ["缴费催告函"], MARGIN, y, 20, align="center", width=inner)
    draw_pdf_lines(pdf, [f"编号：{number}"], MARGIN, y - 9 * mm, 10, align="right", width=inner)
    y -= 22 * mm
    owed = yuan(sum(b.amount_fen - b.paid_fen for b in bills))
    blocks = [(f"{estate.name} {room.label} 业主：", 0), (INDENT + LETTER_BODY[0], 0),
              *[(f"· {bill.title}：尚欠 {yuan(bill.amount_fen - bill.paid_fen)} 元，{bill.due_on:%Y年%m月%d日}到期",
                 12 * mm) for bill in bills],
              (f"合计：{owed} 元", 12 * mm), *[(INDENT + text, 0) for text in LETTER_BODY[1:]]]
    measure = pdf_measure(register_pdf_font(), BODY_SIZE)
    for text, indent in blocks:
        for line in wrap(text, measure, inner - indent):
            y = _next_line(pdf, y)
            draw_pdf_lines(pdf, [line], MARGIN + indent, y, BODY_SIZE)
            y -= BODY_LEADING
        y -= 2 * mm
    y -= 14 * mm
    # Signed by the community and estate (right-aligned; a long pair of names wraps), then dated.
    for line in [*wrap(f"{estate.community.name}  {estate.name}", measure, inner * 0.7),
                 f"{today.year}年{today.month}月{today.day}日"]:
        y = _next_line(pdf, y)
        draw_pdf_lines(pdf, [line], MARGIN, y, BODY_SIZE, align="right", width=inner)
        y -= BODY_LEADING + mm
    pdf.showPage()


def _next_line(pdf, y: float) -> float:
    """The baseline for the next line: a letter with many bills goes on to a second page."""
    if y >= MARGIN:
        return y
    pdf.showPage()
    return A4[1] - MARGIN - BODY_SIZE
