"""The understand() contract: intents, slots, negation, ambiguity, determinism and the labelled data."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import clock
from app.clock import TZ
from app.nlp import CONFIDENCE_THRESHOLD, INTENTS, Understanding, understand

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=TZ)  # a Wednesday

# Messages not in the training data, one or more per intent.
INTENT_CASES = [
    ("3号楼2单元楼道灯坏了好几天了", "report_issue"),
    ("咱楼的电梯又趴窝了，上不去", "report_issue"),
    ("小区化粪池往外冒，臭得很", "report_issue"),
    ("我家厨房下水道堵了能来人吗", "order_service"),
    ("钥匙忘带了，进不去家门，能来开个锁不", "order_service"),
    ("家里空调坏了，想约师傅上门", "order_service"),
    ("楼上天天夜里剁肉，吵得睡不着", "complaint"),
    ("消防通道又被私家车堵死了", "complaint"),
    ("物业费还欠多少", "fee"),
    ("这个季度的物业费在哪交", "fee"),
    ("投票结果出来没", "vote"),
    ("小区的管理方案我在哪能看到", "vote"),
    ("明天小区停电吗", "notice"),
    ("社区最近有啥活动", "notice"),
    ("我上礼拜报修的路灯咋还没人修", "progress"),
    ("我的工单处理到哪了", "progress"),
    ("我是5号楼302的业主", "bind"),
    ("三号楼二单元五零一", "bind"),
    ("我要转人工", "human"),
    ("楼栋长电话多少", "human"),
    ("你好", "greeting"),
    ("谢谢你们啊", "greeting"),
    ("你能做什么", "greeting"),
    ("今天天气怎么样", "other"),
    ("帮我订一张去上海的高铁票", "other"),
    ("asdkjh qwe", "other"),
]


@pytest.mark.parametrize("text,intent", INTENT_CASES)
def test_each_intent(text, intent):
    result = understand(text, now=NOW)
    assert result.intent == intent
    assert result.sure, result


def test_contract_types():
    result = understand("3号楼2单元楼道灯坏了", now=NOW)
    assert isinstance(result, Understanding)
    assert result.intent in INTENTS
    assert isinstance(result.confidence, float) and 0.0 <= result.confidence <= 1.0
    assert isinstance(result.slots, dict)
    assert set(result.slots) <= {"building", "unit", "room", "service", "category", "when"}


def test_every_intent_code_is_reachable():
    assert {intent for _, intent in INTENT_CASES} == set(INTENTS)


@pytest.mark.parametrize("text,expected", [
    ("三号楼二单元五零一", {"building": "3", "unit": "2", "room": "501"}),
    ("五号楼三零二。", {"building": "5", "room": "302"}),
    ("5-2-501", {"building": "5", "unit": "2", "room": "501"}),
    ("我住12栋3单元1101", {"building": "12", "unit": "3", "room": "1101"}),
    ("A栋电梯坏了", {"building": "A"}),
    ("十二号楼楼道灯不亮", {"building": "12"}),
    ("3号楼2门楼道灯坏了", {"building": "3", "unit": "2"}),
    ("二十一号楼幺零二", {"building": "21", "room": "102"}),
    ("我家502马桶堵了", {"room": "502"}),
])
def test_place_slots(text, expected):
    slots = understand(text, now=NOW).slots
    assert {k: slots.get(k) for k in ("building", "unit", "room") if k in slots} == expected


def test_no_place_in_money_or_years():
    slots = understand("物业费一年1200元", now=NOW).slots
    assert "room" not in slots and "building" not in slots


@pytest.mark.parametrize("text,service", [
    ("钥匙丢了想换锁", "unlock"),
    ("我家马桶堵了", "drain"),
    ("家里水龙头一直滴水", "plumbing"),
    ("冰箱不制冷了，能上门修吗", "appliance"),
    ("家里插座没电了", "electrical"),
    ("想找个阿姨来家里打扫卫生", "housekeeping"),
])
def test_service_slot(text, service):
    result = understand(text, now=NOW)
    assert result.intent == "order_service"
    assert result.slots["service"] == service


@pytest.mark.parametrize("text,category", [
    ("楼道灯坏了", "lighting"),
    ("公共水管爆了，楼道全是水", "water"),
    ("楼道电表箱的电线露在外面", "electric"),
    ("电梯坏了", "elevator"),
    ("垃圾好几天没人清运", "sanitation"),
    ("小区的树枝断了挂在那", "greening"),
    ("单元门门禁坏了", "security"),
    ("有人乱停车把路堵了", "parking"),
    ("楼道里的灭火器没了", "fire"),
    ("外墙瓷砖脱落了", "structure"),
    ("楼上装修噪音太大", "noise"),
    ("我要投诉", "other"),
])
def test_category_slot(text, category):
    result = understand(text, now=NOW)
    assert result.intent in ("report_issue", "complaint")
    assert result.slots["category"] == category


@pytest.mark.parametrize("text,expected", [
    ("明天下午三点能来修马桶吗", datetime(2026, 11, 19, 15, 0)),
    ("后天来开锁", datetime(2026, 11, 20, 0, 0)),
    ("周六上午来打扫卫生", datetime(2026, 11, 21, 8, 0)),
    ("下周一来修空调", datetime(2026, 11, 23, 0, 0)),
    ("今晚七点半来换锁", datetime(2026, 11, 18, 19, 30)),
    ("12月3号上午十点来擦玻璃", datetime(2026, 12, 3, 10, 0)),
    ("5号来通下水道", datetime(2026, 12, 5, 0, 0)),
    ("明早8:30来修暖气", datetime(2026, 11, 19, 8, 30)),
])
def test_when_slot(text, expected):
    when = understand(text, now=NOW).slots["when"]
    assert when == expected.replace(tzinfo=TZ)
    assert when.tzinfo is not None and when.utcoffset() == NOW.utcoffset()


def test_when_defaults_to_the_clock():
    with clock.frozen_at(datetime(2026, 1, 31, 9, 0)):
        when = understand("明天下午三点来修马桶").slots["when"]
    assert when == datetime(2026, 2, 1, 15, 0, tzinfo=TZ)


def test_habits_and_greetings_are_not_times():
    assert "when" not in understand("楼上半夜跳绳太吵了", now=NOW).slots
    assert "when" not in understand("早上好", now=NOW).slots
    assert "when" not in understand("楼道灯晚上不亮", now=NOW).slots


def test_negation_rules_out_the_negated_intent():
    assert understand("不是要投诉，就是问问", now=NOW).intent != "complaint"
    result = understand("不是要投诉，就是问问物业费怎么交", now=NOW)
    assert result.intent == "fee"


@pytest.mark.parametrize("text", ["下水道堵了", "下水堵住了，水漫出来了", "漏水了，快来人看看"])
def test_home_or_shared_is_asked(text):
    result = understand(text, now=NOW)
    assert result.needs_choice and not result.sure
    assert set(result.alternatives) == {"report_issue", "order_service"}
    assert result.confidence < CONFIDENCE_THRESHOLD


def test_home_or_shared_named_is_not_asked():
    assert understand("我家厨房下水道堵了", now=NOW).intent == "order_service"
    shared = understand("小区主管道堵了，一楼都返水了", now=NOW)
    assert shared.intent == "report_issue" and shared.sure


@pytest.mark.parametrize("text", ["楼道灯坏了😡😡", "电悌坏了", "物叶费怎么交", "俺家茅房堵了咋整啊", "楼到灯不亮了。"])
def test_emoji_typos_and_colloquial_text(text):
    assert understand(text, now=NOW).sure


def test_empty_and_symbol_only_text():
    assert understand("", now=NOW) == Understanding("other", 0.0, {})
    assert understand("🙂🙂", now=NOW).intent == "other"


@pytest.mark.parametrize("text", ["水", "楼上", "师傅"])
def test_too_short_to_act_on_offers_choices(text):
    result = understand(text, now=NOW)
    assert not result.sure and result.needs_choice
    assert "other" not in result.alternatives and "greeting" not in result.alternatives


@pytest.mark.parametrize("text,intent", [("报修", "report_issue"), ("开锁", "order_service"), ("投票", "vote")])
def test_one_word_commands(text, intent):
    result = understand(text, now=NOW)
    assert result.intent == intent and result.sure


def test_determinism():
    texts = [text for text, _ in INTENT_CASES]
    first = [understand(t, now=NOW) for t in texts]
    second = [understand(t, now=NOW) for t in texts]
    assert first == second
