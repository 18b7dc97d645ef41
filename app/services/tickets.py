"""Creating tickets: validation, readable numbers, deadlines, idempotency, duplicates and neighbours' reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db, kv
from app.models import Building, ResidentAccount, Room, RoomBinding, StaffUser, Unit
from app.models.ticket import (CATEGORIES, DEFAULT_HOURS, OPEN_STATUSES, PREFIXES, TYPES, URGENT_HOURS, Ticket,
                               TicketDeadline, TicketEvent, TicketFollower, TicketPhoto)
from app.services import outbox
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.tickets_photos import StoredPhoto, store_photo, upload_root  # noqa: F401  (re-exported)

SAME_RESIDENT_HOURS = 24  # the same person, category and building within this → "is it the same problem?"
NEIGHBOUR_HOURS = 6  # other residents, same building and category within this → linked to the first report
MAX_DESCRIPTION = 500
MAX_PHOTOS = 6
LINKED_MESSAGE = "已有邻居反映，已为您记录补充"


@dataclass
class CreateResult:
    """What create_ticket did: created, repeated (same client key), linked to a neighbour's, or asks first."""

    outcome: str  # created / repeated / linked / ask_same
    ticket: Ticket
    message: str = ""
    extra: dict = field(default_factory=dict)
    # Read before the commit: touching `ticket` after it reloads the row, and a database that goes away right then
    # must not turn a recorded report into "please try again" (the resident would report it twice).
    number: str = ""
    ticket_id: int | None = None


def _result(outcome: str, ticket: Ticket, message: str) -> CreateResult:
    """A result that carries the ticket's number and id as plain values (call it before committing)."""
    return CreateResult(outcome, ticket, message, number=ticket.number, ticket_id=ticket.id)


def account_for(openid: str) -> ResidentAccount:
    """The resident account of an openid (created when first seen; the caller commits)."""
    from app.services.binding import account_for as _account_for

    return _account_for(openid)


def bound_room_ids(account: ResidentAccount) -> set[int]:
    """Rooms the account is bound to (status bound)."""
    return set(db.session.scalars(select(RoomBinding.room_id).where(RoomBinding.account_id == account.id,
                                                                    RoomBinding.status == "bound")))


def deadline_for(estate_id: int, category: str, urgent: bool, start: datetime) -> datetime:
    """When a ticket of this category is due: the estate's own limit or the default, capped for urgent ones."""
    hours = db.session.scalar(select(TicketDeadline.hours).where(TicketDeadline.estate_id == estate_id,
                                                                 TicketDeadline.category == category))
    hours = hours or DEFAULT_HOURS.get(category, DEFAULT_HOURS["other"])
    if urgent:
        hours = min(hours, URGENT_HOURS)
    return start + timedelta(hours=hours)


def set_deadline_hours(estate_id: int, category: str, hours: int | None) -> None:
    """Set (or with None, clear) an estate's limit for a category (the caller commits)."""
    if category not in CATEGORIES:
        raise DomainError("没有这个类别。")
    row = db.session.scalar(select(TicketDeadline).where(TicketDeadline.estate_id == estate_id,
                                                         TicketDeadline.category == category))
    if hours is None:
        if row is not None:
            db.session.delete(row)
        return
    if not 1 <= hours <= 24 * 60:
        raise DomainError("时限应在 1 小时到 60 天之间。")
    if row is None:
        db.session.add(TicketDeadline(estate_id=estate_id, category=category, hours=hours))
    else:
        row.hours = hours


def _place(building_id: int | None, unit_id: int | None, room_id: int | None, estate_id: int | None):
    """Check that building, unit and room fit together; returns (estate_id, building, unit, room)."""
    building = db.session.get(Building, building_id) if building_id else None
    if building_id and building is None:
        raise DomainError("没有找到这栋楼，请重新扫描楼栋二维码。")
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id and (unit is None or building is None or unit.building_id != building.id):
        raise DomainError("单元和楼栋对不上，请重新选择。")
    room = db.session.get(Room, room_id) if room_id else None
    if room_id and (room is None or building is None or room.building_id != building.id
                    or (unit is not None and room.unit_id != unit.id)):
        raise DomainError("房号和楼栋对不上，请重新选择。")
    if building is not None:
        estate_id = building.estate_id
    if not estate_id:
        raise DomainError("请说明是哪个小区、哪栋楼。")
    return estate_id, building, unit, room


