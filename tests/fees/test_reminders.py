"""The reminder ladder with a frozen clock: private reminders N days after due, every M days up to K, then the
building head (own building only, no phones), then community staff; idempotent; quiet hours; constant queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, func, select

from app import clock
from app.extensions import db
from app.models import OutboxMessage
from app.models.fee import Bill, FeeSchedule, Reminder, ReminderPolicy
from app.services import billing, payments
from app.services.reminders import run_reminders
from fee_world import build

DUE = date(2026, 1, 16)  # Q1 2026 bills are due 15 days after 1 January


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=clock.TZ)


@pytest.fixture
def world(app):
    with app.app_context():
        w = build()
        billing.generate_bills(db.session.get(FeeSchedule, w.schedule_id), date(2026, 1, 1))
        return w


def messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def stages() -> dict[str, int]:
    return dict(db.session.execute(select(Reminder.stage, func.count(Reminder.id)).group_by(Reminder.stage)).all())


def run(day: date, hour: int = 10, **kwargs):
    with clock.frozen_at(at(day, hour)):
        return run_reminders(**kwargs)


def test_the_whole_ladder(app, world):
    with app.app_context():
        assert run(DUE + timedelta(days=6)).messages == 0
        first = run(DUE + timedelta(days=7))
        # bound owners get a private reminder; rooms nobody can reach go to their building head at once
        assert (first.private, first.building_head) == (3, 3)
        sent = messages()
        private = [m for m in sent if m.openid.startswith("o-1-") or m.openid.startswith("o-2-")]
        assert {m.openid for m in private} == {"o-1-101", "o-1-102", "o-2-101"}
        text = next(m.payload["text"] for m in private if m.openid == "o-1-101")
        assert "幸福里小区 1号楼1单元101室" in text and "72.00 元" in text and "如已缴费，请忽略" in text
        head1 = next(m.payload["text"] for m in sent if m.openid == "o-head-1")
        head2 = next(m.payload["text"] for m in sent if m.openid == "o-head-2")
        assert "1号楼1单元201室" in head1 and "2号楼" not in head1  # own building only
        assert "2号楼1单元102室" in head2 and "2号楼1单元201室" in head2 and "1号楼" not in head2
        assert "3个月" in head2 and "1381234" not in head1 + head2  # months and amount, never a phone

        assert run(DUE + timedelta(days=7), hour=15).messages == 0  # the same day again: nothing new
        assert run(DUE + timedelta(days=13)).messages == 0  # M = 7 days not yet passed
        assert run(DUE + timedelta(days=14)).private == 3
        assert run(DUE + timedelta(days=21)).private == 3
        assert stages()["private"] == 9
        third = run(DUE + timedelta(days=28))  # K = 3 reminders done and M days passed: the building head
        assert (third.private, third.building_head) == (0, 3)
        assert run(DUE + timedelta(days=36)).community == 0
        assert run(DUE + timedelta(days=37)).community == 3  # 30 days after the head got the unreachable rooms
        office = [m for m in messages() if m.openid == "o-shequ"]
        assert len(office) == 1 and "3户" in office[0].payload["text"] and "101" not in office[0].payload["text"]
        assert run(DUE + timedelta(days=37), hour=11).messages == 0
        assert run(DUE + timedelta(days=58)).community == 3
        assert stages() == {"private": 9, "building_head": 6, "community": 6}
        assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.seq > 3)) == 0


def test_a_unit_head_gets_only_their_unit(app, world):
    with app.app_context():
        from app.models import Unit
        from factories import make_staff_user, make_unit

        unit = db.session.scalar(select(Unit).where(Unit.building_id == world.buildings["2"]))
        other = make_unit(db.session.get(type(unit.building), world.buildings["2"]), "2")
        head = make_staff_user("dyz", role="unit_head", scope=unit)
        head.openid = "o-unit-head"
        idle = make_staff_user("dyz2", role="unit_head", scope=other)
        idle.openid = "o-idle-head"
        db.session.commit()
        run(DUE + timedelta(days=7))
        texts = {m.openid: m.payload["text"] for m in messages()}
        assert "2号楼1单元102室" in texts["o-unit-head"] and "1号楼" not in texts["o-unit-head"]
        assert "o-idle-head" not in texts  # nothing unpaid in that unit


def test_paid_bills_are_not_reminded(app, world):
    with app.app_context():
        bill = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["1-101"]))
        payments.record_payment(None, bill.id, bill.amount_fen, "cash", client_key="paid")
        before = len(messages())
        run(DUE + timedelta(days=7))
        assert "o-1-101" not in {m.openid for m in messages()[before:]}


def test_quiet_hours_and_disabled_estates(app, world):
    with app.app_context():
        quiet = run(DUE + timedelta(days=7), hour=22)
        assert quiet.messages == 0 and quiet.quiet_estates == [world.estate_id]
        assert run(DUE + timedelta(days=8), hour=7).messages == 0
        db.session.add(ReminderPolicy(estate_id=world.estate_id, first_after_days=3, repeat_every_days=5,
                                      max_private=1, quiet_start_hour=23, quiet_end_hour=6, enabled=False))
        db.session.commit()
        assert run(DUE + timedelta(days=8), hour=22).messages == 0
        db.session.scalar(select(ReminderPolicy)).enabled = True
        db.session.commit()
        assert run(DUE + timedelta(days=8), hour=22).private == 3  # 22:00 is outside this estate's quiet hours


def test_estate_settings_change_the_ladder(app, world):
    with app.app_context():
        db.session.add(ReminderPolicy(estate_id=world.estate_id, first_after_days=3, repeat_every_days=5,
                                      max_private=1, community_after_days=10))
        db.session.commit()
        assert run(DUE + timedelta(days=2)).messages == 0
        assert run(DUE + timedelta(days=3)).private == 3
        assert run(DUE + timedelta(days=8)).building_head == 3  # K = 1: after 5 more days, the head


def test_queries_per_batch_are_constant(app, world):
    """Whatever the batch size, every batch costs the same few statements (reads + bulk writes), never one per row."""
    with app.app_context():
        per_batch: dict[int, list[int]] = {}
        for size in (1, 2, 3, 6):
            seen: list[str] = []
            on_query = lambda *args: seen.append("q")  # noqa: E731
            on_commit = lambda *args: seen.append("|")  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", on_query)
            event.listen(db.session, "after_commit", on_commit)
            try:
                report = run(DUE + timedelta(days=7), batch_size=size)
            finally:
                event.remove(db.engine, "before_cursor_execute", on_query)
                event.remove(db.session, "after_commit", on_commit)
            # one commit per batch, then one for the head and community messages
            chunks = [len(c) for c in "".join(seen).split("|")]
            per_batch[size] = chunks[:report.batches]
            db.session.execute(delete(Reminder))
            db.session.execute(delete(OutboxMessage))
            db.session.commit()
        assert [len(v) for v in per_batch.values()] == [6, 3, 2, 1]
        # the first chunk also holds the run's two setup reads (policies, estate names)
        assert all(chunk <= 6 for v in per_batch.values() for chunk in [v[0] - 2, *v[1:]])
        assert per_batch[6][0] == per_batch[1][0]  # six rooms in one batch cost what one room costs
