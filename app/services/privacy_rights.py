"""The rights PIPL gives residents: see what Linli holds about them, export it, and delete their account."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import ResidentAccount
from app.services import audit
from app.services.errors import NotFound
from app.services.privacy_erasure import MARKER, erase_account  # noqa: F401  (callers erase through this module)
from app.services.privacy_export import export, fmt

# What erasure removes and what the community keeps, in the words every channel uses.
ERASE_WARNING = ("注销后将删除您的微信标识、房屋绑定、同意记录和还没发出的消息，取消未完成的服务订单，"
                 "您写的报修内容、评价和意见也一并删除。台账上的业主姓名和电话由社区保管，不会删除；"
                 "报修、缴费和表决记录不再和您的微信关联，只保留编号和房号，票数照常计算。")
ERASED = "您的账号已注销：微信标识、房屋绑定和您写的内容已删除。以后需要时可以重新绑定。"
ERASED_PAGE = ("您的微信标识、房屋绑定、同意记录和您写的内容已删除。台账上的业主登记信息由社区保管；"
               "报修、缴费和表决记录只保留编号和房号，不再和您关联。")


def _account(openid: str) -> ResidentAccount:
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if account is None:
        raise NotFound("我们还没有保存您的任何信息。")
    return account


def my_data(openid: str) -> dict:
    """Everything Linli holds about this resident (phones masked), for the /h5/me page, the chat and the export."""
    account = _account(openid)
    data = export(account)
    audit.record("resident", account.id, "view_own_data", "resident_account", account.id)
    db.session.commit()
    return data


def export_data(openid: str) -> dict:
    """The download of /h5/me/export.json: my_data with when it was made, audit-logged as an export."""
    account = _account(openid)
    data = {"导出时间": fmt(clock.now()), **export(account)}
    audit.record("resident", account.id, "export_own_data", "resident_account", account.id)
    db.session.commit()
    return data


def summary_text(openid: str) -> str:
    """A short chat answer to “我的信息”."""
    data = my_data(openid)
    lines = ["您在邻里登记的信息："]
    if data["登记信息"]:
        lines.append(f"姓名：{data['登记信息']['姓名']}  手机：{data['登记信息']['手机号']}")
    rooms = [b for b in data["绑定房屋"] if b["状态"] == "已绑定"]
    lines.append("绑定房屋：" + ("；".join(f"{b['小区']}{b['房屋']}（{b['关系']}）" for b in rooms) if rooms else "无"))
    lines.append("姓名或手机有误，请联系社区更正。回复“注销账号”可删除您的账号。")
    return "\n".join(lines)