def _next_number(kind: str, now: datetime) -> str:
    """BX-20261125-0007: the day's next number for this type (under a lock, so two creators never collide)."""
    prefix = f"{PREFIXES[kind]}-{now:%Y%m%d}-"
    last = db.session.scalar(select(func.max(Ticket.number)).where(Ticket.number.like(prefix + "%")))
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def _by_client_key(client_key: str | None) -> CreateResult | None:
    if not client_key:
        return None
    ticket = db.session.scalar(select(Ticket).where(Ticket.client_key == client_key))
    if ticket is not None:
        return _result("repeated", ticket, f"已登记，编号 {ticket.number}。")
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.key == f"client:{client_key}"))
    if event is not None:
        return _result("linked", event.ticket, LINKED_MESSAGE + f"（编号 {event.ticket.number}）。")
    return None


def _recent_open(kind: str, category: str, building_id: int | None, since: datetime, *, reporter_id=None,
                 not_reporter_id=None) -> Ticket | None:
    # Your own finished ticket still counts (a repeat of it is asked about); a neighbour's must still be open.
    statuses = OPEN_STATUSES + ("done",) if reporter_id is not None else OPEN_STATUSES
    query = select(Ticket).where(Ticket.kind == kind, Ticket.category == category, Ticket.building_id == building_id,
                                 Ticket.created_at >= since, Ticket.status.in_(statuses))
    if reporter_id is not None:
        query = query.where(Ticket.reporter_id == reporter_id)
    if not_reporter_id is not None:
        query = query.where(or_(Ticket.reporter_id.is_(None), Ticket.reporter_id != not_reporter_id),
                            Ticket.room_id.is_(None))
    return db.session.scalars(query.order_by(Ticket.created_at, Ticket.id).limit(1)).first()


def create_ticket(*, openid: str | None, kind: str, category: str, description: str, building_id: int | None = None,
                  unit_id: int | None = None, room_id: int | None = None, estate_id: int | None = None,
                  spot: str = "", urgent: bool = False, media_ids: list[str] | None = None,
                  uploads: list[StoredPhoto] | None = None, client_key: str | None = None, source: str = "h5",
                  confirmed_new: bool = False, staff: StaffUser | None = None) -> CreateResult:
    """Record a report or complaint in one commit and return its number; repeats and neighbours are folded in."""
    repeated = _by_client_key(client_key)
    if repeated is not None:
        return repeated
    if kind not in TYPES:
        raise DomainError("请选择报修还是投诉。")
    category = category if category in CATEGORIES else "other"
    description = " ".join((description or "").split())
    if len(description) < 2:
        raise DomainError("请简单说一下是什么问题，例如“楼道灯不亮”。")
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(f"描述太长了，请控制在 {MAX_DESCRIPTION} 字以内。")
    photos = [TicketPhoto(media_id=m) for m in (media_ids or [])] + [
        TicketPhoto(path=u.path, content_type=u.content_type, size=u.size) for u in (uploads or [])]
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"照片最多 {MAX_PHOTOS} 张。")
    estate_id, building, unit, room = _place(building_id, unit_id, room_id, estate_id)
    account = account_for(openid) if openid else None
    if room is not None and account is not None and room.id not in bound_room_ids(account):
        raise PermissionDenied("只有绑定了这户的住户才能报户内的问题；公共部位的问题请不选房号。")
    now = clock.now()
    if account is not None and building is not None:
        mine = _recent_open(kind, category, building.id, now - timedelta(hours=SAME_RESIDENT_HOURS),
                            reporter_id=account.id)
        if mine is not None and not confirmed_new:
            result = _result("ask_same", mine, f"您在 {mine.created_at:%m月%d日 %H:%M} 报过“{mine.description[:20]}”"
                             f"（{mine.number}），是同一个问题吗？")
            db.session.commit()  # keeps the new account row, nothing else was written
            return result
        # Only shared-area reports are pooled: a complaint stays the complainant's own (staff may still merge).
        neighbours = None if room is not None or kind != "report" else _recent_open(
            kind, category, building.id, now - timedelta(hours=NEIGHBOUR_HOURS), not_reporter_id=account.id)
        if neighbours is not None and mine is None:
            _follow(neighbours, account, description, photos, client_key)
            result = _result("linked", neighbours, LINKED_MESSAGE + f"（编号 {neighbours.number}）。")
            db.session.commit()
            return result
    with kv().lock(f"tickets:number:{kind}", timeout=10, wait=10):
        ticket = Ticket(number=_next_number(kind, now), kind=kind, category=category, description=description,
                        estate_id=estate_id, building_id=building.id if building else None,
                        unit_id=unit.id if unit else None, room_id=room.id if room else None,
                        spot=(spot or "")[:40], urgent=bool(urgent), reporter_id=account.id if account else None,
                        status="new", deadline=deadline_for(estate_id, category, urgent, now), client_key=client_key,
                        source=source, created_at=now)
        db.session.add(ticket)
        event = TicketEvent(ticket=ticket, action="create", to_status="new",
                            actor_type="staff" if staff else ("resident" if account else "system"),
                            actor_id=staff.id if staff else (account.id if account else None),
                            note=description, created_at=now)
        db.session.add(event)
        for photo in photos:
            photo.ticket, photo.event = ticket, event
            db.session.add(photo)
        db.session.flush()
        _tell_new(ticket)
        result = _result("created", ticket, f"已登记，编号 {ticket.number}。")
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            again = _by_client_key(client_key)
            if again is not None:  # a double submit won the race: answer with its ticket
                return again
            raise
    return result


