"""The reminder ladder, run as a job: private reminders to the owner N days after the due date, repeated every M
days up to K times; then the building (and unit) head gets their own building's unpaid rooms; then community staff.
Every step is a Reminder row unique per bill, stage and number, so a second run sends nothing new. Work goes in
batches of rooms with a constant number of queries per batch; messages go through the outbox."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.extensions import db, kv
from app.models import Building, Estate, OutboxMessage, RoleGrant, Room, StaffUser, Unit
from app.models.fee import Bill, Reminder, ReminderPolicy
from app.services.billing import yuan
from app.services.payments import owner_openids

DEFAULT_POLICY = dict(first_after_days=7, repeat_every_days=7, max_private=3, community_after_days=30,
                      quiet_start_hour=21, quiet_end_hour=8, heads_see_phone=False, enabled=True)
HEAD_LIST_LIMIT = 30  # rooms listed in one chat message; the rest are on the dashboard page


def policy_for(estate_id: int) -> ReminderPolicy:
    """The estate's ladder settings, or the defaults (not saved) when it has none."""
    policy = db.session.scalar(select(ReminderPolicy).where(ReminderPolicy.estate_id == estate_id))
    return policy or ReminderPolicy(estate_id=estate_id, **DEFAULT_POLICY)


def in_quiet_hours(policy: ReminderPolicy, moment: datetime) -> bool:
    """Whether `moment` falls in the estate's quiet hours (a window may wrap past midnight)."""
    hour, start, end = moment.hour, policy.quiet_start_hour, policy.quiet_end_hour
    if start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


@dataclass
class RunReport:
    """What one ladder run did (counts of bills per stage, messages queued, batches)."""

    private: int = 0
    building_head: int = 0
    community: int = 0
    messages: int = 0
    batches: int = 0
    quiet_estates: list[int] = field(default_factory=list)


@dataclass
class _Escalated:
    room_id: int
    label: str
    months: int
    owed_fen: int


def _insert_ignore(model, rows: list[dict]) -> None:
    """One INSERT for many rows, skipping rows whose unique key exists (a rerun after a crash never doubles)."""
    if not rows:
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(model).on_conflict_do_nothing(), rows)


def _outbox_row(openid: str, text: str, key: str, moment: datetime) -> dict:
    return {"idempotency_key": key, "openid": openid, "channel": "custom", "kind": "text", "payload": {"text": text},
            "status": "pending", "attempts": 0, "next_attempt_at": moment, "fell_back": False,
            "created_at": moment, "updated_at": moment}


def _label(building_no: str, unit_no: str, number: str) -> str:
    return f"{building_no}号楼{unit_no + '单元' if unit_no else ''}{number}室"


def _private_text(estate: str, label: str, bills: list, total_owed: int) -> str:
    items = "；".join(f"{_period_text(b)} {yuan(b.amount_fen - b.paid_fen)} 元（{b.due_on:%m月%d日}到期）"
                     for b in bills[:4])
    return (f"您好！{estate} {label} 的费用提醒：{items}。目前合计尚欠 {yuan(total_owed)} 元。\n"
            "可以交给楼栋长或到社区服务站缴纳，回复“我还欠多少”可查看明细。如已缴费，请忽略本消息，谢谢支持！")


def _period_text(bill) -> str:
    if bill.kind == "levy":
        return "维修分摊"
    start, end = bill.period_start, bill.period_end
    return f"{start.year}年{start.month}月" + (f"—{end.month}月" if (start.year, start.month) != (end.year, end.month)
                                              and start.year == end.year else "") + "物业费"


