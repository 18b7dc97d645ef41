"""The personal-data export (PIPL Art. 45): everything Linli holds about one resident, nothing about anyone else."""

from __future__ import annotations

from sqlalchemy import or_, select

from app.models import (Ballot, Bill, BindingRequest, Consent, FeePayment, Order, OutboxMessage, PlanComment,
                        ResidentAccount, Room, RoomBinding, StaffUser, Ticket, TicketFollower, Visit, Vote)
from app.extensions import db
from app.models.fee import BILL_STATUSES, PAYMENT_KINDS, PAYMENT_METHODS, REMINDER_STAGES, Reminder
from app.models.outbox import CHANNELS, STATUSES as MESSAGE_STATUSES
from app.models.person import BINDING_STATUSES, RELATIONS
from app.models.service import PAYMENT_METHODS as ORDER_PAYMENT_METHODS
from app.models.vote import BALLOT_CHANNELS, CHOICE_LABELS
from app.services.billing import yuan
from app.services.tickets_flow import ACTION_LABELS

# The steps of a ticket a resident sees on its page, and those whose note they see (as /h5/tickets shows them).
SHOWN_STEPS = ("create", "accept", "start", "done", "rate", "reopen", "return", "merge")
SHOWN_NOTES = ("done", "return", "rate")


def export(account: ResidentAccount) -> dict:
    """The full export, grouped by kind; phones masked, other residents' words and contacts left out."""
    owned = _fee_rooms(account)
    return {
        "账号": {"微信标识（openid）": account.openid, "关注状态": "已关注" if account.subscribed else "已取消关注",
               "首次关注": fmt(account.subscribed_at), "取消关注": fmt(account.unsubscribed_at),
               "最近互动": fmt(account.last_message_at), "建立时间": fmt(account.created_at)},
        "登记信息": _register(account),
        "同意记录": [{"说明版本": c.notice_version, "同意时间": fmt(c.accepted_at), "方式": c.channel}
                 for c in _rows(Consent, Consent.account_id == account.id)],
        "绑定房屋": [_binding(b) for b in _rows(RoomBinding, RoomBinding.account_id == account.id)],
        "绑定申请": [{"房屋": r.room.label, "关系": RELATIONS.get(r.relation, r.relation), "填写的姓名": r.claimed_name,
                  "手机后四位": r.phone_last4, "状态": r.status, "提交时间": fmt(r.created_at),
                  "处理时间": fmt(r.decided_at)} for r in _rows(BindingRequest, BindingRequest.account_id == account.id)],
        "工作人员账号": [{"用户名": u.username, "姓名": u.display_name}
                   for u in _rows(StaffUser, StaffUser.openid == account.openid)],
        "报事报修": [_ticket(t, account) for t in _rows(Ticket, Ticket.reporter_id == account.id)],
        "补充反映的报修": [_followed(f) for f in _rows(TicketFollower, TicketFollower.account_id == account.id)],
        "服务订单": [_order(o) for o in _rows(Order, Order.account_id == account.id)],
        "方案意见": [{"方案": c.plan.title if c.plan else "", "时间": fmt(c.created_at), "内容": c.text}
                 for c in _rows(PlanComment, PlanComment.account_id == account.id)],
        "账单": [_bill(b) for b in _rows(Bill, Bill.room_id.in_(owned))],
        "缴费记录": [_payment(p) for p in _rows(FeePayment, FeePayment.room_id.in_(owned))],
        "催缴提醒": [{"账单": r_bill.title, "房屋": r_bill.room.label, "方式": REMINDER_STAGES.get(r.stage, r.stage),
                  "时间": fmt(r.sent_at)} for r, r_bill in db.session.execute(
                      select(Reminder, Bill).join(Bill, Bill.id == Reminder.bill_id)
                      .where(Bill.room_id.in_(owned)).order_by(Reminder.id)).all()],
        "上门劝导记录": [{"房屋": v.room.label, "时间": fmt(v.created_at), "记录": v.note,
                    "约定缴费日期": v.promised_on.isoformat() if v.promised_on else ""}
                   for v in _rows(Visit, Visit.room_id.in_(owned))],
        "表决": [_ballot(b, account) for b in _rows(Ballot, _ballots_of(account))],
        "发给您的消息": [{"时间": fmt(m.created_at), "方式": CHANNELS.get(m.channel, m.channel),
                    "状态": MESSAGE_STATUSES.get(m.status, m.status), "内容": message_text(m.payload)}
                   for m in _rows(OutboxMessage, OutboxMessage.openid == account.openid)],
    }


def _rows(model, clause) -> list:
    return list(db.session.scalars(select(model).where(clause).order_by(model.id)))


def _fee_rooms(account: ResidentAccount) -> list[int]:
    """Rooms whose bills are the resident's to see: bound as owner or family (tenants see none, as on /h5/fees)."""
    return list(db.session.scalars(select(RoomBinding.room_id).where(
        RoomBinding.account_id == account.id, RoomBinding.status == "bound",
        RoomBinding.relation.in_(("owner", "family")))))


