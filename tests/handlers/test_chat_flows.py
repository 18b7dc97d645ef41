"""Dialogue tables for every flow, driven through respond() against the real app, database and key-value store."""

from __future__ import annotations

import pytest

from app.extensions import kv
from app.handlers.state import TTL_SECONDS
from factories import make_building, make_estate, make_person, make_room, make_unit
from chatkit import bind_account, run_table, send

NOT_RECORDED = "还不能登记"


def test_report_dialogue_runs_to_the_point_of_a_ticket_and_says_it_cannot_be_recorded(ctx):
    replies = run_table("o-report", [
        ("楼道灯坏了", "请问是哪栋楼哪个单元"),
        ("3栋2单元", "请确认报修"),
        ("1", "报修功能正在上线准备中"),
    ])
    assert "3号楼2单元" in replies[1] and "照明" in replies[1]
    assert NOT_RECORDED in replies[2] and "没有生成工单" in replies[2]
    assert kv().get("conv:o-report") is None


def test_report_asks_the_unit_when_only_the_building_is_given(ctx):
    run_table("o-unit", [
        ("电梯坏了", "哪栋楼哪个单元"),
        ("三号楼", "3号楼的几单元"),
        ("二单元", "3号楼2单元"),
        ("确认", NOT_RECORDED),
    ])


def test_report_started_by_a_bare_request_asks_what_is_wrong(ctx):
    run_table("o-bare", [
        ("我要报修", "哪里坏了"),
        ("小区门口井盖没了", "哪栋楼"),
        ("5号楼", "请确认报修"),
        ("2", "哪栋楼哪个单元"),
        ("6号楼", "6号楼"),
    ])


def test_complaint_dialogue(ctx):
    run_table("o-complaint", [
        ("我要投诉", "您要反映什么问题"),
        ("楼上装修噪音太大，天天砸墙", "哪栋楼"),
        ("7号楼", "请确认投诉"),
        ("对", "投诉功能正在上线准备中"),
    ])


def test_home_service_dialogue(ctx):
    replies = run_table("o-service", [
        ("我家马桶堵了", "您家的地址"),
        ("五号楼三零二", "什么时候上门"),
        ("明天下午三点", "请确认上门服务"),
        ("1", "预约功能正在上线准备中"),
    ])
    assert "疏通下水" in replies[2] and "5号楼302室" in replies[2] and "15:00" in replies[2]
    assert "不会有师傅因此上门" in replies[3]


def test_home_service_asks_which_service(ctx):
    run_table("o-which", [
        ("我想预约上门服务", "哪项上门服务"),
        ("4", "您家的地址"),
        ("8号楼1单元301", "什么时候"),
        ("下午", "13:00"),
        ("2", "您家的地址"),
        ("8号楼1单元301", "什么时候"),
        ("尽快", "尽快"),
        ("取消", "已取消"),
    ])


def test_a_place_given_at_confirmation_corrects_it(ctx):
    run_table("o-fix", [
        ("楼上天天半夜蹦迪", "哪栋楼"),
        ("3栋", "请确认投诉"),
        ("不是这栋，是4栋", "地点：4号楼"),
        ("1", "投诉功能正在上线准备中"),
    ])
    run_table("o-fix2", [
        ("明天上午来开锁", "您家的地址"),
        ("5号楼302", "请确认上门服务"),
        ("改到后天下午三点吧", "15:00"),
    ])


def test_home_service_asks_the_door_number_after_the_building(ctx):
    run_table("o-door", [
        ("我家水龙头坏了", "您家的地址"),
        ("三号楼二单元", "哪一户"),
        ("五零一", "什么时候上门"),
        ("周六上午", "3号楼2单元501室"),
    ])


def test_price_questions_are_answered_without_a_flow(ctx):
    run_table("o-price", [("开锁多少钱", "价目表还在整理")])
    assert kv().get("conv:o-price") is None


def test_cancel_leaves_the_flow(ctx):
    run_table("o-cancel", [
        ("楼道灯坏了", "哪栋楼"),
        ("算了", "已取消"),
        ("1", "我可以帮您"),
    ])


def test_back_steps_back(ctx):
    run_table("o-back", [
        ("我家马桶堵了", "您家的地址"),
        ("3号楼2单元501", "什么时候上门"),
        ("返回", "您家的地址"),
        ("4号楼1单元101", "什么时候上门"),
        ("明天上午", "4号楼1单元101室"),
    ])


def test_clarification_of_home_or_shared_pipes(ctx):
    run_table("o-clarify", [
        ("下水道堵了", "您是要：1 报修公共设施 2 预约上门服务"),
        ("2", "您家的地址"),
    ])
    run_table("o-clarify2", [
        ("下水道堵了", "您是要"),
        ("公共的", "哪栋楼哪个单元"),
        ("9栋1单元", "给排水"),
    ])


def test_an_unrelated_answer_to_the_clarification_is_understood_afresh(ctx):
    run_table("o-clarify3", [
        ("下水道堵了", "您是要"),
        ("物业费怎么交", "物业费查询和缴费功能正在上线准备中"),
    ])


def test_a_clear_new_request_inside_a_flow_switches(ctx):
    run_table("o-switch", [
        ("楼道灯坏了", "哪栋楼"),
        ("投票结果出来没", "小区方案和投票功能正在上线准备中"),
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


def test_bound_room_fills_the_service_address(ctx):
    estate = make_estate(name="幸福小区")
    room = make_room(make_unit(make_building(estate, "3"), "2"), "501", owner=make_person())
    bind_account("o-bound", room)
    replies = run_table("o-bound", [
        ("我家水龙头坏了", "什么时候上门"),
        ("后天", "3号楼2单元501室"),
    ])
    assert "您家的地址" not in replies[0]


def test_pending_binding_does_not_fill_slots(ctx):
    room = make_room(make_unit(make_building(make_estate(), "3"), "2"), "501")
    bind_account("o-pending", room, status="pending")
    run_table("o-pending", [("我家水龙头坏了", "您家的地址")])


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
    ("物业费还欠多少", "物业费查询和缴费功能正在上线准备中"),
    ("投票结果出来没", "小区方案和投票功能正在上线准备中"),
    ("明天停水吗", "通知公告功能正在上线准备中"),
    ("我报修的灯修好了吗", "进度查询功能正在上线准备中"),
])
def test_later_capabilities_say_plainly_they_are_being_prepared(ctx, text, expected):
    replies = run_table("o-later", [(text, expected)])
    for claim in ("已登记", "已提交", "已绑定", "已缴费", "已受理"):
        assert claim not in replies[0]


def test_bind_echoes_the_address(ctx):
    run_table("o-bind", [("我是三号楼二单元五零一的", "绑定3号楼2单元501室")])


@pytest.mark.parametrize("text", ["楼道里有股煤气味", "电梯困人了，快来人", "我家着火了"])
def test_danger_comes_with_emergency_numbers_first(ctx, text):
    replies = run_table("o-danger", [(text, "火警119")])
    assert replies[0].startswith("【紧急】")