def run_reminders(moment: datetime | None = None, batch_size: int = 1000,
                  estate_ids: list[int] | None = None) -> RunReport:
    """One pass of the ladder over all open overdue bills (idempotent; quiet-hour estates are left for later)."""
    moment = clock.localize(moment or clock.now())
    today = moment.date()
    report = RunReport()
    policies = {p.estate_id: p for p in db.session.scalars(select(ReminderPolicy))}
    default = ReminderPolicy(**DEFAULT_POLICY)
    estates = dict(db.session.execute(select(Estate.id, Estate.name)).all())
    skip = {eid for eid in estates if not policies.get(eid, default).enabled
            or in_quiet_hours(policies.get(eid, default), moment)}
    report.quiet_estates = sorted(skip)
    min_first = min([p.first_after_days for p in policies.values()] + [default.first_after_days])
    cutoff = date.fromordinal(today.toordinal() - min_first)
    heads: dict[int, list[_Escalated]] = defaultdict(list)
    unit_of: dict[int, int] = {}
    community: dict[int, int] = defaultdict(int)
    last_room = 0
    with kv().lock("fees:reminders", timeout=60, wait=1, keep_alive=True):  # see escalation: short, kept alive
        while True:
            scope = [Bill.status == "open", Bill.due_on <= cutoff, Bill.amount_fen > Bill.paid_fen]
            if skip:
                scope.append(Bill.estate_id.not_in(sorted(skip)))
            if estate_ids is not None:
                scope.append(Bill.estate_id.in_(estate_ids))
            room_ids = list(db.session.scalars(select(Bill.room_id).where(*scope, Bill.room_id > last_room)
                                               .group_by(Bill.room_id).order_by(Bill.room_id).limit(batch_size)))
            if not room_ids:
                break
            last_room = room_ids[-1]
            report.batches += 1
            _batch(room_ids, scope, today, moment, policies, default, estates, report, heads, unit_of, community)
            db.session.commit()
        _notify_heads(heads, unit_of, today, moment, report)
        _notify_community(community, estates, today, moment, report)
        db.session.commit()
    return report


def _batch(room_ids, scope, today, moment, policies, default, estates, report, heads, unit_of, community) -> None:
    """Decide the next step for every overdue bill of these rooms: three reads, two bulk writes."""
    rows = db.session.execute(
        select(Bill.id, Bill.room_id, Bill.estate_id, Bill.building_id, Bill.unit_id, Bill.amount_fen, Bill.paid_fen,
               Bill.due_on, Bill.period_start, Bill.period_end, Bill.months, Bill.kind, Room.number,
               Building.number.label("building_no"), Unit.number.label("unit_no"))
        .join(Room, Bill.room_id == Room.id).join(Building, Bill.building_id == Building.id)
        .join(Unit, Bill.unit_id == Unit.id)
        .where(Bill.room_id.in_(room_ids), *scope).order_by(Bill.room_id, Bill.due_on, Bill.id)).all()
    done: dict[tuple[int, str], tuple[int, datetime]] = {}
    for bill_id, stage, seq, sent in db.session.execute(
            select(Reminder.bill_id, Reminder.stage, func.max(Reminder.seq), func.max(Reminder.sent_at))
            .where(Reminder.bill_id.in_([r.id for r in rows])).group_by(Reminder.bill_id, Reminder.stage)):
        done[(bill_id, stage)] = (seq, clock.localize(sent) if sent.tzinfo else sent.replace(tzinfo=clock.TZ))
    openids = owner_openids(room_ids)
    reminders, messages = [], []
    by_room: dict[int, list] = defaultdict(list)
    for row in rows:
        by_room[row.room_id].append(row)
    for room_id, bills in by_room.items():
        first = bills[0]
        policy = policies.get(first.estate_id, default)
        label = _label(first.building_no, first.unit_no, first.number)
        reachable = bool(openids.get(room_id))
        private_now, head_now, community_now = [], [], []
        for bill in bills:
            overdue = (today - bill.due_on).days
            if overdue < policy.first_after_days:
                continue
            private = done.get((bill.id, "private"))
            head = done.get((bill.id, "building_head"))
            if (bill.id, "community") in done:
                continue
            if head is not None:
                if (today - head[1].date()).days >= policy.community_after_days:
                    community_now.append(bill)
                continue
            if reachable and (private is None or private[0] < policy.max_private):
                if private is None or (today - private[1].date()).days >= policy.repeat_every_days:
                    private_now.append((bill, 1 if private is None else private[0] + 1))
            elif not reachable or (today - private[1].date()).days >= policy.repeat_every_days:
                head_now.append(bill)
        owed = sum(b.amount_fen - b.paid_fen for b in bills)
        if private_now:
            text = _private_text(estates[first.estate_id], label, [b for b, _ in private_now], owed)
            bill, seq = private_now[0]
            for openid in openids[room_id]:
                messages.append(_outbox_row(openid, text, f"fees:private:{bill.id}:{seq}:{openid}", moment))
            for bill, seq in private_now:
                reminders.append({"bill_id": bill.id, "stage": "private", "seq": seq, "sent_at": moment,
                                  "recipients": len(openids[room_id]), "detail": {}})
            report.private += len(private_now)
        if head_now:
            heads[first.building_id].append(_Escalated(room_id, label, sum(b.months for b in bills if b.kind == "fee"),
                                                       owed))
            unit_of[room_id] = first.unit_id
            for bill in head_now:
                reminders.append({"bill_id": bill.id, "stage": "building_head", "seq": 1, "sent_at": moment,
                                  "recipients": 0, "detail": {"building_id": bill.building_id,
                                                              "reachable": reachable}})
            report.building_head += len(head_now)
        if community_now:
            community[first.estate_id] += 1
            for bill in community_now:
                reminders.append({"bill_id": bill.id, "stage": "community", "seq": 1, "sent_at": moment,
                                  "recipients": 0, "detail": {}})
            report.community += len(community_now)
    _insert_ignore(Reminder, reminders)
    _insert_ignore(OutboxMessage, messages)
    report.messages += len(messages)


