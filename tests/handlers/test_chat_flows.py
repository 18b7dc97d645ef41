"""Dialogue tables of the engine (reports, complaints, switching, clarifying, control words) through respond(),
against the real app, database and key-value store.

Residents have the context a real one has (chat_world.py: 幸福小区 with a building head, a service catalogue and
bound rooms), so each flow runs to its real end: a ticket number BX-/TS-…, an order number FW-…. Home-service
flows are in test_chat_service_flows.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db, kv
from app.handlers.state import TTL_SECONDS
from app.models import Order, Room
from app.models.ticket import Ticket
from chat_world import live_in
from chatkit import bind_account, run_table, send
from factories import make_building, make_estate, make_room, make_unit


def _home(openid: str, world, room_id: int | None = None):
    """A resident bound to 3号楼2单元501 (or the room given)."""
    return bind_account(openid, db.session.get(Room, room_id or world.room501))


def _tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def _orders() -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(select(Order).order_by(Order.id)))


def _unit_number(ticket: Ticket) -> str | None:
    return ticket.unit.number if ticket.unit is not None else None


def test_report_fills_the_place_across_turns_and_records_once_the_estate_is_known(world):
    replies = run_table("o-report", [
        ("楼道灯坏了", "请问是哪栋楼哪个单元"),
        ("3栋2单元", "请确认报修"),
        ("1", "还不知道您是哪个小区"),  # no binding, no scan: nothing is recorded, the flow waits
    ])
    assert "3号楼2单元" in replies[1] and "照明" in replies[1]
    assert _tickets() == [] and kv().get_json("conv:o-report")["step"] == "confirm"
    assert "幸福小区3号楼" in send("o-report", kind="scan", scene=f"b:{world.b3}").text
    replies = run_table("o-report", [("1", "已登记报修，编号 BX-20261123-0001")])
    assert "查进度回复“进度”" in replies[0]
    assert kv().get_json("conv:o-report")["flow"] is None  # only the scanned building stays
    [ticket] = _tickets()
    assert (ticket.building_id, _unit_number(ticket), ticket.category, ticket.description) == (
        world.b3, "2", "lighting", "楼道灯坏了")


def test_report_asks_the_unit_when_only_the_building_is_given(world):
    _home("o-unit", world)
    run_table("o-unit", [
        ("电梯坏了", "地点：3号楼2单元"),  # the bound room's building and unit first
        ("2", "哪栋楼哪个单元"),
        ("三号楼", "3号楼的几单元"),
        ("一单元", "地点：3号楼1单元"),
        ("确认", "已登记报修，编号 BX-20261123-0001"),
    ])
    [ticket] = _tickets()
    assert (ticket.building_id, _unit_number(ticket), ticket.category) == (world.b3, "1", "elevator")


def test_report_started_by_a_bare_request_asks_what_is_wrong(ctx):
    run_table("o-bare", [
        ("我要报修", "哪里坏了"),
        ("小区门口井盖没了", "哪栋楼"),
        ("5号楼", "请确认报修"),
        ("2", "哪栋楼哪个单元"),
        ("6号楼", "6号楼"),
    ])


def test_complaint_dialogue(world):
    _home("o-complaint", world)
    replies = run_table("o-complaint", [
        ("我要投诉", "您要反映什么问题"),
        ("楼上装修噪音太大，天天砸墙", "请确认投诉"),
        ("对", "已登记投诉，编号 TS-20261123-0001"),
    ])
    assert "地点：3号楼2单元" in replies[1] and "噪音" in replies[1]
    [ticket] = _tickets()
    assert (ticket.kind, ticket.category, ticket.building_id) == ("complaint", "noise", world.b3)


def test_complaint_without_binding_asks_the_building(world):
    run_table("o-complaint2", [
        ("我要投诉", "您要反映什么问题"),
        ("楼上装修噪音太大，天天砸墙", "哪栋楼"),
        ("7号楼", "请确认投诉"),
    ])
    send("o-complaint2", kind="scan", scene=f"b:{world.b7}")
    run_table("o-complaint2", [("对", "已登记投诉，编号 TS-20261123-0001")])
    assert _tickets()[0].building_id == world.b7


def test_a_place_given_at_confirmation_corrects_it(world):
    _home("o-fix", world)
    run_table("o-fix", [
        ("楼上天天半夜蹦迪", "地点：3号楼2单元"),
        ("不是这栋，是8栋", "幸福小区没有找到8号楼"),
        ("不是这栋，是4栋", "地点：4号楼"),
        ("1", "已登记投诉，编号 TS-20261123-0001"),
    ])
    [ticket] = _tickets()
    assert (ticket.building_id, ticket.unit_id) == (world.b4, None)


def test_cancel_leaves_the_flow(ctx):
    run_table("o-cancel", [
        ("楼道灯坏了", "哪栋楼"),
        ("算了", "已取消"),
        ("1", "我可以帮您"),
    ])


def test_cancel_at_the_confirmation_records_nothing(world):
    _home("o-cancel2", world)
    run_table("o-cancel2", [("楼道灯坏了", "请确认报修"), ("算了", "已取消"), ("1", "我可以帮您")])
    run_table("o-cancel2", [("我家马桶堵了", "什么时候上门"), ("1", "请确认预约"), ("取消", "已取消"),
                            ("1", "我可以帮您")])
    assert _tickets() == [] and _orders() == []


def test_back_in_a_report_and_at_the_first_step(world):
    _home("o-back2", world)
    run_table("o-back2", [
        ("电梯坏了", "请确认报修"),
        ("2", "哪栋楼哪个单元"),
        ("三号楼", "3号楼的几单元"),
        ("返回", "哪栋楼哪个单元"),
        ("4栋", "4号楼的几单元"),
        ("1", "地点：4号楼1单元"),
        ("1", "已登记报修，编号 BX-20261123-0001"),
    ])
    assert (_tickets()[0].building_id, _unit_number(_tickets()[0])) == (world.b4, "1")
    run_table("o-back2", [("我要报修", "哪里坏了"), ("返回", "已经是第一步了"), ("返回", "已经是第一步了")])
    run_table("o-back2", [("算了", "已取消"), ("返回", "已回到开始")])


def test_clarification_of_home_or_shared_pipes(world):
    _home("o-clarify", world)
    run_table("o-clarify", [
        ("下水道堵了", "您是要：1 报修公共设施 2 预约上门服务"),
        ("2", "请问什么时候上门"),
        ("1", "疏通下水"),
        ("1", "预约成功！订单号 FW-20261123-0001"),
    ])
    replies = run_table("o-clarify", [
        ("下水道堵了", "您是要"),
        ("公共的", "请确认报修"),
        ("1", "已登记报修，编号 BX-20261123-0001"),
    ])
    assert "给排水" in replies[1] and "3号楼2单元" in replies[1]
    assert _orders()[0].item_code == "drain" and _tickets()[0].category == "water"


def test_clarification_without_a_binding_asks_the_building(ctx):
    run_table("o-clarify2", [
        ("下水道堵了", "您是要"),
        ("公共的", "哪栋楼哪个单元"),
        ("9栋1单元", "给排水"),
    ])


def test_an_unrelated_answer_to_the_clarification_is_understood_afresh(world):
    _home("o-clarify3", world)
    replies = run_table("o-clarify3", [
        ("下水道堵了", "您是要"),
        ("物业费怎么交", "交费方式"),
        ("1", "我可以帮您"),  # the clarification is over: "1" no longer picks a report
    ])
    assert "目前没有未缴的费用" in replies[1] and "王楼长" in replies[1]
    assert _tickets() == []


def test_a_clear_new_request_inside_a_flow_switches(world):
    _home("o-switch", world)
    run_table("o-switch", [
        ("楼道灯坏了", "请确认报修"),
        ("投票结果出来没", "您的小区目前没有公示中的方案"),
        ("1", "我可以帮您"),  # the report was left: "1" confirms nothing
    ])
    run_table("o-switch", [("我家马桶堵了", "什么时候上门"), ("物业费还欠多少", "目前没有未缴的费用")])
    assert kv().get("conv:o-switch") is None
    assert _tickets() == [] and _orders() == []


def test_a_clear_new_request_switches_for_an_unbound_resident_too(ctx):
    run_table("o-switch2", [
        ("楼道灯坏了", "哪栋楼"),
        ("投票结果出来没", "需要先绑定房屋"),
        ("1", "我可以帮您"),
    ])


def test_a_non_answer_repeats_the_question(ctx):
    run_table("o-repeat", [
        ("楼道灯坏了", "哪栋楼"),
        ("嗯", "没听明白"),
    ])


def test_negation_does_not_start_a_complaint(ctx):
    replies = run_table("o-neg", [("不是要投诉，就是问问", "")])
    assert "反映什么问题" not in replies[0]


def test_state_is_kept_with_a_ttl(ctx):
    send("o-ttl", "楼道灯坏了")
    left = kv().ttl("conv:o-ttl")
    assert left is not None and 0 < left <= TTL_SECONDS
    assert kv().get_json("conv:o-ttl")["flow"] == "report_issue"


def test_pending_binding_does_not_fill_slots(world):
    live_in("o-pending", world.room501, status="pending")
    run_table("o-pending", [("我家水龙头坏了", "要先绑定房屋")])
    assert kv().get("conv:o-pending") is None
    replies = run_table("o-pending", [("楼道灯坏了", "请问是哪栋楼哪个单元")])
    assert "3号楼" not in replies[0]
    assert "building" not in kv().get_json("conv:o-pending")["slots"]


def test_bound_resident_report_is_prefilled_and_checked_against_the_register(ctx):
    estate = make_estate(name="和平小区")
    room = make_room(make_unit(make_building(estate, "3"), "2"), "501")
    bind_account("o-check", room)
    run_table("o-check", [
        ("楼道灯坏了", "3号楼2单元"),
        ("2", "哪栋楼"),
        ("9栋", "和平小区没有找到9号楼"),
        ("3栋2单元", "请确认"),
    ])


@pytest.mark.parametrize("text,expected", [
    ("物业费还欠多少", "查物业费要先绑定您家的房屋"),
    ("投票结果出来没", "查看小区方案和投票需要先绑定房屋"),
    ("明天停水吗", "绑定房屋后才能看到您楼栋的通知公告"),
    ("我家马桶堵了", "预约上门服务要先绑定房屋"),
    ("开锁多少钱", "请先绑定房屋"),
    ("我报修的灯修好了吗", "您还没有报修、投诉或预约上门服务的记录"),
])
def test_an_unknown_resident_is_told_what_is_needed_first(world, text, expected):
    replies = run_table("o-later", [(text, expected)])
    for claim in ("已登记", "已提交", "已绑定", "已缴费", "已受理", "正在上线准备中"):
        assert claim not in replies[0]
    assert kv().get("conv:o-later") is None


def test_bind_echoes_the_address(ctx):
    run_table("o-bind", [("我是三号楼二单元五零一的", "绑定3号楼2单元501室")])


@pytest.mark.parametrize("text", ["楼道里有股煤气味", "电梯困人了，快来人", "我家着火了"])
def test_danger_comes_with_emergency_numbers_first(ctx, text):
    replies = run_table("o-danger", [(text, "火警119")])
    assert replies[0].startswith("【紧急】")


def test_a_store_failure_after_the_ticket_is_recorded_keeps_the_real_answer(world, monkeypatch):
    """Fault suite finding: Redis dying after the ticket's commit (while saving the conversation) answered
    "please try again", though the report was recorded; the resident's retry then linked it a second time."""
    _home("o-store", world)
    run_table("o-store", [("3号楼2单元楼道灯坏了", "请确认报修")])
    store = kv()

    def gone(*args, **kwargs):
        raise ConnectionError("store went away")

    monkeypatch.setattr(store, "_write_and_release", gone)
    assert "已登记报修" in send("o-store", "1").text
    assert len(_tickets()) == 1
