"""Payments on bills: recorded by staff or building heads, partial or prepaid, receipted in chat; corrections and
refunds are new negative entries; credits (预存, 以工抵费) offset bills. History is never edited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import Estate, ResidentAccount, Room, RoomBinding, StaffUser
from app.models.fee import PAYMENT_METHODS, Bill, Credit, FeePayment
from app.services import audit, outbox, scope
from app.services.billing import yuan
from app.services.errors import DomainError, NotFound, PermissionDenied

RECORDING_ROLES = ("street_admin", "community_staff", "building_head", "unit_head")
STAFF_METHODS = ("cash", "transfer", "wechat_pay")


@dataclass
class Recorded:
    """The outcome of a recording call: the entry, and whether this was a repeat of an earlier submission."""

    payment: FeePayment | None
    duplicate: bool = False
    credit_fen: int = 0

    @property
    def message(self) -> str:
        if self.duplicate:
            return "这笔已经登记过了，没有重复入账。"
        extra = f"，另预存 {yuan(self.credit_fen)} 元" if self.credit_fen else ""
        return f"已登记 {yuan(self.payment.amount_fen)} 元{extra}，收据号 {self.payment.receipt_no}。"


def actor_of(user: StaffUser | None) -> str:
    return f"staff:{user.id}" if user is not None else "system"


def _check_reach(user: StaffUser | None, room: Room) -> None:
    """Staff may record for rooms in their scope: a building head for their own building only."""
    if user is None:
        return
    if not scope.has_role(user, *RECORDING_ROLES):
        raise PermissionDenied()
    estate = db.session.get(Estate, room.estate_id)
    visible = db.session.scalar(scope.visible_estates(user).where(Estate.id == estate.id))
    if visible is None or db.session.scalar(scope.visible_rooms(user, estate).where(Room.id == room.id)) is None:
        raise PermissionDenied("您只能为自己负责楼栋的住户登记缴费。")


def _existing(client_key: str | None) -> FeePayment | None:
    if not client_key:
        return None
    return db.session.scalar(select(FeePayment).where(FeePayment.client_key == client_key))


def _apply(bill_id: int, delta: int) -> bool:
    """Move paid_fen atomically (no lost update between two cashiers); refuse to go above the amount or below 0."""
    result = db.session.execute(
        update(Bill).where(Bill.id == bill_id, Bill.status != "cancelled", Bill.paid_fen + delta <= Bill.amount_fen,
                           Bill.paid_fen + delta >= 0)
        .values(paid_fen=Bill.paid_fen + delta,
                status=case((Bill.paid_fen + delta >= Bill.amount_fen, "paid"), else_="open"))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_payment(user: StaffUser | None, bill_id: int, amount_fen: int, method: str, *, client_key: str | None,
                   prepayment: bool = False, reference: str = "", note: str = "") -> Recorded:
    """Record money received for a bill and commit. Over what is owed is refused unless marked as a prepayment,
    in which case the rest becomes the room's credit. The same client_key is never recorded twice."""
    earlier = _existing(client_key)
    if earlier is not None:
        return Recorded(earlier, duplicate=True)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise DomainError("缴费金额必须大于0。更正或退款请用“更正/退款”。")
    if method not in STAFF_METHODS:
        raise DomainError("请选择缴费方式：现金、转账或微信支付。")
    bill = db.session.get(Bill, bill_id)
    if bill is None:
        raise NotFound("没有找到这张账单。")
    room = db.session.get(Room, bill.room_id)
    _check_reach(user, room)
    if bill.status == "cancelled":
        raise DomainError("这张账单已作废，不能缴费。")
    owed = bill.amount_fen - bill.paid_fen
    if owed <= 0 and not prepayment:
        raise DomainError("这张账单已经缴清了。如需预存，请勾选“预存”。")
    if amount_fen > owed and not prepayment:
        raise DomainError(f"金额超过了应缴的 {yuan(owed)} 元。多出的部分如需预存，请勾选“预存”。")
    on_bill = min(amount_fen, max(owed, 0))
    extra = amount_fen - on_bill
    if on_bill and not _apply(bill.id, on_bill):
        db.session.rollback()
        raise DomainError("账单刚刚被其他人更新，请刷新后再试。")
    payment = FeePayment(bill_id=bill.id, room_id=room.id, estate_id=bill.estate_id, kind="payment", method=method,
                         amount_fen=on_bill, client_key=client_key or None, reference=reference[:64],
                         recorded_by=actor_of(user), note=note[:200], recorded_at=clock.now())
    db.session.add(payment)
    try:
        db.session.flush()
    except IntegrityError:  # the same form submitted twice at the same moment: the other one won
        db.session.rollback()
        return Recorded(_existing(client_key), duplicate=True)
    if extra:
        db.session.add(Credit(room_id=room.id, kind="prepayment", amount_fen=extra, payment_id=payment.id,
                              recorded_by=actor_of(user), note="缴费时预存", recorded_at=clock.now()))
    audit.record("staff" if user else "system", user.id if user else "", "fee_payment", "bill", bill.id,
                 payment_id=payment.id, amount_fen=amount_fen, method=method)
    db.session.refresh(bill)
    _receipt(room, bill, payment, extra)
    db.session.commit()
    return Recorded(payment, credit_fen=extra)


