"""Providers: who works for which, the directory with ratings and the red/black list, payments, statements, 公益岗 hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models import Community, Estate, Order, Payment, Provider, StaffUser
from app.models.service import PAYMENT_METHODS, provider_members
from app.services import audit, outbox, scope
from app.services.catalogue import yuan
from app.services.errors import DomainError, NotFound
# Re-exported: the statement and 公益岗 hours live in service_statements; callers use providers.statement_xlsx etc.
from app.services.service_statements import (month_bounds, record_hours, statement_rows,  # noqa: F401
                                             statement_xlsx)

STANDING = {"red": "红榜", "normal": "一般", "black": "黑榜"}
RECENT = timedelta(days=90)
LATE_AFTER = timedelta(hours=24)  # done more than a day after the agreed time, or not done a day after it


def providers_of(user: StaffUser) -> list[Provider]:
    """The active providers a staff user works for (needs the provider role)."""
    if user is None or not scope.has_role(user, "provider"):
        return []
    return list(db.session.scalars(select(Provider).join(provider_members).where(
        provider_members.c.staff_user_id == user.id, Provider.active.is_(True)).order_by(Provider.id)))


def visible_providers(user: StaffUser) -> list[Provider]:
    """Providers registered in a street the office user reaches (for the directory and catalogue forms)."""
    return list(db.session.scalars(select(Provider).where(Provider.street_id.in_(street_ids(user) or {-1}))
                                   .order_by(Provider.name)))


@dataclass
class ProviderRecord:
    """One line of the directory: volume, ratings, completion time, complaints, lateness and standing."""

    provider: Provider
    orders: int
    completed: int
    rated: int
    average: float | None
    complaints: int
    recent_complaints: int
    late: int
    median_hours: float | None
    standing: str

    @property
    def standing_label(self) -> str:
        return STANDING[self.standing]


def _late(order: Order, now: datetime) -> bool:
    return bool((order.done_at and order.done_at - order.scheduled_at > LATE_AFTER)
                or (order.status == "accepted" and now - order.scheduled_at > LATE_AFTER))


def record_for(provider: Provider, now: datetime | None = None) -> ProviderRecord:
    """All-time figures of one provider; the standing from the last 90 days (see standing())."""
    now = now or clock.now()
    orders = list(db.session.scalars(select(Order).where(Order.provider_id == provider.id)))
    completed = [o for o in orders if o.status in ("done", "confirmed")]
    ratings = [o.rating for o in orders if o.rating]
    complaints = [o for o in orders if o.complaint]
    recent = [o for o in complaints if o.closed_at and o.closed_at >= now - RECENT]
    hours = [(o.done_at - o.created_at).total_seconds() / 3600 for o in completed if o.done_at]
    average = round(sum(ratings) / len(ratings), 2) if ratings else None
    return ProviderRecord(provider, len(orders), len(completed), len(ratings), average, len(complaints),
                          len(recent), sum(_late(o, now) for o in orders),
                          round(median(hours), 1) if hours else None, standing(orders, now))


def board_row(name: str, orders: list[Order], now: datetime):
    """The provider's orders as a row of the ticket ledger's 红黑榜 (tickets_stats.BoardRow), so both lists use
    one rule: on time = done within a day of the agreed time; 4-5 points satisfied, 3 basic, 1-2 unsatisfied;
    a complaint counts like a reopened ticket. Jobs not yet due are left out. None without the ticket ledger."""
    try:
        from app.services.tickets_stats import BoardRow
    except ImportError:
        return None
    row = BoardRow(name, "服务商")
    for order in orders:
        due = order.scheduled_at + LATE_AFTER
        if order.status in ("cancelled", "declined") or (order.done_at is None and due > now):
            continue
        row.total += 1
        if order.done_at is not None:
            row.finished += 1
            row.on_time += order.done_at <= due
        if order.rating:
            row.rated += 1
            row.satisfied += order.rating >= 4
            row.basic += order.rating == 3
            row.unsatisfied += order.rating <= 2
        row.reopened += bool(order.complaint)
    return row


def standing(orders: list[Order], now: datetime) -> str:
    """red / normal / black over the last 90 days, by the ticket ledger's 红黑榜 rule (board_row); without the
    ledger: black for two complaints, red for five ratings averaging 4.5 and none."""
    recent = [o for o in orders if o.created_at >= now - RECENT]
    row = board_row("", recent, now)
    if row is not None:
        return {"红榜": "red", "黑榜": "black"}.get(row.verdict, "normal")
    ratings = [o.rating for o in recent if o.rating]
    if sum(o.complaint for o in recent) >= 2:
        return "black"
    if len(ratings) >= 5 and sum(ratings) >= 4.5 * len(ratings):
        return "red"
    return "normal"


def board_rows(user: StaffUser, now: datetime | None = None) -> list:
    """Providers the user sees as 红黑榜 rows over the last 90 days, for the ticket ledger's board to include."""
    now = now or clock.now()
    rows = []
    for provider in visible_providers(user):
        orders = list(db.session.scalars(select(Order).where(Order.provider_id == provider.id,
                                                             Order.created_at >= now - RECENT)))
        row = board_row(provider.name, orders, now)
        if row is not None and row.total:
            rows.append(row)
    return rows


