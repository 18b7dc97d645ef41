"""Payments with receipts, the monthly XLSX statement, the provider directory and red/black list, 公益岗 hours."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Order, OutboxMessage, Payment, Provider, StaffUser, VolunteerHours
from app.services import orders, providers
from app.services.errors import DomainError, NotFound
from svc_world import NOW

AT = datetime(2026, 11, 24, 10, 0, tzinfo=clock.TZ)


def _user(user_id) -> StaffUser:
    return db.session.get(StaffUser, user_id)


def _done(svc, key: str, item=None, worker=None, when=AT, rating=None, comment="") -> Order:
    worker = worker or svc.worker_a
    with clock.frozen_at(NOW):
        order, _ = orders.place_order("o-zhang", item or svc.unlock, when, client_key=key)
        orders.accept(_user(worker), order.number)
    with clock.frozen_at(when + timedelta(minutes=50)):
        orders.complete(_user(worker), order.number)
        if rating:
            orders.confirm("o-zhang", order.number, rating, comment)
    return db.session.get(Order, order.id)


def test_payment_is_recorded_once_with_a_receipt(ctx, svc):
    order = _done(svc, "p")
    with pytest.raises(NotFound):  # another provider cannot record money for this order
        providers.record_payment(_user(svc.worker_b), order, 5000, "cash")
    with pytest.raises(DomainError, match="付款方式"):
        providers.record_payment(_user(svc.worker_a), order, 5000, "bitcoin")
    with pytest.raises(DomainError, match="大于 0 元"):
        providers.record_payment(_user(svc.worker_a), order, 0, "cash")
    with clock.frozen_at(AT + timedelta(hours=1)):
        payment = providers.record_payment(_user(svc.worker_a), order, 5000, "cash")
    assert (payment.amount_fen, payment.method_label, payment.status) == (5000, "现金", "paid")
    receipt = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"svc:{order.id}:receipt"))
    assert receipt.openid == "o-zhang"
    assert "【收据】订单 FW-20261123-0001" in receipt.payload["text"] and "50元（现金）" in receipt.payload["text"]
    with pytest.raises(DomainError, match="已经登记过收款"):
        providers.record_payment(_user(svc.office), db.session.get(Order, order.id), 5000, "transfer")
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_payment_refused_before_acceptance(ctx, svc):
    with clock.frozen_at(NOW):
        order, _ = orders.place_order("o-zhang", svc.drain, AT, client_key="x")
    with pytest.raises(DomainError, match="不能登记收款"):
        providers.record_payment(_user(svc.office), order, 6000, "cash")


def test_monthly_statement_xlsx_contents(ctx, svc):
    first = _done(svc, "a", rating=5)
    second = _done(svc, "b", item=svc.drain, when=AT + timedelta(hours=2))
    _done(svc, "c", worker=svc.worker_b)  # 老刘开锁's job: not on this statement
    with clock.frozen_at(AT + timedelta(hours=4)):
        providers.record_payment(_user(svc.worker_a), first, 5000, "cash")
        providers.record_payment(_user(svc.worker_a), second, 7550, "wechat_pay")  # parts added on site
    with clock.frozen_at(datetime(2026, 11, 24, 18, 0, tzinfo=clock.TZ)):
        providers.record_hours(_user(svc.office), db.session.get(Provider, svc.provider_a), estate_id=svc.estate,
                               worked_on=date(2026, 11, 20), hours="2.5", task="楼道清扫", rate_yuan="15",
                               room_id=svc.room)
    data = providers.statement_xlsx(db.session.get(Provider, svc.provider_a), "2026-11")
    book = load_workbook(io.BytesIO(data))
    rows = [list(r) for r in book["订单明细"].iter_rows(values_only=True)]
    assert rows[0][0] == "邻家便民维修部 2026-11 菜单式服务对账单"
    assert rows[1] == ["订单号", "完工时间", "服务项目", "地址", "标价(元)", "实收(元)", "付款方式", "评分", "状态"]
    assert rows[2][:8] == [first.number, "2026-11-24 10:50", "开锁", "幸福里小区3号楼2单元501室", 50, 50, "现金", 5]
    assert rows[3][2:7] == ["疏通下水", "幸福里小区3号楼2单元501室", 60, 75.5, "微信支付"]
    assert rows[4][:6] == ["合计 2 单", None, None, None, 110, 125.5]
    assert ["其中 微信支付", 75.5] in [[r[3], r[5]] for r in rows[5:]]
    hours = [list(r) for r in book["公益岗工时"].iter_rows(values_only=True)]
    assert hours[1][:6] == ["2026-11-20", "楼道清扫", 2.5, 15, 37.5, "3号楼2单元501室"]
    assert providers.statement_rows(db.session.get(Provider, svc.provider_a), "2026-10") == []
    with pytest.raises(DomainError, match="月份格式"):
        providers.month_bounds("11月")


def test_directory_figures_and_red_black_list(ctx, svc):
    for index in range(5):
        _done(svc, f"good{index}", when=AT + timedelta(hours=index), rating=5)
    for index in range(2):
        _done(svc, f"bad{index}", worker=svc.worker_b, when=AT + timedelta(hours=6 + index), rating=1,
              comment="态度差")
    with clock.frozen_at(AT + timedelta(days=1)):
        records = {r.provider.name: r for r in providers.directory(_user(svc.office))}
    good, bad = records["邻家便民维修部"], records["老刘开锁"]
    assert (good.orders, good.completed, good.rated, good.average, good.complaints) == (5, 5, 5, 5.0, 0)
    assert good.standing == "red" and good.standing_label == "红榜"
    assert (bad.complaints, bad.recent_complaints, bad.standing_label) == (2, 2, "黑榜")
    assert good.median_hours is not None and good.median_hours > 0
    # Black-listed providers come first in the directory.
    with clock.frozen_at(AT + timedelta(days=1)):
        assert providers.directory(_user(svc.office))[0].provider.name == "老刘开锁"
    # Complaints older than 90 days no longer count for the black list.
    with clock.frozen_at(AT + timedelta(days=120)):
        assert providers.record_for(db.session.get(Provider, svc.provider_b)).standing == "normal"


def test_late_jobs_put_a_provider_on_the_black_list(ctx, svc):
    for index in range(3):
        with clock.frozen_at(NOW):
            order, _ = orders.place_order("o-zhang", svc.unlock, AT + timedelta(hours=index), client_key=f"l{index}")
            orders.accept(_user(svc.worker_b), order.number)
    record = providers.record_for(db.session.get(Provider, svc.provider_b), now=AT + timedelta(days=2))
    assert (record.late, record.standing) == (3, "black")


@pytest.mark.parametrize("hours, day, task, rate, room, message", [
    ("0", date(2026, 11, 20), "扫地", "15", None, "0 到 12 小时"),
    ("13", date(2026, 11, 20), "扫地", "15", None, "0 到 12 小时"),
    ("两小时", date(2026, 11, 20), "扫地", "15", None, "请填数字"),
    ("2", date(2026, 12, 20), "扫地", "15", None, "未来日期"),
    ("2", date(2026, 11, 20), " ", "15", None, "工作内容"),
    ("2", date(2026, 11, 20), "扫地", "-1", None, "不小于 0"),
    ("2", date(2026, 11, 20), "扫地", "15", "foreign", "不在这个小区"),
])
def test_volunteer_hours_refusals(ctx, svc, hours, day, task, rate, room, message):
    with clock.frozen_at(NOW), pytest.raises(DomainError, match=message):
        providers.record_hours(_user(svc.office), db.session.get(Provider, svc.provider_a), estate_id=svc.estate,
                               worked_on=day, hours=hours, task=task, rate_yuan=rate,
                               room_id=svc.foreign_room if room else None)
    assert db.session.scalar(select(func.count(VolunteerHours.id))) == 0


def test_volunteer_credit_rounds_half_up_to_the_fen(ctx, svc):
    with clock.frozen_at(NOW):
        entry = providers.record_hours(_user(svc.office), db.session.get(Provider, svc.provider_a),
                                       estate_id=svc.estate, worked_on=date(2026, 11, 22), hours="1.25",
                                       task="绿化浇水", rate_yuan="12.50", room_id=svc.room)
    assert entry.credit_fen == 1563 and entry.applied_at is None  # 1.25 × 1250 = 1562.5 → 1563


def test_statement_command_and_auto_confirm_job(app, svc, tmp_path):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli

    class Runner:
        @staticmethod
        def invoke(args):
            return CliRunner().invoke(cli, args, obj=ScriptInfo(create_app=lambda: app))

    runner = Runner()
    with app.app_context():
        _done(svc, "cli", rating=4)
    target = tmp_path / "s.xlsx"
    result = runner.invoke(args=["service-statement", "邻家便民维修部", "--month", "2026-11", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "完成 1 单" in result.output
    assert load_workbook(target)["订单明细"]["A3"].value == "FW-20261123-0001"
    missing = runner.invoke(args=["service-statement", "不存在的单位"])
    assert missing.exit_code != 0 and "没有找到服务单位" in missing.output
    bad = runner.invoke(args=["service-statement", "邻家便民维修部", "--month", "十一月"])
    assert bad.exit_code != 0 and "月份格式" in bad.output
    from app.jobs import JOBS

    assert any(job.id == "services.auto_confirm" for job in JOBS)


def test_providers_as_rows_of_the_ticket_ledgers_red_black_list(ctx, svc):
    pytest.importorskip("app.services.tickets_stats")
    for index in range(2):
        _done(svc, f"g{index}", when=AT + timedelta(hours=index), rating=4 + index)
    _done(svc, "m", worker=svc.worker_b, when=AT + timedelta(hours=3), rating=1)
    with clock.frozen_at(NOW):  # booked but not yet due: not counted against anyone
        orders.place_order("o-zhang", svc.drain, AT + timedelta(days=3), client_key="future")
    with clock.frozen_at(AT + timedelta(days=1)):
        rows = {row.name: row for row in providers.board_rows(_user(svc.office))}
    good, bad = rows["邻家便民维修部"], rows["老刘开锁"]
    assert (good.total, good.on_time, good.rated, good.satisfied, good.verdict) == (2, 2, 2, 2, "红榜")
    assert (bad.total, bad.unsatisfied, bad.reopened, bad.verdict) == (1, 1, 1, "黑榜")
