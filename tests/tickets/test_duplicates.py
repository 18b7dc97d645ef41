"""Idempotent creation, a resident's repeat report, neighbours' reports linked, incidents, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import StaffUser
from app.models.ticket import Ticket, TicketFollower
from app.services import tickets_flow
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.tickets import LINKED_MESSAGE, add_supplement, create_ticket, my_tickets
from ticket_world import MORNING


def _new(tw, openid="o-res1", **kw):
    fields = dict(openid=openid, kind="report", category="lighting", description="楼道灯不亮", building_id=tw.b1)
    fields.update(kw)
    return create_ticket(**fields)


def _tickets():
    return db.session.scalar(select(func.count(Ticket.id)))


def test_client_key_makes_creation_idempotent(ctx, tw):
    with clock.frozen_at(MORNING):
        first = _new(tw, client_key="msg-123")
        again = _new(tw, client_key="msg-123")
    assert first.outcome == "created" and again.outcome == "repeated"
    assert again.ticket.id == first.ticket.id and _tickets() == 1


def test_same_resident_is_asked_then_can_add_or_confirm_new(ctx, tw):
    with clock.frozen_at(MORNING):
        first = _new(tw).ticket
        clock.advance(timedelta(hours=3))
        asked = _new(tw, description="楼道灯还是不亮")
        assert asked.outcome == "ask_same" and asked.ticket.id == first.id and "是同一个问题吗" in asked.message
        assert _tickets() == 1
        add_supplement("o-res1", first.id, "三楼也不亮了")
        assert first.events[-1].action == "supplement" and first.events[-1].note == "三楼也不亮了"
        separate = _new(tw, description="另一盏灯坏了", confirmed_new=True)
        assert separate.outcome == "created" and _tickets() == 2
        clock.advance(timedelta(hours=30))  # after a day the same report is simply new
        assert _new(tw).outcome == "created"


def test_neighbours_are_linked_to_one_ticket(ctx, tw):
    with clock.frozen_at(MORNING):
        first = _new(tw).ticket
        clock.advance(timedelta(hours=2))
        second = _new(tw, openid="o-neighbour", description="一楼灯坏了", client_key="k2")
        assert second.outcome == "linked" and second.ticket.id == first.id
        assert LINKED_MESSAGE in second.message
        assert _new(tw, openid="o-neighbour", description="一楼灯坏了", client_key="k2").outcome == "linked"
        assert _tickets() == 1
        assert db.session.scalar(select(func.count(TicketFollower.id))) == 1
        assert [t.id for t in my_tickets("o-neighbour")] == [first.id]
        # Accepting tells both.
        tickets_flow.transition(db.session.get(StaffUser, tw.staff["shequ"]), first.id, "accept")
        from app.models import OutboxMessage

        told = set(db.session.scalars(select(OutboxMessage.openid).where(OutboxMessage.payload.is_not(None))))
        assert {"o-res1", "o-neighbour"} <= told
        # Another building, or a different category, is a ticket of its own.
        assert _new(tw, openid="o-res2", building_id=tw.b2).outcome == "created"
        assert _new(tw, openid="o-res3", category="water", description="漏水").outcome == "created"
        clock.advance(timedelta(hours=7))  # beyond the neighbour window
        assert _new(tw, openid="o-res4").outcome == "created"


def test_staff_merge_a_cluster_into_an_incident(ctx, tw):
    with clock.frozen_at(MORNING):
        a = _new(tw, openid="o-a", category="water", description="没水了").ticket
        clock.advance(timedelta(hours=7))
        b = _new(tw, openid="o-b", category="water", description="停水了吗").ticket
        assert a.id != b.id
        with pytest.raises(NotFound):  # another building's head does not even see them
            tickets_flow.merge_incident(db.session.get(StaffUser, tw.staff["lzz2"]), [a.id, b.id])
        with pytest.raises(DomainError, match="至少"):
            tickets_flow.merge_incident(db.session.get(StaffUser, tw.staff["shequ"]), [a.id])
        primary = tickets_flow.merge_incident(db.session.get(StaffUser, tw.staff["shequ"]), [b.id, a.id], "管道检修")
        assert primary.id == a.id and primary.is_incident
        merged = db.session.get(Ticket, b.id)
        assert merged.status == "merged" and merged.merged_into_id == a.id
        assert {f.account.openid for f in primary.followers} == {"o-b"}
        assert {t.id for t in my_tickets("o-b")} == {a.id, b.id}


def test_bad_input_writes_nothing(ctx, tw):
    with clock.frozen_at(MORNING):
        with pytest.raises(DomainError, match="简单说一下"):
            _new(tw, description=" ")
        with pytest.raises(DomainError, match="没有找到这栋楼"):
            _new(tw, building_id=999999)
        with pytest.raises(PermissionDenied, match="绑定"):
            _new(tw, openid="o-stranger", room_id=tw.room1, unit_id=tw.u1)  # not their home
        with pytest.raises(DomainError, match="对不上"):
            _new(tw, room_id=tw.room2)  # room of another building
        assert _new(tw, openid="o-stranger", spot="楼顶").outcome == "created"  # shared area: fine unbound
    assert _tickets() == 1
    assert [t.spot for t in my_tickets("o-stranger")] == ["楼顶"]
    assert my_tickets("o-res1") == []


def test_complaints_are_not_pooled_with_neighbours(ctx, tw):
    with clock.frozen_at(MORNING):
        first = _new(tw, kind="complaint", category="noise", description="楼上302装修太吵").ticket
        second = _new(tw, openid="o-other", kind="complaint", category="noise", description="晚上有人装修")
    assert second.outcome == "created" and second.ticket.id != first.id
    assert my_tickets("o-other") == [second.ticket]
