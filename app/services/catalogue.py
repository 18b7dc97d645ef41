"""The 菜单式 catalogue: posted prices per estate or per street, money in fen, service hours and free slots."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select

from app import clock
from app.extensions import db
from app.models import CatalogItem, Community, Estate, Order, Provider
from app.models.service import ITEM_CODES
from app.services import audit
from app.services.errors import DomainError, NotFound

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
SLOT_DAYS = 3  # free slots are offered for today and the next two days
MAX_PRICE_FEN = 10_000_00  # ¥10,000: anything above is a typing error on a point service


def yuan(fen: int | None) -> str:
    """Fen as a short yuan figure for people: 5000 → '50', 5050 → '50.50'."""
    if fen is None:
        return ""
    whole, part = divmod(abs(int(fen)), 100)
    text = f"{whole}" if part == 0 else f"{whole}.{part:02d}"
    return ("-" if fen < 0 else "") + text


def parse_yuan(text: str | None, label: str = "价格", *, required: bool = True) -> int | None:
    """'50' / '50.5' / '¥50.50' → fen; a clear message for anything else (negative, 3 decimals, words)."""
    raw = (text or "").strip().replace("¥", "").replace("￥", "").replace("元", "").replace(",", "")
    if not raw:
        if required:
            raise DomainError(f"请填写{label}。")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise DomainError(f"{label}请填数字，例如 50 或 49.50。") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise DomainError(f"{label}须是不小于 0 的金额，最多两位小数。")
    fen = int(value * 100)
    if fen > MAX_PRICE_FEN:
        raise DomainError(f"{label}超过 10000 元，请核对。")
    return fen


def estate_street_id(estate: Estate) -> int:
    """The street of an estate (a street-wide item covers all its estates)."""
    return db.session.scalar(select(Community.street_id).where(Community.id == estate.community_id))


def items_for_estate(estate: Estate, *, include_inactive: bool = False) -> list[CatalogItem]:
    """The estate's catalogue: its own items, plus street-wide items whose code it does not override."""
    query = select(CatalogItem).where(or_(CatalogItem.estate_id == estate.id,
                                          (CatalogItem.estate_id.is_(None))
                                          & (CatalogItem.street_id == estate_street_id(estate))))
    if not include_inactive:
        query = query.where(CatalogItem.active.is_(True))
    items = list(db.session.scalars(query.order_by(CatalogItem.sort_order, CatalogItem.id)))
    own = {item.code for item in items if item.estate_id == estate.id}
    return [item for item in items if item.estate_id == estate.id or item.code not in own]


def find_item(estate: Estate, code: str) -> CatalogItem | None:
    """The estate's active item for a service code (e.g. 'unlock'), or None."""
    return next((item for item in items_for_estate(estate) if item.code == code), None)


def price_text(item: CatalogItem) -> str:
    """'开锁：50元/次（市场价约80元，省30元）'."""
    text = f"{item.name}：{yuan(item.price_fen)}元/{item.unit}"
    if item.saving_fen:
        text += f"（市场价约{yuan(item.market_price_fen)}元，省{yuan(item.saving_fen)}元）"
    return text


def price_answer(estate: Estate | None, code: str | None) -> tuple[str, CatalogItem | None]:
    """The answer to '开锁多少钱': the price and an offer to book, or why there is none."""
    if estate is None:
        return "请先绑定房屋，我才能查到您小区的服务价目。发送“绑定”开始。", None
    item = find_item(estate, code) if code else None
    if item is None:
        names = "、".join(i.name for i in items_for_estate(estate)[:8])
        if not names:
            return f"{estate.name}暂未开通上门服务。", None
        return f"{estate.name}目前可预约：{names}。请问需要哪一项？", None
    hours = f"服务时间 {item.opens}-{item.closes}"
    return f"{price_text(item)}，{hours}。需要预约吗？回复 1 预约，回复 2 不用了。", item


def _hm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def within_hours(item: CatalogItem, moment: datetime) -> bool:
    """Whether a booking may start at `moment` (local time) under the item's service hours."""
    local = clock.localize(moment).time()
    return _hm(item.opens) <= local < _hm(item.closes)


