"""The ticket lifecycle: who may act, assignment, accept → in progress → done → rated (销号), return and reopen."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, false, or_, select

from app import clock
from app.extensions import db
from app.models import Estate, StaffUser, Unit
from app.models.ticket import OPEN_STATUSES, RATINGS, Ticket, TicketEvent, TicketPhoto
from app.services import audit, outbox, scope
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.escalation import notify_supervisors, push_time
from app.services.tickets import StoredPhoto, deadline_for

# Which status each action may start from, and where it leads.
MOVES = {
    "accept": (("new", "returned", "reopened"), "accepted"),
    "start": (("accepted",), "in_progress"),
    "done": (("accepted", "in_progress", "reopened"), "done"),
    "return": (("new", "accepted", "in_progress", "reopened"), "returned"),
    "reopen": (("done", "closed"), "reopened"),
}
ACTION_LABELS = {"create": "登记", "accept": "受理", "start": "开始处理", "done": "办结", "return": "退回",
                 "reopen": "重开", "assign": "指派", "escalate": "超期升级", "rate": "评价", "close": "销号",
                 "follow": "邻居补充反映", "supplement": "补充说明", "merge": "合并为事件", "note": "备注"}
# Roles that dispatch work for a whole area (and so may assign and act on any ticket in it).
MANAGER_ROLES = frozenset({"street_admin", "community_staff", "building_head", "unit_head"})


def _reach(user: StaffUser, estate: Estate) -> scope.Reach | None:
    if db.session.scalar(scope.visible_estates(user).where(Estate.id == estate.id)) is None:
        return None
    return scope.reach(user, estate)


def manages(user: StaffUser | None, ticket: Ticket) -> bool:
    """Whether the user's grants cover the ticket's place (office roles: the estate; heads: their building/unit)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    reach = _reach(user, ticket.estate)
    if reach is None:
        return False
    if reach.whole:
        return True
    return (ticket.building_id in reach.building_ids) or (ticket.unit_id is not None and ticket.unit_id in reach.unit_ids)


def can_act(user: StaffUser | None, ticket: Ticket) -> bool:
    """The handler, or a manager whose scope covers the ticket."""
    return bool(user is not None and ticket.handler_id == user.id and user.is_active) or manages(user, ticket)


def visible_tickets(user: StaffUser) -> Select:
    """The tickets a staff member may see: those in their scope, plus those assigned to them (providers)."""
    clauses = [Ticket.handler_id == user.id]
    if not user.is_active:
        return select(Ticket).where(false())
    for grant in user.grants:
        if grant.role not in MANAGER_ROLES:
            continue
        if grant.scope_type in scope.WHOLE_ESTATE_SCOPES:
            # Per grant: a building grant elsewhere must not widen an office grant, nor the other way round.
            clauses.append(Ticket.estate_id.in_(select(Estate.id).where(scope._estate_clause(grant))))
        elif grant.scope_type == "building":
            clauses.append(Ticket.building_id == grant.scope_id)
        elif grant.scope_type == "unit":
            clauses.append(or_(Ticket.unit_id == grant.scope_id, and_building_of_unit(grant.scope_id)))
    return select(Ticket).where(or_(false(), *clauses))


def and_building_of_unit(unit_id: int):
    """A unit head also sees shared-area tickets of their building that name no unit."""
    return (Ticket.unit_id.is_(None)) & Ticket.building_id.in_(select(Unit.building_id).where(Unit.id == unit_id))


def ticket_for_staff(user: StaffUser, ticket_id: int) -> Ticket:
    """A ticket the user may see; NotFound otherwise (we never say whether it exists)."""
    ticket = db.session.scalar(visible_tickets(user).where(Ticket.id == ticket_id))
    if ticket is None:
        raise NotFound()
    return ticket


def candidates(user: StaffUser, ticket: Ticket) -> list[StaffUser]:
    """Who the ticket can be assigned to: active staff whose grants cover its estate or building, and providers."""
    from app.models import RoleGrant

    estate = ticket.estate
    query = (select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id).where(
        StaffUser.active.is_(True), or_(
            (RoleGrant.scope_type == "community") & (RoleGrant.scope_id == estate.community_id),
            (RoleGrant.scope_type == "estate") & (RoleGrant.scope_id == estate.id),
            (RoleGrant.scope_type == "street") & (RoleGrant.scope_id == estate.community.street_id),
            (RoleGrant.scope_type == "building") & (RoleGrant.scope_id == (ticket.building_id or -1)),
        )).distinct().order_by(StaffUser.id))
    return list(db.session.scalars(query))


