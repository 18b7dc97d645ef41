"""The export (/h5/me/export.json) holds every kind of data Linli keeps about the resident, and nobody else's."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.wechat import h5
from privacy_world import (CO_OWNER, CO_OWNER_PHONE, NEIGHBOUR, NEIGHBOUR_REPORT, OPENID, ORDER_COMMENT, OWN_REPORT,
                           PLAN_COMMENT, RATING_COMMENT, SUPPLEMENT, FOLLOW_NOTE, VISIT_NOTE, build)

KINDS = ("账号", "登记信息", "同意记录", "绑定房屋", "绑定申请", "工作人员账号", "报事报修", "补充反映的报修", "服务订单",
         "方案意见", "账单", "缴费记录", "催缴提醒", "上门劝导记录", "表决", "发给您的消息")


@pytest.fixture
def exported(app, client):
    with app.app_context():
        build()
        db.session.remove()
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], OPENID))
    response = client.get("/h5/me/export.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    return response.get_json()


def test_export_holds_every_kind(exported):
    assert [kind for kind in KINDS if not exported.get(kind)] == []
    assert exported["账号"]["微信标识（openid）"] == OPENID
    [ticket] = exported["报事报修"]
    assert ticket["描述"] == OWN_REPORT and ticket["评价意见"] == RATING_COMMENT
    assert SUPPLEMENT in [step["说明"] for step in ticket["处理记录"]]
    assert {p["微信素材"] for p in ticket["照片"]} == {"media-own-1", "media-own-2"}
    assert exported["补充反映的报修"][0]["您的反映"] == FOLLOW_NOTE
    assert ORDER_COMMENT in [o["评价"] for o in exported["服务订单"]]
    assert any(o["付款"] for o in exported["服务订单"])
    assert exported["方案意见"][0]["内容"] == PLAN_COMMENT
    assert exported["上门劝导记录"][0]["记录"] == VISIT_NOTE
    [ballot] = exported["表决"]
    assert ballot["房屋"] == ["5号楼1单元302室"] and ballot["选择"] == "同意" and ballot["回执校验值"]
    assert {m["状态"] for m in exported["发给您的消息"]} >= {"已发送", "待发送"}


def test_export_leaves_out_other_residents(exported):
    text = json.dumps(exported, ensure_ascii=False)
    for other in (CO_OWNER, CO_OWNER_PHONE, "139****1111", "李四", "13700002222", NEIGHBOUR, NEIGHBOUR_REPORT, "反对"):
        assert other not in text, other
    assert "13812345678" not in text and exported["登记信息"] == {"姓名": "张建国", "手机号": "138****5678"}


def test_me_page_counts_and_says_what_erasure_keeps(app, client, exported):
    page = client.get("/h5/me").get_data(as_text=True)
    assert "报修 1 件" in page and "服务订单 2 个" in page
    assert "台账上的业主姓名和电话由社区保管" in page
