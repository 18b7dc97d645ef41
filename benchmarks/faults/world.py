"""Data for the fault scripts, written with Linli's own services: residents, staff on WeChat, notices, tickets, and
the reconciliation of the outbox with what the offline WeChat received."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import insert, select, update


def bind_residents(stack, count: int, prefix: str = "fault-r-") -> list[str]:
    """`count` subscribed resident accounts bound to rooms of the demo's 幸福里小区 (round robin)."""
    from app import clock
    from app.extensions import db
    from app.models import Estate, ResidentAccount, Room, RoomBinding
    from app.services.demo import OLD_ESTATE

    openids = [f"{prefix}{i}" for i in range(count)]
    with stack.app.app_context():
        rooms = db.session.scalars(select(Room.id).join(Estate, Room.estate_id == Estate.id)
                                   .where(Estate.name == OLD_ESTATE).order_by(Room.id)).all()
        for i, openid in enumerate(openids):
            account = ResidentAccount(openid=openid, subscribed=True)
            db.session.add(account)
            db.session.flush()
            db.session.add(RoomBinding(account_id=account.id, room_id=rooms[i % len(rooms)], relation="owner",
                                       status="bound", method="demo", decided_at=clock.now()))
        db.session.commit()
        db.session.remove()
    return openids


def subscribers(stack) -> list[str]:
    """Every subscribed resident account (they must follow the account on the offline WeChat too)."""
    return [row[0] for row in stack.sql("select openid from resident_accounts where subscribed order by id")]


def link_staff(stack) -> list[str]:
    """Give every demo staff member a WeChat openid (they receive escalation digests); returns the openids."""
    stack.sql("update staff_users set openid = 'staff-' || username where openid is null")
    return [row[0] for row in stack.sql("select openid from staff_users where openid like 'staff-%'")]


def publish_urgent_notice(stack, title: str) -> tuple[str, int]:
    """Community staff publish an emergency notice to 幸福里小区: one template message per bound subscriber.
    Returns the LIKE pattern of its outbox keys and how many were queued."""
    from app.extensions import db
    from app.models import Estate, StaffUser
    from app.services.demo import OLD_ESTATE
    from app.services.notices import publish_notice

    with stack.app.app_context():
        staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "shequ"))
        estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
        notice = publish_notice(staff, estate.id, kind="emergency", title=title, body=f"{title}，请留意。")
        found = (f"notice:{notice.id}:%", notice.recipients)
        db.session.remove()
    return found


def enqueue_texts(stack, openids: list[str], per_resident: int, tag: str) -> int:
    """Customer-service texts through the outbox (one commit); the text carries the idempotency key."""
    from app.extensions import db
    from app.services import outbox

    with stack.app.app_context():
        for n in range(per_resident):
            for openid in openids:
                key = f"{tag}:{openid}:{n}"
                outbox.enqueue(openid, "text", {"text": f"测试消息 {key}"}, key=key)
        db.session.commit()
        db.session.remove()
    return len(openids) * per_resident


FAULT_TICKETS = "BX-FAULT-%"


def overdue_tickets(stack, count: int) -> dict[int, int]:
    """`count` urgent open tickets past their deadline by 1 h, 5 h and 13 h (escalation levels 1, 2, 3 at once,
    even in the night's quiet hours); returns how many tickets are due at each level.

    The demo's own open tickets are taken off the ladder first (their level set to the top): depending on the hour,
    some of them are overdue too, and they would share the digests this check counts.
    """
    from app import clock
    from app.extensions import db
    from app.models import Building, Estate
    from app.models.ticket import LEVELS, OPEN_STATUSES, Ticket

    from app.services.demo import OLD_ESTATE

    now = clock.now()
    lateness = {1: timedelta(hours=1), 2: timedelta(hours=5), 3: timedelta(hours=13)}
    with stack.app.app_context():
        db.session.execute(update(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).values(escalation_level=max(LEVELS)))
        estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
        buildings = db.session.scalars(select(Building.id).where(Building.estate_id == estate.id)).all()
        rows = []
        for i in range(count):
            level = i % 3 + 1
            rows.append({"number": f"BX-FAULT-{i:06d}", "kind": "report", "category": "lighting",
                         "description": "楼道灯不亮", "estate_id": estate.id, "building_id": buildings[i % len(buildings)],
                         "urgent": True, "status": "new", "deadline": now - lateness[level], "source": "staff",
                         "created_at": now - lateness[level] - timedelta(hours=4)})
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Ticket), rows[start:start + 5000])
        db.session.commit()
        db.session.remove()
    return Counter(i % 3 + 1 for i in range(count))


def fault_escalations(stack) -> int:
    """Escalation events of the tickets this check set up."""
    return stack.sql("select count(*) from ticket_events e join tickets t on t.id = e.ticket_id "
                     "where e.action = 'escalate' and t.number like :fault", fault=FAULT_TICKETS)[0][0]


