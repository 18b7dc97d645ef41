"""Schedules and bills: period edges (month ends, leap years), integer fen, idempotent generation, refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Estate, Room
from app.models.fee import Bill, FeeSchedule
from app.services import billing
from app.services.errors import DomainError
from fee_world import build

D = Decimal


def schedule(**fields) -> FeeSchedule:
    base = dict(basis="per_area", rate_fen=D("30"), cycle="monthly", starts_on=date(2026, 1, 31), due_days=15,
                vacancy_percent=100)
    base.update(fields)
    return FeeSchedule(**base)


@pytest.mark.parametrize("anchor, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2026, 1, 31), 2, date(2026, 3, 31)),  # anchored, not chained: back to the 31st
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2026, 12, 1), 1, date(2027, 1, 1)),
])
def test_add_months_clamps_to_month_end(anchor, months, expected):
    assert billing.add_months(anchor, months) == expected


def test_monthly_periods_from_a_month_end_never_drift():
    s = schedule(starts_on=date(2028, 1, 31))
    assert billing.period_of(s, 0) == (date(2028, 1, 31), date(2028, 2, 28))
    assert billing.period_of(s, 1) == (date(2028, 2, 29), date(2028, 3, 30))
    assert billing.period_of(s, 2) == (date(2028, 3, 31), date(2028, 4, 29))


@pytest.mark.parametrize("cycle, day, expected", [
    ("quarterly", date(2026, 3, 31), (date(2026, 1, 1), date(2026, 3, 31))),
    ("quarterly", date(2026, 4, 1), (date(2026, 4, 1), date(2026, 6, 30))),
    ("half_yearly", date(2026, 12, 31), (date(2026, 7, 1), date(2026, 12, 31))),
    ("yearly", date(2028, 2, 29), (date(2028, 1, 1), date(2028, 12, 31))),
    ("monthly", date(2026, 2, 28), (date(2026, 2, 1), date(2026, 2, 28))),
])
def test_period_containing(cycle, day, expected):
    assert billing.period_containing(schedule(cycle=cycle, starts_on=date(2026, 1, 1)), day) == expected


def test_period_containing_outside_the_schedule():
    s = schedule(starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30))
    assert billing.period_containing(s, date(2025, 12, 31)) is None
    assert billing.period_containing(s, date(2026, 7, 1)) is None


def test_amounts_are_integer_fen_rounded_once():
    # 0.30 元/㎡/月 × 100.5 ㎡ × 3 months = 90.45 元 exactly; 0.35 × 83.25 × 3 = 87.4125 → 87.41
    assert billing.bill_amount(schedule(cycle="quarterly"), D("100.50")) == 9045
    assert billing.bill_amount(schedule(cycle="quarterly", rate_fen=D("35")), D("83.25")) == 8741
    assert billing.bill_amount(schedule(cycle="monthly", rate_fen=D("35")), D("83.25")) == 2914  # 29.1375 → 29.14
    assert billing.bill_amount(schedule(basis="flat", rate_fen=D("2000"), cycle="yearly"), None) == 24000
    assert billing.bill_amount(schedule(vacancy_percent=50, cycle="quarterly"), D("80"), vacant=True) == 3600
    with pytest.raises(DomainError, match="没有登记建筑面积"):
        billing.bill_amount(schedule(), None)


def test_generation_is_idempotent_and_exact(app):
    with app.app_context():
        world = build()
        s = db.session.get(FeeSchedule, world.schedule_id)
        first = billing.generate_bills(s, date(2026, 2, 10))
        again = billing.generate_bills(s, date(2026, 3, 31))
        assert (first.created, first.existing) == (6, 0)
        assert (again.created, again.existing) == (0, 6)
        bills = db.session.scalars(select(Bill).order_by(Bill.room_id)).all()
        assert {b.amount_fen for b in bills} == {7200, 9045, 5400}
        assert all(isinstance(b.amount_fen, int) for b in bills)
        assert {(b.period_start, b.period_end, b.due_on) for b in bills} == {
            (date(2026, 1, 1), date(2026, 3, 31), date(2026, 1, 16))}
        assert bills[0].title == "2026年1月—3月物业费"


def test_catch_up_generates_every_started_period_once(app):
    with app.app_context():
        build()
        reports = billing.generate_due(date(2026, 7, 1))
        assert [r.created for r in reports] == [6, 6, 6]
        assert [r.created for r in billing.generate_due(date(2026, 7, 2))] == [0, 0, 0]
        assert db.session.scalar(select(func.count(Bill.id))) == 18


def test_room_without_area_refuses_the_whole_period_unless_skipped(app):
    with app.app_context():
        world = build()
        db.session.get(Room, world.rooms["2-201"]).area = None
        db.session.commit()
        s = db.session.get(FeeSchedule, world.schedule_id)
        with pytest.raises(DomainError, match="2号楼1单元201室") as refused:
            billing.generate_bills(s, date(2026, 1, 1))
        assert "未生成任何账单" in refused.value.message
        assert db.session.scalar(select(func.count(Bill.id))) == 0
        done = billing.generate_bills(s, date(2026, 1, 1), skip_missing_area=True)
        assert done.created == 5 and done.missing_area == ["2号楼1单元201室"]


def test_flat_schedule_bills_rooms_without_area(app):
    with app.app_context():
        world = build(schedule=False)
        db.session.get(Room, world.rooms["2-201"]).area = None
        estate = db.session.get(Estate, world.estate_id)
        s = billing.create_schedule(estate, basis="flat", rate_fen=D("2500"), cycle="half_yearly",
                                    starts_on=date(2026, 1, 1))
        assert billing.generate_bills(s, date(2026, 1, 1)).created == 6
        assert set(db.session.scalars(select(Bill.amount_fen))) == {15000}


def test_exemptions_and_vacancy(app):
    with app.app_context():
        world = build()
        s = db.session.get(FeeSchedule, world.schedule_id)
        s.exempt_room_ids = [world.rooms["1-101"]]
        s.vacant_room_ids = [world.rooms["1-102"]]
        s.vacancy_percent = 50
        db.session.commit()
        report = billing.generate_bills(s, date(2026, 1, 1))
        assert (report.created, report.exempt) == (5, 1)
        vacant = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["1-102"]))
        assert vacant.amount_fen == 4523 and vacant.note == "空置房"  # 90.45 / 2 = 45.225 → 45.23


@pytest.mark.parametrize("fields, message", [
    (dict(basis="per_room"), "计费方式"),
    (dict(cycle="weekly"), "缴费周期"),
    (dict(rate_fen=D("0")), "大于0"),
    (dict(rate_fen=D("-5")), "大于0"),
    (dict(due_days=400), "缴费期限"),
    (dict(vacancy_percent=120), "空置房"),
    (dict(late_fee_permille_per_day=D("50")), "违约金"),
])
def test_schedule_refusals(app, fields, message):
    with app.app_context():
        estate = db.session.get(Estate, build(schedule=False).estate_id)
        args = dict(basis="per_area", rate_fen=D("30"), cycle="quarterly", starts_on=date(2026, 1, 1))
        args.update(fields)
        with pytest.raises(DomainError, match=message):
            billing.create_schedule(estate, **args)


def test_a_new_schedule_ends_the_old_one(app):
    with app.app_context():
        world = build()
        estate = db.session.get(Estate, world.estate_id)
        with pytest.raises(DomainError, match="更晚"):
            billing.create_schedule(estate, basis="per_area", rate_fen=D("35"), cycle="quarterly",
                                    starts_on=date(2025, 1, 1))
        billing.create_schedule(estate, basis="per_area", rate_fen=D("35"), cycle="quarterly",
                                starts_on=date(2027, 1, 1))
        assert db.session.get(FeeSchedule, world.schedule_id).ends_on == date(2026, 12, 31)


def test_schedule_from_an_adopted_plan(app):
    with app.app_context():
        estate = db.session.get(Estate, build(schedule=False).estate_id)
        plan = SimpleNamespace(id=7, status="adopted", estate=estate, fee_mode="per_household", fee_amount_fen=2000,
                               fee_cycle="yearly")
        s = billing.schedule_from_plan(plan, date(2027, 1, 1))
        assert (s.basis, s.rate_fen, s.cycle, s.source, s.plan_id) == ("flat", D("2000"), "yearly", "plan", 7)
        assert s.describe == "20.00 元/户/月，按年缴纳"
        with pytest.raises(DomainError, match="表决通过"):
            billing.schedule_from_plan(SimpleNamespace(status="voting"), date(2027, 1, 1))


def test_late_fee_only_when_configured(app):
    with app.app_context():
        world = build()
        s = db.session.get(FeeSchedule, world.schedule_id)
        billing.generate_bills(s, date(2026, 1, 1))
        bill = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["1-101"]))
        assert billing.late_fee(bill, date(2026, 3, 1)) == 0
        s.late_fee_permille_per_day, s.late_fee_cap_percent = D("0.5"), 10
        # 7200 fen × 0.05% × 44 days = 158.4 → 158 fen; capped at 10% = 720
        assert billing.late_fee(bill, date(2026, 3, 1)) == 158
        assert billing.late_fee(bill, date(2027, 3, 1)) == 720


def _linli(app, args):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli

    return CliRunner().invoke(cli, args, obj=ScriptInfo(create_app=lambda: app))


def test_bills_generate_command(app):
    with app.app_context():
        world = build()
        db.session.get(Room, world.rooms["2-201"]).area = None
        db.session.commit()
    refused = _linli(app, ["bills", "generate", "--estate", "幸福里小区", "--date", "2026-02-01"])
    assert refused.exit_code != 0 and "没有登记建筑面积" in refused.output
    done = _linli(app, ["bills", "generate", "--estate", "幸福里小区", "--date", "2026-02-01", "--skip-missing-area"])
    assert done.exit_code == 0 and "新生成 5 张" in done.output and "缺面积跳过 1 户" in done.output
    again = _linli(app, ["bills", "generate", "--date", "2026-02-01", "--skip-missing-area"])
    assert "新生成 0 张，已存在 5 张" in again.output
    assert _linli(app, ["bills", "generate", "--estate", "没有这个小区"]).exit_code != 0
    assert "私信提醒" in _linli(app, ["bills", "remind"]).output