def directory(user: StaffUser) -> list[ProviderRecord]:
    """The providers the user may see, black-listed first so poor records stand out."""
    rank = {"black": 0, "normal": 1, "red": 2}
    return sorted((record_for(p) for p in visible_providers(user)),
                  key=lambda r: (rank[r.standing], r.provider.name))


def street_ids(user: StaffUser) -> set[int]:
    """Streets of the estates the office user reaches."""
    return {db.session.scalar(select(Community.street_id).where(Community.id == e.community_id))
            for e in db.session.scalars(scope.visible_estates(user))}


def save_provider(user: StaffUser, *, name: str, kind: str, phone: str, street_id: int | None,
                  usernames: str, provider: Provider | None = None) -> Provider:
    """Add (or edit) a provider in one of the user's streets and link its staff accounts (role provider)."""
    from app.models.service import PROVIDER_KINDS

    name, phone = (name or "").strip(), (phone or "").strip()
    if not name or len(name) > 120:
        raise DomainError("请填写服务单位名称（120字以内）。")
    if kind not in PROVIDER_KINDS:
        raise DomainError("请选择类型：服务单位、个人师傅或公益岗。")
    if street_id not in street_ids(user):
        raise DomainError("请选择您负责的街道。")
    clash = db.session.scalar(select(Provider.id).where(Provider.street_id == street_id, Provider.name == name,
                                                        Provider.id != (provider.id if provider else -1)))
    if clash:
        raise DomainError(f"本街道已有“{name}”。")
    members = []
    for username in [u.strip() for u in (usernames or "").replace("，", ",").split(",") if u.strip()]:
        member = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if member is None or not scope.has_role(member, "provider"):
            raise DomainError(f"账号“{username}”不存在或没有“服务商”角色，请先创建（linli create-staff）。")
        members.append(member)
    created = provider is None
    provider = provider or Provider()
    provider.name, provider.kind, provider.public_phone, provider.street_id = name, kind, phone, street_id
    provider.members = members
    db.session.add(provider)
    db.session.flush()
    audit.record_staff(user, "create" if created else "update", "provider", provider.id, members=len(members))
    db.session.commit()
    return provider


def provider_for_office(user: StaffUser, provider_id: int) -> Provider:
    """A provider the office user may see; NotFound otherwise."""
    for provider in visible_providers(user):
        if provider.id == provider_id:
            return provider
    raise NotFound()


def may_handle_money(user: StaffUser, order: Order) -> bool:
    """A member of the order's provider, or office staff of its estate."""
    if order.provider_id and any(p.id == order.provider_id for p in providers_of(user)):
        return True
    if scope.has_role(user, *scope.OFFICE_ROLES):
        return db.session.scalar(scope.visible_estates(user).where(
            Estate.id == order.estate_id)) is not None
    return False


def record_payment(user: StaffUser, order: Order, amount_fen: int, method: str) -> Payment:
    """Record what the resident paid (once per order) and send a receipt to the resident through the outbox."""
    if not may_handle_money(user, order):
        raise NotFound()
    if method not in PAYMENT_METHODS:
        raise DomainError("请选择付款方式：现金、转账或微信支付。")
    if order.status not in ("accepted", "done", "confirmed"):
        raise DomainError(f"{order.number} 当前状态是“{order.status_label}”，不能登记收款。")
    if not isinstance(amount_fen, int) or amount_fen <= 0 or amount_fen > 10_000_00:
        raise DomainError("收款金额须大于 0 元、不超过 10000 元。")
    if order.payment is not None:
        raise DomainError(f"{order.number} 已经登记过收款了（{yuan(order.payment.amount_fen)}元）。")
    payment = Payment(order_id=order.id, amount_fen=amount_fen, method=method, status="paid",
                      recorded_by_id=user.id, paid_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(payment)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DomainError(f"{order.number} 已经登记过收款了。") from None
    audit.record_staff(user, "create", "service_payment", payment.id, order=order.number, amount_fen=amount_fen)
    payee = order.provider.name if order.provider else "服务单位"
    outbox.enqueue(order.openid, "text", {"text": (
        f"【收据】订单 {order.number}\n项目：{order.item_name}\n金额：{yuan(amount_fen)}元（{payment.method_label}）\n"
        f"收款方：{payee}\n时间：{payment.paid_at:%Y-%m-%d %H:%M}\n请妥善保存。")}, key=f"svc:{order.id}:receipt")
    db.session.commit()
    return payment