def reverse_payment(user: StaffUser | None, payment_id: int, amount_fen: int | None, kind: str, reason: str,
                    *, client_key: str | None) -> Recorded:
    """A correction (the whole entry was wrong) or a refund (money given back): a new negative entry."""
    earlier = _existing(client_key)
    if earlier is not None:
        return Recorded(earlier, duplicate=True)
    if kind not in ("correction", "refund"):
        raise DomainError("只能更正或退款。")
    if not (reason or "").strip():
        raise DomainError("请写明更正或退款的原因。")
    original = db.session.get(FeePayment, payment_id)
    if original is None or original.kind != "payment":
        raise NotFound("没有找到这笔缴费。")
    _check_reach(user, db.session.get(Room, original.room_id))
    reversed_already = -int(db.session.scalar(select(func.coalesce(func.sum(FeePayment.amount_fen), 0))
                                              .where(FeePayment.corrects_id == original.id)) or 0)
    left = original.amount_fen - reversed_already
    amount = left if amount_fen is None else amount_fen
    if amount <= 0 or amount > left:
        raise DomainError(f"这笔缴费最多还能{'更正' if kind == 'correction' else '退'} {yuan(left)} 元。")
    if not _apply(original.bill_id, -amount):
        db.session.rollback()
        raise DomainError("账单刚刚被其他人更新，请刷新后再试。")
    entry = FeePayment(bill_id=original.bill_id, room_id=original.room_id, estate_id=original.estate_id, kind=kind,
                       method=original.method, amount_fen=-amount, client_key=client_key or None,
                       corrects_id=original.id, recorded_by=actor_of(user), note=reason.strip()[:200],
                       recorded_at=clock.now())
    db.session.add(entry)
    audit.record("staff" if user else "system", user.id if user else "", f"fee_{kind}", "payment", original.id,
                 amount_fen=-amount)
    db.session.commit()
    return Recorded(entry)


def credit_balance(room_id: int) -> int:
    """The room's unused credit (预存 + 以工抵费 − applied) in fen."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Credit.amount_fen), 0))
                                 .where(Credit.room_id == room_id)) or 0)


def add_work_credits(estate_id: int) -> int:
    """以工抵费: turn recorded 公益岗 hours (VolunteerHours, if the services capability is installed) into credits
    once each; returns how many were added. The caller commits."""
    try:
        from app.models.service import VolunteerHours
    except ImportError:  # the services capability is not installed
        return 0
    rows = db.session.scalars(select(VolunteerHours).where(VolunteerHours.estate_id == estate_id,
                                                           VolunteerHours.room_id.is_not(None),
                                                           VolunteerHours.applied_at.is_(None))).all()
    for row in rows:
        credit = Credit(room_id=row.room_id, kind="work", amount_fen=int(row.credit_fen), hours=row.hours,
                        client_key=f"work:{row.id}", recorded_by="system:work", note=f"公益岗：{row.task}"[:200],
                        recorded_at=clock.now())
        db.session.add(credit)
        row.applied_at, row.applied_ref = clock.now(), f"fee_credit:work:{row.id}"
    return len(rows)


def apply_credits(room_id: int) -> int:
    """Offset open bills, oldest first, with the room's credit; returns the fen applied (the caller commits)."""
    balance = credit_balance(room_id)
    applied = 0
    bills = db.session.scalars(select(Bill).where(Bill.room_id == room_id, Bill.status == "open")
                               .order_by(Bill.due_on, Bill.id)).all()
    for bill in bills:
        use = min(balance - applied, bill.amount_fen - bill.paid_fen)
        if use <= 0:
            continue
        if not _apply(bill.id, use):
            continue
        payment = FeePayment(bill_id=bill.id, room_id=room_id, estate_id=bill.estate_id, kind="payment",
                             method="credit", amount_fen=use, recorded_by="system:credit", recorded_at=clock.now())
        db.session.add(payment)
        db.session.flush()
        db.session.add(Credit(room_id=room_id, kind="applied", amount_fen=-use, payment_id=payment.id,
                              recorded_by="system:credit", recorded_at=clock.now()))
        applied += use
    return applied


