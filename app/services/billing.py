"""Fee schedules and bills: periods anchored to the schedule's start, amounts in integer fen, idempotent generation,
一事一议 levies split by area with split_cost, and the contractual late fee when (and only when) configured."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import insert, select

from app import clock
from app.extensions import db, kv
from app.models import Building, Estate, Ownership, Room, Unit
from app.models.fee import BASES, CYCLES, Bill, FeeSchedule, Levy
from app.services.errors import DomainError
from app.services.fees import split_cost

log = logging.getLogger(__name__)
PLAN_BASES = {"per_area": "per_area", "per_household": "flat"}
MAX_RATE_FEN = Decimal(100_000)  # 1000 元 per ㎡ or household per month: anything above is a typo


def add_months(anchor: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28 or 29)."""
    total = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(anchor.day, calendar.monthrange(year, month + 1)[1]))


def period_of(schedule: FeeSchedule, index: int) -> tuple[date, date]:
    """Period `index` (0-based): anchored to starts_on, never chained, so month ends do not drift."""
    start = add_months(schedule.starts_on, index * schedule.months)
    return start, add_months(schedule.starts_on, (index + 1) * schedule.months) - timedelta(days=1)


def period_containing(schedule: FeeSchedule, day: date) -> tuple[date, date] | None:
    """The period that contains `day`, or None before the start or after the end."""
    if day < schedule.starts_on or (schedule.ends_on and day > schedule.ends_on):
        return None
    months_since = (day.year - schedule.starts_on.year) * 12 + day.month - schedule.starts_on.month
    index = max(0, months_since // schedule.months)
    while True:  # at most two steps: clamped month ends can put `day` just before or after the estimate
        start, end = period_of(schedule, index)
        if day < start:
            index -= 1
        elif day > end:
            index += 1
        else:
            return start, end


def bill_amount(schedule: FeeSchedule, area: Decimal | None, vacant: bool = False) -> int:
    """The amount of one period in integer fen, rounded half up once at the end (never per month)."""
    if schedule.basis == "per_area":
        if area is None or Decimal(area) <= 0:
            raise DomainError("这户没有登记建筑面积，不能按面积计费。")
        exact = Decimal(schedule.rate_fen) * Decimal(area) * schedule.months
    else:
        exact = Decimal(schedule.rate_fen) * schedule.months
    if vacant:
        exact = exact * schedule.vacancy_percent / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_yuan(text: str | Decimal | int, field_name: str = "金额") -> Decimal:
    """'0.30' 元 → Decimal('30') fen; refuses text that is not a number, negatives and absurd values."""
    try:
        value = Decimal(str(text).strip().replace("元", "").replace(",", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(f"{field_name}不是有效的数字。") from None
    if not value.is_finite() or value < 0:
        raise DomainError(f"{field_name}不能为负数。")
    return value * 100


def create_schedule(estate: Estate, *, basis: str, rate_fen: Decimal, cycle: str, starts_on: date,
                    due_days: int = 30, actor: str = "", **options) -> FeeSchedule:
    """Add a fee standard for an estate (the caller commits); an older active one ends the day before."""
    if basis not in BASES:
        raise DomainError("计费方式只能是按面积或按户。")
    if cycle not in CYCLES:
        raise DomainError("缴费周期只能是按月、按季、按半年或按年。")
    rate_fen = Decimal(rate_fen)
    if rate_fen <= 0 or rate_fen > MAX_RATE_FEN:
        raise DomainError("收费标准必须大于0，且不超过1000元。")
    if not 0 <= int(due_days) <= 365:
        raise DomainError("缴费期限应在0到365天之间。")
    vacancy = int(options.get("vacancy_percent", 100))
    if not 0 <= vacancy <= 100:
        raise DomainError("空置房收费比例应在0到100之间。")
    late = options.get("late_fee_permille_per_day")
    if late is not None and (Decimal(late) < 0 or Decimal(late) > 5):
        raise DomainError("违约金比例应在每日千分之0到5之间（按合同约定）。")
    for old in db.session.scalars(select(FeeSchedule).where(FeeSchedule.estate_id == estate.id,
                                                              FeeSchedule.active.is_(True))):
        if old.starts_on >= starts_on:
            raise DomainError(f"已有{old.starts_on:%Y年%m月%d日}起执行的收费标准，新标准的开始日期要更晚。")
        old.ends_on = min(old.ends_on or starts_on, starts_on - timedelta(days=1))
    schedule = FeeSchedule(estate_id=estate.id, basis=basis, rate_fen=rate_fen, cycle=cycle, starts_on=starts_on,
                           due_days=int(due_days), created_by=actor, vacancy_percent=vacancy,
                           **{k: v for k, v in options.items() if k != "vacancy_percent"})
    db.session.add(schedule)
    db.session.flush()
    return schedule


def schedule_from_plan(plan, starts_on: date, actor: str = "system:plan") -> FeeSchedule:
    """Turn an adopted estate plan's fee standard (fee_mode, fee_amount_fen, fee_cycle) into a schedule."""
    if getattr(plan, "status", None) != "adopted":
        raise DomainError("只有业主表决通过的方案才能生成收费标准。")
    if not plan.fee_mode or not plan.fee_amount_fen:
        raise DomainError("这个方案没有收费标准。")
    schedule = create_schedule(plan.estate, basis=PLAN_BASES[plan.fee_mode], rate_fen=Decimal(plan.fee_amount_fen),
                               cycle=plan.fee_cycle or "quarterly", starts_on=starts_on, actor=actor)
    schedule.source, schedule.plan_id = "plan", plan.id
    return schedule


@dataclass
class Generation:
    """What one generation run did for one schedule and period."""

    period: tuple[date, date]
    created: int = 0
    existing: int = 0
    exempt: int = 0
    missing_area: list[str] = field(default_factory=list)  # room labels that could not be billed by area


def generate_bills(schedule: FeeSchedule, day: date, *, skip_missing_area: bool = False) -> Generation:
    """Bills of the period containing `day` for every room of the estate; rooms already billed are left alone.
    A per-area schedule with rooms lacking an area is refused whole unless skip_missing_area (then reported)."""
    period = period_containing(schedule, day)
    if period is None:
        raise DomainError(f"{day:%Y年%m月%d日}不在这个收费标准的执行期内。")
    start, end = period
    key = f"s{schedule.id}:{start.isoformat()}"
    report = Generation(period=period)
    with kv().lock(f"fees:generate:{schedule.id}", timeout=300, wait=60):
        rows = db.session.execute(
            select(Room.id, Room.building_id, Room.unit_id, Room.area, Room.number, Building.number, Unit.number)
            .join(Building, Room.building_id == Building.id).join(Unit, Room.unit_id == Unit.id)
            .where(Room.estate_id == schedule.estate_id).order_by(Room.id)).all()
        billed = set(db.session.scalars(select(Bill.room_id).where(Bill.estate_id == schedule.estate_id,
                                                                  Bill.source_key == key)))
        exempt = {int(r) for r in schedule.exempt_room_ids or []}
        if schedule.exempt_developer_held:
            exempt |= set(db.session.scalars(select(Ownership.room_id).join(Room, Ownership.room_id == Room.id)
                                             .where(Room.estate_id == schedule.estate_id,
                                                    Ownership.developer_held.is_(True))))
        vacant = {int(r) for r in schedule.vacant_room_ids or []}
        due_on = start + timedelta(days=schedule.due_days)
        new = []
        for room_id, building_id, unit_id, area, number, building_no, unit_no in rows:
            if room_id in billed:
                report.existing += 1
                continue
            if room_id in exempt:
                report.exempt += 1
                continue
            if schedule.basis == "per_area" and (area is None or area <= 0):
                report.missing_area.append(f"{building_no}号楼{unit_no + '单元' if unit_no else ''}{number}室")
                continue
            new.append({"kind": "fee", "source_key": key, "schedule_id": schedule.id, "estate_id": schedule.estate_id,
                        "building_id": building_id, "unit_id": unit_id, "room_id": room_id, "period_start": start,
                        "period_end": end, "months": schedule.months, "area": area,
                        "amount_fen": bill_amount(schedule, area, room_id in vacant), "paid_fen": 0,
                        "due_on": due_on, "status": "open", "note": "空置房" if room_id in vacant else "",
                        "created_at": clock.now()})
        if report.missing_area and not skip_missing_area:
            shown = "、".join(report.missing_area[:10]) + ("等" if len(report.missing_area) > 10 else "")
            raise DomainError(f"有{len(report.missing_area)}户没有登记建筑面积，不能按面积计费：{shown}。"
                              "请先在台账补全面积，或选择跳过这些房屋，未生成任何账单。")
        for chunk in range(0, len(new), 5000):
            db.session.execute(insert(Bill), new[chunk:chunk + 5000])
        report.created = len(new)
        db.session.commit()
    return report


def generate_due(today: date | None = None, schedules: list[FeeSchedule] | None = None,
                 skip_missing_area: bool = True) -> list[Generation]:
    """The job: for every active schedule, bill each period that has started and is not billed yet (catch-up
    after downtime, idempotent). For the job, rooms without an area are skipped and reported, never block."""
    today = today or clock.now().date()
    reports = []
    if schedules is None:
        schedules = db.session.scalars(select(FeeSchedule).where(FeeSchedule.active.is_(True))).all()
    for schedule in schedules:
        if schedule.starts_on > today:
            continue
        index = 0
        while True:
            start, _end = period_of(schedule, index)
            if start > today or (schedule.ends_on and start > schedule.ends_on):
                break
            report = generate_bills(schedule, start, skip_missing_area=skip_missing_area)
            if report.created and report.missing_area:
                log.warning("fees: estate %s period %s: %d rooms without an area were not billed: %s",
                            schedule.estate_id, start, len(report.missing_area), ", ".join(report.missing_area[:20]))
            reports.append(report)
            index += 1
    return reports


@dataclass
class LevyShare:
    """One room's part of a levy, as the owner is shown it."""

    room_id: int
    label: str
    area: Decimal
    share_fen: int


def levy_rooms(estate: Estate, scope_type: str, scope_id: int) -> list[Room]:
    """The rooms of the unit or building a levy covers (must be in the estate)."""
    if scope_type == "building":
        query = select(Room).where(Room.estate_id == estate.id, Room.building_id == scope_id)
    elif scope_type == "unit":
        query = select(Room).where(Room.estate_id == estate.id, Room.unit_id == scope_id)
    else:
        raise DomainError("一事一议只能以单元或楼栋为单位。")
    rooms = list(db.session.scalars(query.order_by(Room.id)))
    if not rooms:
        raise DomainError("这个单元或楼栋没有房屋。")
    return rooms


def preview_levy(estate: Estate, scope_type: str, scope_id: int, total_fen: int) -> list[LevyShare]:
    """Each room's share by area (split_cost), before anything is written."""
    rooms = levy_rooms(estate, scope_type, scope_id)
    missing = [room.label for room in rooms if room.area is None or room.area <= 0]
    if missing:
        raise DomainError(f"{'、'.join(missing[:5])}没有登记面积，无法按面积分摊。请先补全台账。")
    try:
        shares = split_cost(int(total_fen), [(str(room.id), room.area) for room in rooms])
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    return [LevyShare(room.id, room.label, room.area, shares[str(room.id)]) for room in rooms]


def create_levy(estate: Estate, scope_type: str, scope_id: int, title: str, total_fen: int, due_on: date,
                actor: str) -> tuple[Levy, list[LevyShare]]:
    """Create the levy and one bill per room with its share (the caller commits)."""
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise DomainError("请填写维修事项（120字以内）。")
    if total_fen <= 0:
        raise DomainError("分摊总额必须大于0。")
    shares = preview_levy(estate, scope_type, scope_id, total_fen)
    levy = Levy(estate_id=estate.id, scope_type=scope_type, scope_id=scope_id, title=title, total_fen=total_fen,
                total_area=sum((s.area for s in shares), Decimal(0)), room_count=len(shares), due_on=due_on,
                created_by=actor)
    db.session.add(levy)
    db.session.flush()
    today = clock.now().date()
    rooms = {room.id: room for room in levy_rooms(estate, scope_type, scope_id)}
    for share in shares:
        room = rooms[share.room_id]
        db.session.add(Bill(kind="levy", source_key=f"levy{levy.id}", levy_id=levy.id, estate_id=estate.id,
                            building_id=room.building_id, unit_id=room.unit_id, room_id=room.id, period_start=today,
                            period_end=today, months=0, area=share.area, amount_fen=share.share_fen,
                            paid_fen=0, due_on=due_on, status="open" if share.share_fen else "paid"))
    return levy, shares


def late_fee(bill: Bill, today: date) -> int:
    """Contractual 违约金 on what is still owed, only if the schedule sets one; 0 otherwise. Shown, never added."""
    schedule = bill.schedule
    if schedule is None or schedule.late_fee_permille_per_day is None or bill.owed_fen <= 0 or today <= bill.due_on:
        return 0
    days = (today - bill.due_on).days
    fee = Decimal(bill.owed_fen) * Decimal(schedule.late_fee_permille_per_day) / 1000 * days
    if schedule.late_fee_cap_percent is not None:
        fee = min(fee, Decimal(bill.owed_fen) * schedule.late_fee_cap_percent / 100)
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan(fen: int) -> str:
    """12345 → '123.45' (for messages and pages)."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"