def _follow(ticket: Ticket, account: ResidentAccount, description: str, photos: list[TicketPhoto],
            client_key: str | None) -> None:
    """Link a neighbour's report to an open ticket: a follower row and a 'follow' event with their words."""
    exists = db.session.scalar(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id,
                                                            TicketFollower.account_id == account.id))
    if exists is None:
        db.session.add(TicketFollower(ticket=ticket, account=account, note=description))
    event = TicketEvent(ticket=ticket, action="follow", from_status=ticket.status, to_status=ticket.status,
                        actor_type="resident", actor_id=account.id, note=description,
                        key=f"client:{client_key}" if client_key else None)
    db.session.add(event)
    for photo in photos:
        photo.ticket, photo.event = ticket, event
        db.session.add(photo)


def add_supplement(openid: str, ticket_id: int, note: str, media_ids: list[str] | None = None,
                   uploads: list[StoredPhoto] | None = None) -> Ticket:
    """The resident said it is the same problem: add their words and photos to their own ticket."""
    ticket = ticket_for_resident(openid, ticket_id)
    event = TicketEvent(ticket=ticket, action="supplement", from_status=ticket.status, to_status=ticket.status,
                        actor_type="resident", actor_id=ticket.reporter_id, note=" ".join((note or "").split())[:500])
    db.session.add(event)
    for photo in [TicketPhoto(media_id=m) for m in (media_ids or [])] + [
            TicketPhoto(path=u.path, content_type=u.content_type, size=u.size) for u in (uploads or [])]:
        photo.ticket, photo.event = ticket, event
        db.session.add(photo)
    db.session.commit()
    return ticket


def _tell_new(ticket: Ticket) -> None:
    """Push a new ticket to the building's heads who linked WeChat (quiet hours respected unless urgent)."""
    from app.models import RoleGrant
    from app.services.escalation import push_time

    if ticket.building_id is None:
        return
    heads = db.session.scalars(select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id).where(
        RoleGrant.role == "building_head", RoleGrant.scope_type == "building",
        RoleGrant.scope_id == ticket.building_id, StaffUser.active.is_(True), StaffUser.openid.is_not(None)))
    link = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/admin/tickets/{ticket.id}"
    for head in heads:
        outbox.enqueue(head.openid, "text", {"text": f"新{ticket.kind_label} {ticket.number}：{ticket.where}，"
                                                     f"{ticket.description[:40]}。回复“接单 {ticket.id}”受理，"
                                                     f"或在后台处理：{link}"},
                       key=f"ticket:{ticket.id}:new:{head.id}", not_before=push_time(clock.now(), ticket.urgent))


def my_tickets(openid: str) -> list[Ticket]:
    """The resident's own tickets and those they were linked to as a neighbour, newest first."""
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if account is None:
        return []
    followed = select(TicketFollower.ticket_id).where(TicketFollower.account_id == account.id)
    return list(db.session.scalars(select(Ticket).where(or_(Ticket.reporter_id == account.id, Ticket.id.in_(followed)))
                                   .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(50)))


def ticket_for_resident(openid: str, ticket_id: int) -> Ticket:
    """A ticket the resident reported or follows; NotFound for anyone else's (they never see other reporters)."""
    ticket = db.session.get(Ticket, ticket_id)
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if ticket is None or account is None:
        raise NotFound()
    if ticket.reporter_id != account.id and all(f.account_id != account.id for f in ticket.followers):
        raise NotFound()
    return ticket