def _notify_heads(heads: dict[int, list[_Escalated]], unit_of: dict[int, int], today: date, moment: datetime,
                  report: RunReport) -> None:
    """One message per building head (and unit head, for their unit) with the rooms newly handed to them."""
    if not heads:
        return
    units = {unit_of[e.room_id] for items in heads.values() for e in items}
    grants = db.session.execute(
        select(RoleGrant.role, RoleGrant.scope_type, RoleGrant.scope_id, StaffUser.id, StaffUser.openid)
        .join(StaffUser, RoleGrant.user_id == StaffUser.id)
        .where(StaffUser.active.is_(True), StaffUser.openid.is_not(None),
               or_((RoleGrant.role == "building_head") & (RoleGrant.scope_type == "building")
                   & RoleGrant.scope_id.in_(sorted(heads)),
                   (RoleGrant.role == "unit_head") & (RoleGrant.scope_type == "unit")
                   & RoleGrant.scope_id.in_(sorted(units))))).all()
    building_of_unit = {unit_of[e.room_id]: b for b, items in heads.items() for e in items}
    messages = []
    for _role, scope_type, scope_id, user_id, openid in grants:
        if scope_type == "building":
            items = heads[scope_id]
        else:
            items = [e for e in heads[building_of_unit[scope_id]] if unit_of[e.room_id] == scope_id]
        if not items:
            continue
        lines = [f"{e.label}：{f'{e.months}个月，' if e.months else ''}{yuan(e.owed_fen)} 元"
                 for e in items[:HEAD_LIST_LIMIT]]
        more = f"\n……另有{len(items) - HEAD_LIST_LIMIT}户，请在后台“催缴名单”查看。" if len(items) > HEAD_LIST_LIMIT else ""
        text = (f"楼栋长您好！以下{len(items)}户经提醒仍未缴费，麻烦您方便时上门了解情况、耐心劝导：\n"
                + "\n".join(lines) + more
                + "\n上门后回复“已上门 房号 情况”即可记录，例如：已上门 502 答应月底交。名单仅供您本人使用，请勿外传。")
        messages.append(_outbox_row(openid, text, f"fees:head:{scope_type}{scope_id}:{today}:{user_id}", moment))
    _insert_ignore(OutboxMessage, messages)
    report.messages += len(messages)


def _notify_community(counts: dict[int, int], estates: dict[int, str], today: date, moment: datetime,
                      report: RunReport) -> None:
    """Community staff of each estate's community learn how many rooms came to them (the list is in the dashboard)."""
    if not counts:
        return
    rows = db.session.execute(
        select(Estate.id, StaffUser.id, StaffUser.openid).join(RoleGrant, (RoleGrant.scope_type == "community")
                                                               & (RoleGrant.scope_id == Estate.community_id))
        .join(StaffUser, RoleGrant.user_id == StaffUser.id)
        .where(Estate.id.in_(sorted(counts)), RoleGrant.role == "community_staff", StaffUser.active.is_(True),
               StaffUser.openid.is_not(None))).all()
    messages = [_outbox_row(openid, f"{estates[estate_id]}有{counts[estate_id]}户经楼栋长劝导后仍未缴费，已转社区处理。"
                            "请在后台“催缴”页查看名单，必要时打印催告函。",
                            f"fees:community:{estate_id}:{today}:{user_id}", moment)
                for estate_id, user_id, openid in rows]
    _insert_ignore(OutboxMessage, messages)
    report.messages += len(messages)