def _ballots_of(account: ResidentAccount):
    """Ballots this account cast, and the counted ballot of the owner it is bound as (a paper one too)."""
    mine = [Ballot.account_id == account.id]
    if account.person_id is not None:
        mine.append(Ballot.person_id == account.person_id)
    return or_(*mine)


def _register(account: ResidentAccount) -> dict | None:
    person = account.person
    return {"姓名": person.name, "手机号": person.masked_phone} if person else None


def _binding(b: RoomBinding) -> dict:
    return {"房屋": b.room.label, "小区": b.room.estate.name, "关系": RELATIONS.get(b.relation, b.relation),
            "状态": BINDING_STATUSES.get(b.status, b.status), "方式": b.method, "时间": fmt(b.decided_at or b.created_at)}


def _ticket(t: Ticket, account: ResidentAccount) -> dict:
    steps = [{"时间": fmt(e.created_at), "步骤": ACTION_LABELS.get(e.action, e.action),
              "说明": e.note if (e.action in SHOWN_NOTES or _own(e, account)) else ""}
             for e in t.events if e.action in SHOWN_STEPS or _own(e, account)]
    photos = [{"时间": fmt(p.created_at), "微信素材": p.media_id or "", "文件": p.path or ""} for p in t.photos
              if p.event is None or p.event.action in SHOWN_STEPS or _own(p.event, account)]
    return {"编号": t.number, "类型": t.kind_label, "类别": t.category_label, "位置": t.where, "描述": t.description,
            "状态": t.status_label, "提交时间": fmt(t.created_at), "期限": fmt(t.deadline), "办结时间": fmt(t.done_at),
            "评价": t.rating_label, "评价意见": t.rating_comment, "处理记录": steps, "照片": photos}


def _own(event, account: ResidentAccount) -> bool:
    return event.actor_type == "resident" and event.actor_id == account.id


def _followed(f: TicketFollower) -> dict:
    """A neighbour's ticket the resident joined: only its public facts and the resident's own words."""
    t = f.ticket
    return {"编号": t.number, "类别": t.category_label, "位置": t.where, "状态": t.status_label,
            "您的反映": f.note, "时间": fmt(f.created_at)}


def _order(o: Order) -> dict:
    pay = o.payment
    return {"编号": o.number, "服务": o.item_name, "价格": yuan(o.price_fen) + "元/" + o.item_unit,
            "房屋": o.room.label, "预约时间": fmt(o.scheduled_at), "备注": o.note, "状态": o.status_label,
            "评分": o.rating, "评价": o.comment, "投诉": o.complaint, "下单时间": fmt(o.created_at),
            "记录": [{"时间": fmt(e.at), "步骤": e.action, "状态": e.to_status} for e in o.events],
            "付款": ({"金额": yuan(pay.amount_fen) + "元", "方式": ORDER_PAYMENT_METHODS.get(pay.method, pay.method),
                    "状态": pay.status, "时间": fmt(pay.paid_at)} if pay else None)}


def _bill(b: Bill) -> dict:
    return {"房屋": b.room.label, "账单": b.title, "金额": yuan(b.amount_fen) + "元", "已缴": yuan(b.paid_fen) + "元",
            "状态": BILL_STATUSES.get(b.status, b.status), "到期日": b.due_on.isoformat()}


def _payment(p: FeePayment) -> dict:
    # Who recorded it and the office's note stay out: they may name whoever paid (a co-owner, a relative).
    return {"收据号": p.receipt_no, "房屋": p.bill.room.label, "账单": p.bill.title, "金额": yuan(p.amount_fen) + "元",
            "方式": PAYMENT_METHODS.get(p.method, p.method), "类型": PAYMENT_KINDS.get(p.kind, p.kind),
            "时间": fmt(p.recorded_at)}


def _ballot(b: Ballot, account: ResidentAccount) -> dict:
    vote = db.session.get(Vote, b.vote_id)
    rooms = db.session.scalars(select(Room).where(Room.id.in_(b.rooms or []))).all()
    own = account.person_id is not None and b.person_id == account.person_id
    return {"方案": vote.plan.title, "房屋": [r.label for r in rooms], "方式": BALLOT_CHANNELS.get(b.channel, b.channel),
            "投票时间": fmt(b.cast_at), "回执校验值": b.receipt_hash,
            # The choice only to the owner it belongs to, as the receipt check shows it.
            "选择": CHOICE_LABELS.get(b.choice, b.choice) if own else ""}


def message_text(payload: dict | None) -> str:
    """The words of an outbound message, whatever its kind."""
    payload = payload or {}
    if payload.get("text"):
        return payload["text"]
    if payload.get("articles"):
        return "；".join(a.get("title", "") for a in payload["articles"])
    values = payload.get("values") or {}
    return values.get("text") or values.get("summary") or "；".join(str(v) for v in values.values())


def fmt(value) -> str:
    """A moment as 'YYYY-MM-DD HH:MM', or ''."""
    return value.strftime("%Y-%m-%d %H:%M") if value else ""
