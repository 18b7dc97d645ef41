"""The ledger lifecycle: create → accept → start → done → rate (销号), its events and outbox messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import OutboxMessage, StaffUser
from app.models.ticket import Ticket, TicketEvent
from app.services import tickets_flow
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.tickets import create_ticket
from ticket_world import MORNING


def _staff(tw, name):
    return db.session.get(StaffUser, tw.staff[name])


def _messages(openid):
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.openid == openid)
                                   .order_by(OutboxMessage.id)))


def test_lifecycle_with_numbers_events_and_messages(ctx, tw):
    with clock.frozen_at(MORNING):
        result = create_ticket(openid="o-res1", kind="report", category="lighting", description="楼道灯不亮",
                               building_id=tw.b1, unit_id=tw.u1, spot="楼道")
        assert result.outcome == "created"
        ticket = result.ticket
        assert ticket.number == "BX-20261124-0001"
        assert ticket.deadline == MORNING + timedelta(hours=72)
        # The building head hears of it at once.
        assert "BX-20261124-0001" in _messages("o-lzz1")[0].payload["text"]
        second = create_ticket(openid="o-res2", kind="complaint", category="noise", description="楼上装修太吵",
                               building_id=tw.b2)
        assert second.ticket.number == "TS-20261124-0001"
        head = _staff(tw, "lzz1")
        tickets_flow.assign(head, ticket.id, tw.staff["fuwu"], "请尽快")
        fuwu = _staff(tw, "fuwu")
        assert "BX-20261124-0001" in _messages("o-fuwu")[0].payload["text"]
        tickets_flow.transition(fuwu, ticket.id, "accept")
        accepted = _messages("o-res1")
        assert len(accepted) == 1 and "已受理" in accepted[0].payload["text"] and "fuwu" in accepted[0].payload["text"]
        tickets_flow.transition(fuwu, ticket.id, "start")
        tickets_flow.transition(fuwu, ticket.id, "done", "已更换灯泡")
        done = _messages("o-res1")[-1].payload["text"]
        assert "已处理完毕：已更换灯泡" in done and f"/h5/tickets/{ticket.id}" in done
        tickets_flow.rate("o-res1", ticket.id, "satisfied", "很快")
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "closed" and ticket.rating_label == "满意" and ticket.closed_at is not None
    actions = [e.action for e in ticket.events]
    assert actions == ["create", "assign", "accept", "start", "done", "rate"]
    assert [e.to_status for e in ticket.events][2:] == ["accepted", "in_progress", "done", "closed"]
    assert ticket.events[2].actor_id == tw.staff["fuwu"]


def test_wrong_state_and_rating_rules(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = create_ticket(openid="o-res1", kind="report", category="water", description="水管漏水",
                               building_id=tw.b1).ticket
        shequ = _staff(tw, "shequ")
        with pytest.raises(DomainError, match="不能开始处理"):
            tickets_flow.transition(shequ, ticket.id, "start")
        with pytest.raises(DomainError, match="还没有办结"):
            tickets_flow.rate("o-res1", ticket.id, "satisfied")
        with pytest.raises(DomainError, match="退回请写明原因"):
            tickets_flow.transition(shequ, ticket.id, "return")
        with pytest.raises(DomainError, match="不能办结"):
            tickets_flow.transition(shequ, ticket.id, "done", "已修好")
        tickets_flow.transition(shequ, ticket.id, "accept")
        tickets_flow.transition(shequ, ticket.id, "done", "已修好")
        with pytest.raises(NotFound):
            tickets_flow.rate("o-res2", ticket.id, "satisfied")  # someone else's ticket
        with pytest.raises(DomainError, match="请选择"):
            tickets_flow.rate("o-res1", ticket.id, "great")


def test_unsatisfied_reopens_and_escalates(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = create_ticket(openid="o-res1", kind="report", category="water", description="水管漏水",
                               building_id=tw.b1).ticket
        shequ = _staff(tw, "shequ")
        tickets_flow.transition(shequ, ticket.id, "accept")
        tickets_flow.transition(shequ, ticket.id, "done", "已修好")
        clock.advance(timedelta(hours=30))
        tickets_flow.rate("o-res1", ticket.id, "unsatisfied", "还在漏")
        ticket = db.session.get(Ticket, ticket.id)
        assert ticket.status == "reopened" and ticket.reopen_count == 1 and ticket.rating == "unsatisfied"
        assert ticket.deadline == clock.now() + timedelta(hours=24)
        texts = [m.payload["text"] for m in _messages("o-lzz1")]
        assert any("居民不满意" in t and "还在漏" in t for t in texts)
        assert any("居民不满意" in m.payload["text"] for m in _messages("o-shequ"))
        escalation = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                                  TicketEvent.action == "escalate")).one()
        assert escalation.level == 2 and "lzz1" in escalation.note
        # The second cycle tells the reporter again.
        tickets_flow.transition(shequ, ticket.id, "accept")
        assert sum("已受理" in m.payload["text"] for m in _messages("o-res1")) == 2


def test_scope_refusals(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = create_ticket(openid="o-res1", kind="report", category="lighting", description="楼道灯不亮",
                               building_id=tw.b1).ticket
        with pytest.raises(NotFound):
            tickets_flow.transition(_staff(tw, "lzz2"), ticket.id, "accept")  # another building's head
        with pytest.raises(NotFound):
            tickets_flow.transition(_staff(tw, "waibu"), ticket.id, "accept")  # another community
        with pytest.raises(NotFound):
            tickets_flow.transition(_staff(tw, "fuwu"), ticket.id, "accept")  # a provider not assigned
        tickets_flow.assign(_staff(tw, "shequ"), ticket.id, tw.staff["fuwu"])
        with pytest.raises(PermissionDenied):  # the assigned provider works on it but cannot dispatch it
            tickets_flow.assign(_staff(tw, "fuwu"), ticket.id, tw.staff["lzz1"])
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "new" and ticket.handler_id == tw.staff["fuwu"]


def test_assign_only_to_staff_of_the_estate(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = create_ticket(openid="o-res1", kind="report", category="lighting", description="楼道灯不亮",
                               building_id=tw.b1).ticket
        with pytest.raises(DomainError, match="不负责这个小区"):
            tickets_flow.assign(_staff(tw, "shequ"), ticket.id, tw.staff["waibu"])
        tickets_flow.assign(_staff(tw, "shequ"), ticket.id, tw.staff["fuwu"])
        fuwu = _staff(tw, "fuwu")
        tickets_flow.transition(fuwu, ticket.id, "return", "不是我们的范围")
        ticket = db.session.get(Ticket, ticket.id)
        assert ticket.status == "returned" and ticket.handler_id is None
        with pytest.raises(NotFound):  # no longer assigned: the provider cannot see it any more
            tickets_flow.transition(fuwu, ticket.id, "accept")


def test_grants_do_not_widen_each_other(ctx, tw):
    from app.models import Building
    from factories import grant

    with clock.frozen_at(MORNING):
        one = create_ticket(openid="o-res1", kind="report", category="lighting", description="一号楼灯坏",
                            building_id=tw.b1).ticket
        two = create_ticket(openid="o-res2", kind="report", category="lighting", description="二号楼灯坏",
                            building_id=tw.b2).ticket
    # Office staff of another community who is also head of building 2 here: building 2 only.
    waibu = _staff(tw, "waibu")
    grant(waibu, "building_head", db.session.get(Building, tw.b2))
    db.session.commit()
    seen = set(db.session.scalars(tickets_flow.visible_tickets(waibu).with_only_columns(Ticket.id)))
    assert seen == {two.id}
    with pytest.raises(NotFound):
        tickets_flow.ticket_for_staff(waibu, one.id)


def test_reporter_is_not_woken_at_night(ctx, tw):
    night = MORNING.replace(hour=22, minute=30)
    with clock.frozen_at(night):
        ticket = create_ticket(openid="o-res1", kind="report", category="water", description="水管漏水",
                               building_id=tw.b1).ticket
        tickets_flow.transition(_staff(tw, "shequ"), ticket.id, "accept")
        message = _messages("o-res1")[0]
        assert message.next_attempt_at == (night + timedelta(days=1)).replace(hour=8, minute=0)
        urgent = create_ticket(openid="o-res2", kind="report", category="fire", description="消防栓漏水",
                               building_id=tw.b2, urgent=True).ticket
        assert urgent.deadline == night + timedelta(hours=12)
        tickets_flow.transition(_staff(tw, "shequ"), urgent.id, "accept")
        assert _messages("o-res2")[0].next_attempt_at == night