def _event(ticket: Ticket, user: StaffUser | None, action: str, before: str, note: str = "",
           photos: list[StoredPhoto] | None = None, media_ids: list[str] | None = None) -> TicketEvent:
    event = TicketEvent(ticket=ticket, action=action, from_status=before, to_status=ticket.status,
                        actor_type="staff" if user else "system", actor_id=user.id if user else None,
                        note=(note or "").strip()[:1000], created_at=clock.now())
    db.session.add(event)
    for stored in photos or []:
        db.session.add(TicketPhoto(ticket=ticket, event=event, path=stored.path, content_type=stored.content_type,
                                   size=stored.size))
    for media_id in media_ids or []:
        db.session.add(TicketPhoto(ticket=ticket, event=event, media_id=media_id))
    return event


def _tell_residents(ticket: Ticket, step: str, text: str) -> None:
    """Tell the reporter and linked neighbours (outbox, quiet hours respected unless urgent)."""
    openids = []
    if ticket.reporter is not None:
        openids.append((ticket.reporter.id, ticket.reporter.openid))
    openids += [(f.account.id, f.account.openid) for f in ticket.followers]
    when = push_time(clock.now(), ticket.urgent)
    for account_id, openid in openids:
        outbox.enqueue(openid, "text", {"text": text}, not_before=when,
                       key=f"ticket:{ticket.id}:{step}:{ticket.reopen_count}:{account_id}")