def owner_openids(room_ids: list[int]) -> dict[int, list[str]]:
    """Subscribed owner and family accounts bound to each room (tenants do not get fee messages)."""
    result: dict[int, list[str]] = {}
    if not room_ids:
        return result
    rows = db.session.execute(
        select(RoomBinding.room_id, ResidentAccount.openid).join(ResidentAccount,
                                                                 RoomBinding.account_id == ResidentAccount.id)
        .where(RoomBinding.room_id.in_(room_ids), RoomBinding.status == "bound",
               RoomBinding.relation.in_(("owner", "family")), ResidentAccount.subscribed.is_(True))).all()
    for room_id, openid in rows:
        result.setdefault(room_id, []).append(openid)
    return result


def _receipt(room: Room, bill: Bill, payment: FeePayment, extra: int) -> None:
    lines = [f"【缴费收据】{room.estate.name} {room.label}", f"{bill.title}：本次收到 {yuan(payment.amount_fen + extra)}"
             f" 元（{PAYMENT_METHODS[payment.method]}）"]
    if extra:
        lines.append(f"预存 {yuan(extra)} 元，以后自动抵扣。")
    lines.append("本期已缴清。" if bill.paid_fen >= bill.amount_fen else f"本期尚欠 {yuan(bill.amount_fen - bill.paid_fen)} 元。")
    lines.append(f"收据号 {payment.receipt_no}，{_fmt(payment.recorded_at)}")
    lines.append("如有疑问请联系楼栋长或社区。")
    for openid in owner_openids([room.id]).get(room.id, []):
        outbox.enqueue(openid, "text", {"text": "\n".join(lines)}, key=f"fees:receipt:{payment.id}:{openid}")


def _fmt(moment: datetime) -> str:
    return clock.localize(moment).strftime("%Y-%m-%d %H:%M")


@dataclass
class Statement:
    """What a household owes and has paid: open bills, the total, credit, and the latest entries."""

    bills: list[Bill]
    owed_fen: int
    credit_fen: int
    payments: list[FeePayment]


def fee_rooms(openid: str) -> tuple[list[Room], bool]:
    """Rooms whose fees are the resident's (bound as owner or family), with building, unit and estate loaded for
    naming them, in binding order; and whether the resident is bound only as a tenant somewhere."""
    rows = db.session.execute(select(Room, RoomBinding.relation).join(RoomBinding, RoomBinding.room_id == Room.id)
                              .join(ResidentAccount, ResidentAccount.id == RoomBinding.account_id)
                              .where(ResidentAccount.openid == openid, RoomBinding.status == "bound")
                              .options(joinedload(Room.unit), joinedload(Room.building), joinedload(Room.estate))
                              .order_by(RoomBinding.id)).all()
    rooms = [room for room, relation in rows if relation in ("owner", "family")]
    return rooms, bool(rows) and not rooms


def statement(room_ids: list[int], history: int = 20) -> Statement:
    """The resident's view: 我还欠多少 and 缴费记录 for their rooms."""
    if not room_ids:
        return Statement([], 0, 0, [])
    bills = list(db.session.scalars(select(Bill).where(Bill.room_id.in_(room_ids), Bill.status == "open")
                                    .order_by(Bill.due_on, Bill.id)))
    payments = list(db.session.scalars(select(FeePayment).where(FeePayment.room_id.in_(room_ids))
                                       .order_by(FeePayment.recorded_at.desc(), FeePayment.id.desc())
                                       .limit(history)))
    credit = sum(credit_balance(room_id) for room_id in room_ids)
    return Statement(bills, sum(b.owed_fen for b in bills), credit, payments)


def generate_and_offset(today):
    """The billing job: generate due bills, turn new 公益岗 hours into credits, offset open bills with credit."""
    from app.services.billing import generate_due

    reports = generate_due(today)
    for estate_id in db.session.scalars(select(Estate.id)):
        add_work_credits(estate_id)
    db.session.flush()
    for room_id in db.session.scalars(select(Credit.room_id).group_by(Credit.room_id)
                                      .having(func.sum(Credit.amount_fen) > 0)).all():
        apply_credits(room_id)
    db.session.commit()
    return reports