def free_slots(item: CatalogItem, days: int = SLOT_DAYS, now: datetime | None = None) -> list[datetime]:
    """Start times in the coming days, inside service hours, at least an hour ahead, where a provider is free."""
    now = now or clock.now()
    capacity = max(1, len(item.providers))
    taken = _taken(item, now, days)
    slots = []
    step = timedelta(minutes=item.slot_minutes or 60)
    for offset in range(days):
        day: date = (now + timedelta(days=offset)).date()
        moment = datetime.combine(day, _hm(item.opens), tzinfo=clock.TZ)
        end = datetime.combine(day, _hm(item.closes), tzinfo=clock.TZ)
        while moment < end:
            if moment >= now + timedelta(hours=1) and taken.get(moment, 0) < capacity:
                slots.append(moment)
            moment += step
    return slots


def _taken(item: CatalogItem, now: datetime, days: int) -> dict[datetime, int]:
    """Open orders of the item's providers per start time (one provider does one job per slot)."""
    provider_ids = [p.id for p in item.providers]
    rows = db.session.scalars(select(Order.scheduled_at).where(
        Order.status.in_(("ordered", "accepted", "reschedule")), Order.scheduled_at >= now,
        Order.scheduled_at < now + timedelta(days=days + 1),
        or_(Order.item_id == item.id, Order.provider_id.in_(provider_ids or [-1]))))
    counts: dict[datetime, int] = {}
    for moment in rows:
        counts[moment] = counts.get(moment, 0) + 1
    return counts


def save_item(actor, *, item: CatalogItem | None = None, estate_id: int | None, street_id: int | None,
              code: str, name: str, description: str, unit: str, price: str, market_price: str,
              opens: str, closes: str, active: bool, provider_ids: list[int]) -> CatalogItem:
    """Add or edit an item (prices given in yuan); validates everything first, then commits once."""
    code, name, unit = (code or "").strip().lower(), (name or "").strip(), (unit or "").strip() or "次"
    if not name or len(name) > 60:
        raise DomainError("请填写服务名称（60字以内）。")
    if code not in ITEM_CODES and not _CODE.match(code):
        raise DomainError("服务代码请选标准项目，或用小写英文字母自定义（如 window_clean）。")
    if (estate_id is None) == (street_id is None):
        raise DomainError("请选择适用范围：一个小区，或整个街道。")
    price_fen = parse_yuan(price, "价格")
    market_fen = parse_yuan(market_price, "市场参考价", required=False)
    if not (_HHMM.match(opens or "") and _HHMM.match(closes or "")) or opens >= closes:
        raise DomainError("服务时间请写成 08:00 和 20:00 这样的格式，结束要晚于开始。")
    providers = list(db.session.scalars(select(Provider).where(Provider.id.in_(provider_ids or [-1]),
                                                               Provider.active.is_(True))))
    if not providers:
        raise DomainError("请至少选择一个服务单位。")
    duplicate = db.session.scalar(select(func.count(CatalogItem.id)).where(
        CatalogItem.code == code, CatalogItem.estate_id.is_(estate_id) if estate_id is None
        else CatalogItem.estate_id == estate_id,
        CatalogItem.street_id.is_(street_id) if street_id is None else CatalogItem.street_id == street_id,
        CatalogItem.id != (item.id if item else -1)))
    if duplicate:
        raise DomainError("这个范围里已经有同一代码的服务项目了，请直接修改那一项。")
    created = item is None
    if item is None:
        item = CatalogItem()
        db.session.add(item)
    before = {"price_fen": item.price_fen, "active": item.active} if not created else {}
    item.estate_id, item.street_id, item.code, item.name = estate_id, street_id, code, name
    item.description, item.unit = (description or "").strip(), unit
    item.price_fen, item.market_price_fen, item.opens, item.closes = price_fen, market_fen, opens, closes
    item.active, item.providers = bool(active), providers
    db.session.flush()
    audit.record("staff", getattr(actor, "id", actor), "create" if created else "update", "catalog_item", item.id,
                 price_fen=price_fen, before=before)
    db.session.commit()
    return item


def get_item(item_id: int) -> CatalogItem:
    """An item by id; NotFound when missing."""
    item = db.session.get(CatalogItem, item_id)
    if item is None:
        raise NotFound()
    return item