def rate_url(ticket: Ticket) -> str:
    """The H5 page where the reporter rates a finished ticket."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/tickets/{ticket.id}"


def transition(user: StaffUser, ticket_id: int, action: str, note: str = "", *,
               photos: list[StoredPhoto] | None = None, media_ids: list[str] | None = None) -> Ticket:
    """Move a ticket (accept/start/done/return/reopen) as `user`; refused outside their scope or from a wrong state."""
    ticket = ticket_for_staff(user, ticket_id)
    if not can_act(user, ticket):
        raise PermissionDenied("这件工单不在您的负责范围内。")
    if action not in MOVES:
        raise DomainError("不支持这个操作。")
    allowed, target = MOVES[action]
    if ticket.status not in allowed:
        raise DomainError(f"工单现在是“{ticket.status_label}”，不能{ACTION_LABELS[action]}。")
    if action == "return" and not note.strip():
        raise DomainError("退回请写明原因。")
    if action == "reopen" and not manages(user, ticket):
        raise PermissionDenied("只有社区或楼栋长可以重开工单。")
    before, now = ticket.status, clock.now()
    ticket.status = target
    if action == "accept":
        ticket.handler_id = ticket.handler_id or user.id
        ticket.accepted_at = now
        handler = db.session.get(StaffUser, ticket.handler_id)
        _tell_residents(ticket, "accepted", f"您反映的问题（{ticket.number}）已受理，处理人：{handler.display_name or handler.username}。"
                                            f"预计 {ticket.deadline:%m月%d日 %H:%M} 前处理好。")
    elif action == "done":
        ticket.done_at = now
        _tell_residents(ticket, "done", f"您反映的问题（{ticket.number}）已处理完毕：{note.strip() or '已处理'}。"
                                        f"请回复“满意”“基本满意”或“不满意”，或打开链接评价：{rate_url(ticket)}")
    elif action == "return":
        ticket.handler_id = None  # back to whoever dispatches
    elif action == "reopen":
        _reopen(ticket, now)
    _event(ticket, user, action, before, note, photos, media_ids)
    audit.record_staff(user, f"ticket_{action}", "ticket", ticket.id)
    db.session.commit()
    return ticket


def _reopen(ticket: Ticket, now) -> None:
    ticket.status = "reopened"
    ticket.reopen_count += 1
    ticket.escalation_level = 0
    ticket.rating, ticket.closed_at, ticket.done_at = None, None, None
    ticket.deadline = deadline_for(ticket.estate_id, ticket.category, ticket.urgent, now)


def assign(user: StaffUser, ticket_id: int, handler_id: int, note: str = "") -> Ticket:
    """Give a ticket to a handler (a manager of its place only); the handler is told if they linked WeChat."""
    ticket = ticket_for_staff(user, ticket_id)
    if not manages(user, ticket):
        raise PermissionDenied("只有社区或楼栋长可以指派工单。")
    if ticket.status not in OPEN_STATUSES:
        raise DomainError(f"工单现在是“{ticket.status_label}”，不能指派。")
    handler = db.session.get(StaffUser, handler_id)
    if handler is None or handler not in candidates(user, ticket):
        raise DomainError("这位工作人员不负责这个小区，不能指派给他。")
    before = ticket.status
    ticket.handler_id = handler.id
    _event(ticket, user, "assign", before, f"指派给 {handler.display_name or handler.username}" + (f"：{note}" if note else ""))
    if handler.openid and handler.id != user.id:
        link = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/admin/tickets/{ticket.id}"
        text = (f"您有新的{ticket.kind_label} {ticket.number}：{ticket.where}，{ticket.description[:40]}。"
                f"回复“接单 {ticket.id}”受理，或在后台处理：{link}")
        outbox.enqueue(handler.openid, "text", {"text": text},
                       key=f"ticket:{ticket.id}:assign:{handler.id}:{len(ticket.events)}",
                       not_before=push_time(clock.now(), ticket.urgent))
    audit.record_staff(user, "ticket_assign", "ticket", ticket.id, handler=handler.id)
    db.session.commit()
    return ticket


def rate(openid: str, ticket_id: int, rating: str, comment: str = "") -> Ticket:
    """The reporter rates a finished ticket: 满意/基本满意 close it (销号); 不满意 reopens and escalates it."""
    from app.services.tickets import ticket_for_resident

    ticket = ticket_for_resident(openid, ticket_id)
    if ticket.reporter is None or ticket.reporter.openid != openid:
        raise PermissionDenied("只有反映问题的本人可以评价。")
    if rating not in RATINGS:
        raise DomainError("请选择：满意、基本满意或不满意。")
    if ticket.status != "done":
        raise DomainError("这件事还没有办结，办结后才能评价。" if ticket.is_open else "这件事已经评价过了，谢谢您。")
    before, now = ticket.status, clock.now()
    ticket.rating, ticket.rating_comment = rating, (comment or "").strip()[:500]
    event = TicketEvent(ticket=ticket, action="rate", from_status=before, actor_type="resident",
                        actor_id=ticket.reporter_id, note=f"{RATINGS[rating]}" + (f"：{ticket.rating_comment}"
                                                                                if ticket.rating_comment else ""))
    db.session.add(event)
    if rating == "unsatisfied":
        _reopen(ticket, now)
        ticket.rating = rating  # kept for the red/black list, though the ticket runs again
        names = notify_supervisors(ticket, f"【居民不满意】{ticket.number}（{ticket.where}）已重开，请督促处理。"
                                           f"居民意见：{ticket.rating_comment or '无'}",
                                   key=f"ticket:{ticket.id}:unsatisfied:{ticket.reopen_count}")
        db.session.add(TicketEvent(ticket=ticket, action="escalate", level=2, actor_type="system",
                                   note="居民不满意，已报：" + ("、".join(names) or "（无负责人）"),
                                   key=f"unsatisfied:{ticket.id}:{ticket.reopen_count}"))
    else:
        ticket.status, ticket.closed_at = "closed", now
    event.to_status = ticket.status
    db.session.commit()
    return ticket


def merge_incident(user: StaffUser, ticket_ids: list[int], note: str = "") -> Ticket:
    """Turn a cluster of tickets into one incident: the earliest stays, the others follow it (reporters told)."""
    from app.models.ticket import TicketFollower

    tickets = sorted({ticket_for_staff(user, i) for i in ticket_ids}, key=lambda t: (t.created_at, t.id))
    if len(tickets) < 2:
        raise DomainError("请至少勾选两件工单再合并。")
    if any(not manages(user, t) for t in tickets):
        raise PermissionDenied("有工单不在您的负责范围内，不能合并。")
    if len({t.estate_id for t in tickets}) > 1:
        raise DomainError("只能合并同一个小区的工单。")
    primary, others = tickets[0], tickets[1:]
    if primary.status not in OPEN_STATUSES or any(t.status not in OPEN_STATUSES for t in others):
        raise DomainError("只能合并还没办结的工单。")
    primary.is_incident = True
    followed = {f.account_id for f in primary.followers}
    for other in others:
        before = other.status
        other.status, other.merged_into_id = "merged", primary.id
        _event(other, user, "merge", before, f"并入 {primary.number}")
        for account_id in [other.reporter_id] + [f.account_id for f in other.followers]:
            if account_id and account_id != primary.reporter_id and account_id not in followed:
                db.session.add(TicketFollower(ticket=primary, account_id=account_id, note=other.description))
                followed.add(account_id)
    _event(primary, user, "merge", primary.status,
           f"合并为事件：{'、'.join(t.number for t in others)}" + (f"。{note}" if note else ""))
    audit.record_staff(user, "ticket_merge", "ticket", primary.id, merged=[t.id for t in others])
    db.session.commit()
    return primary


def overdue_clause(now=None):
    """Filter: open and past the deadline."""
    return Ticket.status.in_(OPEN_STATUSES) & (Ticket.deadline <= (now or clock.now()))


def due_soon_clause(now=None, hours: int = 12):
    """Filter: open and due within `hours`."""
    now = now or clock.now()
    return Ticket.status.in_(OPEN_STATUSES) & (Ticket.deadline > now) & (Ticket.deadline <= now + timedelta(hours=hours))

