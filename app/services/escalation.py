"""The escalation ladder for overdue tickets: handler → building head and community → street office.

Run by a job every few minutes. Each step happens once per ticket, reopen cycle and level (the ticket's level is
raised and an event with a unique key is written in the same commit), so a second run sends nothing new. Work is
done in batches with a fixed number of statements per batch: one select of tickets, one of recipients, one insert
of events, one update of tickets, one insert of outbox messages (one digest per recipient, not one per ticket).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, false, or_, select, update

from app import clock
from app.extensions import db, kv
from app.kv import LockTimeout
from app.models import Community, Estate, OutboxMessage, RoleGrant, StaffUser
from app.models.ticket import CATEGORIES, LEVELS, OPEN_STATUSES, Ticket, TicketEvent

log = logging.getLogger(__name__)

QUIET_START, QUIET_END = 21, 8  # no pushes 21:00–08:00 except urgent ones
# How long past the deadline each level is reached (urgent items climb faster).
LADDER = {1: timedelta(0), 2: timedelta(hours=24), 3: timedelta(hours=72)}
URGENT_LADDER = {1: timedelta(0), 2: timedelta(hours=4), 3: timedelta(hours=12)}
BATCH_SIZE = 1000
UNRATED_CLOSE_DAYS = 7  # a finished ticket nobody rated is closed (销号) after this
LISTED = 8  # ticket numbers named in one digest message


def in_quiet_hours(moment: datetime) -> bool:
    """Whether `moment` falls in the night-time quiet hours (Asia/Shanghai)."""
    hour = clock.localize(moment).hour
    return hour >= QUIET_START or hour < QUIET_END


def push_time(moment: datetime, urgent: bool = False) -> datetime:
    """When a push caused at `moment` may go out: at once, or at 08:00 after quiet hours (urgent: at once)."""
    moment = clock.localize(moment)
    if urgent or not in_quiet_hours(moment):
        return moment
    morning = moment.replace(hour=QUIET_END, minute=0, second=0, microsecond=0)
    return morning if moment.hour < QUIET_END else morning + timedelta(days=1)


@dataclass
class EscalationReport:
    """What one run did: tickets raised per level, digest messages queued, batches, and whether it ran."""

    escalated: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0})
    messages: int = 0
    batches: int = 0
    closed_unrated: int = 0
    skipped: bool = False

    @property
    def total(self) -> int:
        return sum(self.escalated.values())


def run_escalation(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> EscalationReport:
    """Raise every overdue open ticket to the level its lateness calls for; one run at a time across processes."""
    now = clock.localize(now or clock.now())
    report = EscalationReport()
    try:
        # A short lock kept alive while we run: a killed run blocks the next one for a minute, not a quarter hour.
        with kv().lock("tickets:escalate", timeout=60, wait=0, keep_alive=True):
            # Highest level first: a ticket 4 days late goes straight to the street office, in one step.
            for level in (3, 2, 1):
                while _escalate_batch(level, now, batch_size, report):
                    pass
            report.closed_unrated = close_unrated(now)
    except LockTimeout:
        report.skipped = True
    return report


def _due(level: int, now: datetime):
    normal = and_(Ticket.urgent.is_(False), Ticket.deadline <= now - LADDER[level])
    urgent = and_(Ticket.urgent.is_(True), Ticket.deadline <= now - URGENT_LADDER[level])
    return urgent if in_quiet_hours(now) else or_(normal, urgent)


def _escalate_batch(level: int, now: datetime, batch_size: int, report: EscalationReport) -> bool:
    rows = db.session.execute(
        select(Ticket.id, Ticket.number, Ticket.category, Ticket.building_id, Ticket.reopen_count, Ticket.urgent,
               Ticket.handler_id, Estate.community_id, Community.street_id)
        .join(Estate, Estate.id == Ticket.estate_id).join(Community, Community.id == Estate.community_id)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.escalation_level < level, _due(level, now))
        .order_by(Ticket.id).limit(batch_size)).all()
    if not rows:
        return False
    report.batches += 1
    staff = _recipients(level, rows)
    events, digests = [], {}
    for row in rows:
        people = _people_for(level, row, staff)
        names = "、".join(p["name"] for p in people) or "（没有找到负责人，请在台账中指派）"
        events.append({"ticket_id": row.id, "action": "escalate", "actor_type": "system", "level": level,
                       "note": f"超期{LEVELS[level]}：{names}", "key": f"esc:{row.id}:{row.reopen_count}:{level}",
                       "from_status": "", "to_status": "", "created_at": now})
        for person in people:
            if person["openid"]:
                digests.setdefault(person["id"], (person, []))[1].append(row)
    db.session.execute(_insert(TicketEvent).on_conflict_do_nothing(index_elements=["key"]), events)
    db.session.execute(update(Ticket).where(Ticket.id.in_([r.id for r in rows]))
                       .values(escalation_level=level, escalated_at=now), execution_options={"synchronize_session": False})
    messages = [_digest(level, person, tickets, now) for person, tickets in digests.values()]
    if messages:
        db.session.execute(_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"]), messages)
    db.session.commit()
    report.escalated[level] += len(rows)
    report.messages += len(messages)
    return len(rows) == batch_size


def _recipients(level: int, rows) -> dict:
    """Everyone this batch may need, in one query: handlers (level 1), heads and community staff, street office."""
    clauses = []
    if level == 1:
        clauses.append(StaffUser.id.in_({r.handler_id for r in rows if r.handler_id}))
    if level in (1, 2):
        clauses.append(and_(RoleGrant.role == "community_staff", RoleGrant.scope_type == "community",
                            RoleGrant.scope_id.in_({r.community_id for r in rows})))
    if level == 2:
        clauses.append(and_(RoleGrant.role == "building_head", RoleGrant.scope_type == "building",
                            RoleGrant.scope_id.in_({r.building_id for r in rows if r.building_id})))
    if level == 3:
        clauses.append(and_(RoleGrant.role == "street_admin", RoleGrant.scope_type == "street",
                            RoleGrant.scope_id.in_({r.street_id for r in rows})))
    found = db.session.execute(
        select(StaffUser.id, StaffUser.openid, StaffUser.display_name, StaffUser.username, RoleGrant.role,
               RoleGrant.scope_type, RoleGrant.scope_id)
        .outerjoin(RoleGrant, RoleGrant.user_id == StaffUser.id)
        .where(StaffUser.active.is_(True), or_(false(), *clauses))).all()
    by_id, by_scope = {}, {}
    for r in found:
        person = {"id": r.id, "openid": r.openid, "name": r.display_name or r.username}
        by_id[r.id] = person
        if r.role:
            by_scope.setdefault((r.role, r.scope_id), {})[r.id] = person
    return {"by_id": by_id, "by_scope": by_scope}


def _people_for(level: int, row, staff: dict) -> list[dict]:
    scoped = staff["by_scope"]
    community = list(scoped.get(("community_staff", row.community_id), {}).values())
    if level == 1:
        handler = staff["by_id"].get(row.handler_id) if row.handler_id else None
        return [handler] if handler else community  # nobody assigned: the office must assign it
    if level == 2:
        heads = list(scoped.get(("building_head", row.building_id), {}).values()) if row.building_id else []
        return heads + [p for p in community if p not in heads]
    return list(scoped.get(("street_admin", row.street_id), {}).values())


def _digest(level: int, person: dict, tickets: list, now: datetime) -> dict:
    """One outbox row telling a person about all of this batch's tickets at this level."""
    tickets = sorted(tickets, key=lambda r: r.id)
    listed = "；".join(f"{t.number}（{CATEGORIES.get(t.category, '')}）" for t in tickets[:LISTED])
    more = f" 等 {len(tickets)} 件" if len(tickets) > LISTED else ""
    lead = {1: "您负责的工单已超过处理时限", 2: "以下工单超期未办结，已报楼栋长和社区",
            3: "以下工单严重超期，已报街道办"}[level]
    link = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/admin/tickets?overdue=1"
    digest = hashlib.sha1("|".join(f"{t.id}:{t.reopen_count}" for t in tickets).encode()).hexdigest()[:16]
    return {"idempotency_key": f"esc:{person['id']}:{level}:{digest}", "openid": person["openid"],
            "channel": "custom", "kind": "text", "status": "pending", "attempts": 0, "next_attempt_at": now,
            "payload": {"text": f"【超期提醒】{lead}：{listed}{more}。请尽快处理：{link}"},
            "created_at": now, "updated_at": now, "fell_back": False}


