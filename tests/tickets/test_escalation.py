"""The escalation ladder with a frozen clock: handler → heads and community → street; idempotent; quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app import clock
from app.clock import TZ
from app.extensions import db
from app.models import OutboxMessage, StaffUser
from app.models.ticket import Ticket, TicketEvent
from app.services import tickets_flow
from app.services.escalation import push_time, run_escalation
from app.services.tickets import create_ticket
from ticket_world import MORNING


def _texts(openid):
    return [m.payload["text"] for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.openid == openid, OutboxMessage.idempotency_key.like("esc:%"))
        .order_by(OutboxMessage.id))]


def _count():
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def _report(tw, **kw):
    fields = dict(openid="o-res1", kind="report", category="water", description="水管漏水", building_id=tw.b1)
    fields.update(kw)
    return create_ticket(**fields).ticket


def test_ladder_steps_and_idempotency(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = _report(tw)  # water: 24 h
        tickets_flow.assign(db.session.get(StaffUser, tw.staff["shequ"]), ticket.id, tw.staff["fuwu"])
        ticket_id = ticket.id
        assert run_escalation().total == 0  # not yet due
        clock.advance(timedelta(hours=25))  # 1 h late → remind the handler
        first = run_escalation()
        assert first.escalated == {1: 1, 2: 0, 3: 0} and first.messages == 1
        assert "超期提醒" in _texts("o-fuwu")[0] and ticket.number in _texts("o-fuwu")[0]
        before = _count()
        again = run_escalation()
        assert again.total == 0 and again.messages == 0 and _count() == before  # nothing new
        clock.advance(timedelta(hours=24))  # 25 h late → building head and community staff
        assert run_escalation().escalated[2] == 1
        assert ticket.number in _texts("o-lzz1")[0] and ticket.number in _texts("o-shequ")[0]
        assert _texts("o-lzz2") == []  # the other building's head is not involved
        clock.advance(timedelta(hours=48))  # 73 h late → street office
        assert run_escalation().escalated[3] == 1
        assert "街道办" in _texts("o-jiedao")[0]
        assert run_escalation().total == 0
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.escalation_level == 3
    levels = [e.level for e in ticket.events if e.action == "escalate"]
    assert levels == [1, 2, 3]


def test_very_late_ticket_jumps_to_the_level_due(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = _report(tw)
        clock.advance(timedelta(days=5))
        report = run_escalation()
        assert report.escalated == {1: 0, 2: 0, 3: 1}
        assert len(_texts("o-jiedao")) == 1 and _texts("o-fuwu") == []
        assert db.session.get(Ticket, ticket.id).escalation_level == 3


def test_no_handler_reminds_the_community(ctx, tw):
    with clock.frozen_at(MORNING):
        _report(tw)
        clock.advance(timedelta(hours=25))
        run_escalation()
        assert len(_texts("o-shequ")) == 1


def test_quiet_hours_only_urgent(ctx, tw):
    with clock.frozen_at(MORNING):
        normal = _report(tw)
        urgent = _report(tw, openid="o-res2", building_id=tw.b2, category="fire", description="消防栓漏水",
                         urgent=True)
    night = MORNING.replace(hour=22) + timedelta(days=2)
    with clock.frozen_at(night):
        report = run_escalation()
        assert report.total == 1
        assert db.session.get(Ticket, urgent.id).escalation_level > 0
        assert db.session.get(Ticket, normal.id).escalation_level == 0
    with clock.frozen_at(night.replace(hour=8) + timedelta(days=1)):
        assert run_escalation().total >= 1
        assert db.session.get(Ticket, normal.id).escalation_level > 0


def test_reopened_ticket_climbs_again(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = _report(tw)
        shequ = db.session.get(StaffUser, tw.staff["shequ"])
        clock.advance(timedelta(hours=25))
        run_escalation()
        tickets_flow.transition(shequ, ticket.id, "accept")
        tickets_flow.transition(shequ, ticket.id, "done", "修好了")
        tickets_flow.rate("o-res1", ticket.id, "unsatisfied", "没修好")
        clock.advance(timedelta(hours=25))
        assert run_escalation().escalated[1] == 1
        keys = db.session.scalars(select(TicketEvent.key).where(TicketEvent.ticket_id == ticket.id,
                                                                TicketEvent.action == "escalate")).all()
        assert f"esc:{ticket.id}:0:1" in keys and f"esc:{ticket.id}:1:1" in keys


def test_batches_cover_everything(ctx, tw):
    with clock.frozen_at(MORNING):
        for n in range(7):
            _report(tw, openid=f"o-x{n}", description=f"漏水{n}", building_id=tw.b1 if n % 2 else tw.b2,
                    category="water" if n < 4 else "electric", confirmed_new=True)
        clock.advance(timedelta(hours=25))
        report = run_escalation(batch_size=3)
        # Neighbours within hours were linked, so fewer tickets than reports.
        open_tickets = db.session.scalar(select(func.count(Ticket.id)))
        assert report.escalated[1] == open_tickets and report.batches >= 2
        assert run_escalation(batch_size=3).total == 0


def test_push_time_quiet_hours():
    assert push_time(datetime(2026, 11, 24, 22, 30, tzinfo=TZ)) == datetime(2026, 11, 25, 8, 0, tzinfo=TZ)
    assert push_time(datetime(2026, 11, 24, 6, 0, tzinfo=TZ)) == datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    assert push_time(datetime(2026, 11, 24, 12, 0, tzinfo=TZ)) == datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
    assert push_time(datetime(2026, 11, 24, 23, 0, tzinfo=TZ), urgent=True).hour == 23


def test_unrated_done_ticket_is_closed_after_a_week(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = _report(tw)
        shequ = db.session.get(StaffUser, tw.staff["shequ"])
        tickets_flow.transition(shequ, ticket.id, "accept")
        tickets_flow.transition(shequ, ticket.id, "done", "修好了")
        clock.advance(timedelta(days=8))
        assert run_escalation().closed_unrated == 1
        assert run_escalation().closed_unrated == 0
    assert db.session.get(Ticket, ticket.id).status == "closed"