def escalation_evidence(stack, due: dict[int, int]) -> tuple[bool, bool, int]:
    """Whether every set-up ticket reached its level with exactly one event per level, whether every one is in
    exactly one digest per recipient and level, and how many digests were queued — counting only what was set up."""
    levels = dict(stack.sql("select escalation_level, count(*) from tickets where number like :fault "
                            "group by escalation_level", fault=FAULT_TICKETS))
    events = stack.sql("select count(*), count(distinct e.ticket_id || ':' || e.level) from ticket_events e "
                       "join tickets t on t.id = e.ticket_id where e.action = 'escalate' and t.number like :fault",
                       fault=FAULT_TICKETS)[0]
    digests = digest_counts(stack)
    ladder_ok = levels == dict(due) and events[0] == events[1] == sum(due.values())
    return ladder_ok, digests == _expected_digests(stack), len(digests)


def _expected_digests(stack) -> Counter:
    """Who must hear about each level in 幸福里: community staff (1, 2), building heads of the tickets' buildings (2),
    the street office (3) — counted per recipient as the number of set-up tickets."""
    expected = Counter()
    levels = stack.sql("select u.id, g.role, t.escalation_level, count(t.id) from staff_users u "
                       "join role_grants g on g.user_id = u.id join tickets t on t.number like :fault and ("
                       " (g.role = 'community_staff' and t.escalation_level in (1, 2)) or"
                       " (g.role = 'building_head' and g.scope_type = 'building' and g.scope_id = t.building_id"
                       "  and t.escalation_level = 2) or (g.role = 'street_admin' and t.escalation_level = 3)) "
                       "where u.openid is not null group by u.id, g.role, t.escalation_level", fault=FAULT_TICKETS)
    for person, _role, level, count in levels:
        expected[(str(person), level)] += count
    return expected


def delivered(stack) -> tuple[Counter, Counter]:
    """How often the offline WeChat received each outbox row (by idempotency key), and entries matching no row."""
    from app.services.outbox import client_msg_id

    rows = stack.sql("select idempotency_key, openid, payload from outbox_messages")
    by_cmid = {client_msg_id(key): key for key, _, _ in rows}
    by_text = {(openid, (payload or {}).get("text")): key for key, openid, payload in rows}
    counts, strays = Counter(), Counter()
    for entry in stack.sent_log():
        body = entry["body"]
        if entry["channel"] == "template" and body.get("client_msg_id") in by_cmid:
            counts[by_cmid[body["client_msg_id"]]] += 1
        elif entry["channel"] == "custom" and (entry["touser"], body.get("text", {}).get("content")) in by_text:
            counts[by_text[(entry["touser"], body["text"]["content"])]] += 1
        else:
            strays[entry["channel"]] += 1
    return counts, strays


def outbox_status(stack, keys: str = "%") -> Counter:
    """Outbox rows per status, for the idempotency keys matching the LIKE pattern `keys`."""
    return Counter(dict(stack.sql("select status, count(*) from outbox_messages where idempotency_key like :keys "
                                  "group by status", keys=keys)))


def wait_outbox(stack, timeout: float, keys: str = "%", age_stale_claims: bool = True) -> tuple[float, int]:
    """Wait until no row matching `keys` is pending or being sent; returns the seconds waited and claims aged.

    A row left in `sending` by a killed sender is only recovered after the outbox's claim timeout (2 min): with
    `age_stale_claims` its claim is moved 3 minutes into the past instead of waiting, as if the time had passed.
    """
    started, aged = time.monotonic(), set()
    while time.monotonic() - started < timeout:
        status = outbox_status(stack, keys)
        if not status["pending"] and not status["sending"]:
            break
        if status["sending"] and age_stale_claims and time.monotonic() - started > 10:
            aged |= {row[0] for row in stack.sql(
                "update outbox_messages set claimed_at = claimed_at - interval '3 minutes' where status = 'sending' "
                "and claimed_at < now() - interval '5 seconds' and idempotency_key like :keys returning id", keys=keys)}
        time.sleep(1.0)
    return time.monotonic() - started, len(aged)


def digest_counts(stack) -> Counter:
    """Tickets named per (recipient, level) across all escalation digests ("… 等 N 件" or the listed numbers)."""
    counts = Counter()
    for key, payload in stack.sql("select idempotency_key, payload from outbox_messages where idempotency_key like 'esc:%'"):
        _, person, level, _ = key.split(":")
        text = (json.loads(payload) if isinstance(payload, str) else payload)["text"]  # SQLite gives the JSON text
        found = re.search(r"等 (\d+) 件", text)
        counts[(person, int(level))] += int(found.group(1)) if found else text.count("（")
    return counts