def _insert(model):
    """INSERT … ON CONFLICT DO NOTHING for the dialect in use (PostgreSQL or SQLite)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def close_unrated(now: datetime) -> int:
    """Finished tickets nobody rated within UNRATED_CLOSE_DAYS are closed (销号) with a recorded note."""
    cutoff = now - timedelta(days=UNRATED_CLOSE_DAYS)
    ids = list(db.session.scalars(select(Ticket.id).where(Ticket.status == "done", Ticket.done_at <= cutoff)
                                  .limit(BATCH_SIZE)))
    if not ids:
        return 0
    db.session.execute(update(Ticket).where(Ticket.id.in_(ids), Ticket.status == "done")
                       .values(status="closed", closed_at=now), execution_options={"synchronize_session": False})
    db.session.execute(_insert(TicketEvent).on_conflict_do_nothing(index_elements=["key"]), [
        {"ticket_id": i, "action": "close", "from_status": "done", "to_status": "closed", "actor_type": "system",
         "note": f"办结后 {UNRATED_CLOSE_DAYS} 天未评价，自动销号", "key": f"autoclose:{i}", "created_at": now}
        for i in ids])
    db.session.commit()
    return len(ids)


def notify_supervisors(ticket: Ticket, text: str, key: str) -> list[str]:
    """Tell the building's heads and the community staff at once (a reopened ticket); returns their names."""
    estate = ticket.estate
    clauses = [and_(RoleGrant.role == "community_staff", RoleGrant.scope_type == "community",
                    RoleGrant.scope_id == estate.community_id)]
    if ticket.building_id:
        clauses.append(and_(RoleGrant.role == "building_head", RoleGrant.scope_type == "building",
                            RoleGrant.scope_id == ticket.building_id))
    people = db.session.scalars(select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id)
                                .where(StaffUser.active.is_(True), or_(*clauses)).distinct()).all()
    from app.services import outbox

    for person in people:
        if person.openid:
            outbox.enqueue(person.openid, "text", {"text": text}, key=f"{key}:{person.id}",
                           not_before=push_time(clock.now(), ticket.urgent))
    return [p.display_name or p.username for p in people]
