"""Notices (公告): staff publish to an estate, buildings or units; bound residents there get a template message."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.models import Building, Estate, ResidentAccount, Room, RoomBinding, StaffUser, Unit
from app.models.notice import KINDS, Notice
from app.services import audit, scope
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.escalation import _insert, push_time

MAX_TITLE, MAX_BODY = 60, 2000


def publish_notice(user: StaffUser, estate_id: int, *, kind: str, title: str, body: str,
                   building_ids: list[int] | None = None, unit_ids: list[int] | None = None, urgent: bool = False,
                   valid_until: datetime | None = None, ticket_id: int | None = None) -> Notice:
    """Publish a notice and queue one template message per subscribed bound resident it addresses (one commit)."""
    estate = scope.estate_for(user, estate_id)
    reach = scope.reach(user, estate)
    building_ids = sorted({int(b) for b in building_ids or []})
    unit_ids = sorted({int(u) for u in unit_ids or []})
    if kind not in KINDS:
        raise DomainError("请选择公告类型（停水、停电、检修、活动、紧急）。")
    title, body = " ".join((title or "").split()), (body or "").strip()
    if not title:
        raise DomainError("请填写公告标题。")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise DomainError(f"标题不超过 {MAX_TITLE} 字，正文不超过 {MAX_BODY} 字。")
    if ticket_id is not None:
        from app.models.ticket import Ticket

        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or ticket.estate_id != estate.id:
            raise DomainError("这个事件不属于所选小区。")
    now = clock.now()
    if valid_until is not None and clock.localize(valid_until) <= now:
        raise DomainError("有效期应晚于现在。")
    own = set(db.session.scalars(select(Building.id).where(Building.estate_id == estate.id)))
    unit_buildings = dict(db.session.execute(select(Unit.id, Unit.building_id).where(Unit.id.in_(unit_ids))).all())
    if any(b not in own for b in building_ids) or any(unit_buildings.get(u) not in own for u in unit_ids):
        raise DomainError("所选楼栋或单元不属于这个小区。")
    if not reach.whole:
        # A building head publishes to their own buildings only, never to the whole estate.
        targets = set(building_ids) | {unit_buildings[u] for u in unit_ids}
        if not targets or not targets <= set(reach.building_ids) | _unit_buildings(reach.unit_ids):
            raise PermissionDenied("您只能向自己负责的楼栋发布公告。")
    notice = Notice(estate_id=estate.id, building_ids=building_ids, unit_ids=unit_ids, kind=kind, title=title,
                    body=body, urgent=bool(urgent or kind == "emergency"), published_at=now,
                    valid_until=valid_until, created_by_id=user.id, ticket_id=ticket_id)
    db.session.add(notice)
    db.session.flush()
    notice.recipients = _queue_messages(notice, now)
    audit.record_staff(user, "publish_notice", "notice", notice.id, recipients=notice.recipients)
    db.session.commit()
    return notice


def _unit_buildings(unit_ids) -> set[int]:
    return set(db.session.scalars(select(Unit.building_id).where(Unit.id.in_(sorted(unit_ids)))))


def _queue_messages(notice: Notice, now: datetime) -> int:
    """One template message per subscribed account bound to a room the notice covers (bulk, idempotent keys)."""
    query = (select(ResidentAccount.id, ResidentAccount.openid).join(RoomBinding, RoomBinding.account_id == ResidentAccount.id)
             .join(Room, Room.id == RoomBinding.room_id)
             .where(RoomBinding.status == "bound", ResidentAccount.subscribed.is_(True),
                    Room.estate_id == notice.estate_id).distinct())
    if notice.building_ids or notice.unit_ids:
        query = query.where(or_(Room.building_id.in_(notice.building_ids), Room.unit_id.in_(notice.unit_ids)))
    accounts = db.session.execute(query).all()
    if not accounts:
        return 0
    when = push_time(now, notice.urgent)
    url = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/notices/{notice.id}"
    summary = notice.body if len(notice.body) <= 20 else notice.body[:19] + "…"
    values = {"title": f"【{notice.kind_label}】{notice.title}", "summary": summary or notice.title,
              "time": f"{notice.published_at:%Y-%m-%d %H:%M}", "remark": "点击查看详情", "text": notice.body}
    rows = [{"idempotency_key": f"notice:{notice.id}:{account_id}", "openid": openid, "channel": "template",
             "kind": "template", "payload": {"template": "notice", "url": url, "values": values},
             "status": "pending", "attempts": 0, "next_attempt_at": when, "created_at": now, "updated_at": now,
             "fell_back": False} for account_id, openid in accounts]
    from app.models import OutboxMessage

    db.session.execute(_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"]), rows)
    return len(rows)


def resident_places(openid: str):
    """(estate, building, unit) of each room the resident is bound to."""
    return db.session.execute(
        select(Room.estate_id, Room.building_id, Room.unit_id).join(RoomBinding, RoomBinding.room_id == Room.id)
        .join(ResidentAccount, ResidentAccount.id == RoomBinding.account_id)
        .where(ResidentAccount.openid == openid, RoomBinding.status == "bound")).all()


def _addressed(notice: Notice, places) -> bool:
    return any(p.estate_id == notice.estate_id and notice.covers(p.building_id, p.unit_id) for p in places)


def current_notices_for(openid: str, now: datetime | None = None) -> list[Notice]:
    """The current notices for the buildings and units of the resident's bound rooms, urgent and newest first."""
    now = now or clock.now()
    places = resident_places(openid)
    if not places:
        return []
    notices = db.session.scalars(select(Notice).where(
        Notice.estate_id.in_({p.estate_id for p in places}), Notice.published_at <= now,
        or_(Notice.valid_until.is_(None), Notice.valid_until > now))
        .order_by(Notice.urgent.desc(), Notice.published_at.desc(), Notice.id.desc())).all()
    return [n for n in notices if _addressed(n, places)]


def notice_for_resident(openid: str, notice_id: int) -> Notice:
    """One notice (current or expired, so an old message link still opens) if it addresses the resident's rooms."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or not _addressed(notice, resident_places(openid)):
        raise NotFound()
    return notice


def estate_notices(user: StaffUser, estate_id: int | None = None, limit: int = 50) -> list[Notice]:
    """Notices of the estates a staff member sees, newest first."""
    query = select(Notice).join(Estate, Estate.id == Notice.estate_id).where(
        Estate.id.in_(scope.visible_estates(user).with_only_columns(Estate.id)))
    if estate_id:
        query = query.where(Notice.estate_id == estate_id)
    return list(db.session.scalars(query.order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit)))


def describe_targets(notice: Notice) -> str:
    """'全小区' or '1号楼、2号楼 3单元' — whom a notice addresses, in words."""
    if not notice.building_ids and not notice.unit_ids:
        return "全小区"
    names = [b.name for b in db.session.scalars(select(Building).where(Building.id.in_(notice.building_ids))
                                                .order_by(Building.sort_key))]
    names += [f"{u.building.name}{u.name}" for u in db.session.scalars(select(Unit).where(Unit.id.in_(notice.unit_ids)))]
    return "、".join(names)
