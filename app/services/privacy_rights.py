"""The rights PIPL gives residents: see what Linli holds about them, export it, and delete their account."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app import clock, privacy
from app.extensions import db, kv
from app.models import Consent, ResidentAccount, RoomBinding
from app.models.person import BINDING_STATUSES, RELATIONS
from app.services import audit
from app.services.errors import NotFound


def _account(openid: str) -> ResidentAccount:
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if account is None:
        raise NotFound("我们还没有保存您的任何信息。")
    return account


def my_data(openid: str) -> dict:
    """Everything Linli holds about this resident, phones masked, for the chat summary and the export."""
    account = _account(openid)
    person = account.person
    bindings = db.session.scalars(select(RoomBinding).where(RoomBinding.account_id == account.id)
                                  .order_by(RoomBinding.id)).all()
    consents = db.session.scalars(select(Consent).where(Consent.account_id == account.id)).all()
    audit.record("resident", account.id, "view_own_data", "resident_account", account.id)
    db.session.commit()
    return {
        "账号": {"关注状态": "已关注" if account.subscribed else "已取消关注",
               "首次关注": _fmt(account.subscribed_at), "最近互动": _fmt(account.last_message_at)},
        "登记信息": ({"姓名": person.name, "手机号": person.masked_phone} if person else None),
        "绑定房屋": [{"房屋": b.room.label, "小区": b.room.estate.name, "关系": RELATIONS.get(b.relation, b.relation),
                  "状态": BINDING_STATUSES.get(b.status, b.status), "时间": _fmt(b.decided_at or b.created_at)}
                 for b in bindings],
        "同意记录": [{"说明版本": c.notice_version, "同意时间": _fmt(c.accepted_at)} for c in consents],
    }


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


def erase_account(openid: str) -> None:
    """Delete an account: unbind, erase name and phone, pseudonymise the rest (ballots and payments still count)."""
    account = _account(openid)
    now = clock.now()
    for binding in db.session.scalars(select(RoomBinding).where(RoomBinding.account_id == account.id,
                                                                RoomBinding.status.in_(["bound", "pending"]))):
        binding.status, binding.decided_at = "unbound", now
    person = account.person
    if person is not None:
        # The person row stays (ownership, ballots, payments point at it) with nothing that names them.
        person.name = f"已注销用户{person.id}"
        person.set_phone(None)
        person.erased_at = now
    pseudonym = "erased-" + hashlib.sha256(privacy.keyed_hash("openid|" + openid).encode()).hexdigest()[:24]
    account.openid = pseudonym
    account.subscribed = False
    account.last_message_at = None
    kv().delete(f"conv:{openid}")
    audit.record("resident", account.id, "erase_account", "resident_account", account.id)
    db.session.commit()


def _fmt(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""
