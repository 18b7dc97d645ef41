"""一小区一方案: draft, version, publish for comment, collect comments, put to a vote; the adopted plan's fees."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from app import clock
from app.extensions import db, kv
from app.models import Estate, Plan, PlanComment, ResidentAccount, Room, RoomBinding, Vote
from app.models.place import MANAGEMENT_MODES, SIX_HAVES
from app.models.plan import EXTRA_FACILITIES, FEE_CYCLES, FEE_MODES, TIERS
from app.models.vote import BOTH_WAYS_RULES
from app.services import audit, binding, outbox, scope
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.voting import RULE_PROFILES

EDITABLE = ("title", "tier", "area_scope", "six_haves", "facilities", "facilities_note", "management_modes",
            "services", "fee_mode", "fee_amount_fen", "fee_cycle", "funding", "body")
COMMENT_MAX = 500
COMMENTS_PER_DAY = 10
MIN_NOTICE_DAYS = 15


def require_office(user, estate_id: int) -> Estate:
    """The estate if the user is street or community staff over all of it; NotFound/PermissionDenied otherwise."""
    estate = scope.estate_for(user, estate_id)
    if not scope.has_role(user, *scope.OFFICE_ROLES) or not scope.reach(user, estate).whole:
        raise PermissionDenied("只有社区或街道工作人员可以管理小区方案和表决。")
    return estate


def plan_for(user, plan_id: int) -> Plan:
    """A plan of an estate the user manages; NotFound otherwise."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound()
    require_office(user, plan.estate_id)
    return plan


def parse_yuan(text: str) -> int | None:
    """'0.30' (元) → 30 fen; '' → None; anything else or more than 2 decimals → DomainError."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError("收费标准请填写数字，例如 0.30。") from None
    if value < 0 or value != value.quantize(Decimal("0.01")) or value > 100000:
        raise DomainError("收费标准须为不小于0的金额，最多两位小数（精确到分）。")
    return int(value * 100)


def _clean(fields: dict) -> dict:
    """Validate plan fields; every problem becomes one Chinese message."""
    data = {key: fields[key] for key in EDITABLE if key in fields}
    if "title" in data and not (data["title"] or "").strip():
        raise DomainError("请填写方案标题。")
    if data.get("tier", "ordinary") not in TIERS:
        raise DomainError("事项类别只能是一般事项或重大事项。")
    for key, allowed, label in (("six_haves", SIX_HAVES, "六有项目"), ("facilities", EXTRA_FACILITIES, "设施"),
                                ("management_modes", MANAGEMENT_MODES, "管理方式")):
        unknown = [code for code in data.get(key) or [] if code not in allowed]
        if unknown:
            raise DomainError(f"未知的{label}：{'、'.join(unknown)}。")
    mode, amount, cycle = data.get("fee_mode"), data.get("fee_amount_fen"), data.get("fee_cycle")
    if mode:
        if mode not in FEE_MODES:
            raise DomainError("收费方式只能是按面积或按户。")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise DomainError("请填写收费标准（精确到分）。")
        if cycle not in FEE_CYCLES:
            raise DomainError("请选择缴费周期：按月、按季度、按半年或按年。")
    elif "fee_mode" in data:
        data.update(fee_mode=None, fee_amount_fen=None, fee_cycle=None)
    for key in ("services", "funding"):
        if key in data:
            data[key] = [item.strip() for item in data[key] or [] if item and item.strip()]
    return data


def create_plan(user, estate_id: int, **fields) -> Plan:
    """A new draft (the next version number of the estate)."""
    estate = require_office(user, estate_id)
    data = _clean({"tier": "ordinary", **fields})
    if not data.get("title"):
        raise DomainError("请填写方案标题。")
    version = (db.session.scalar(select(func.max(Plan.version)).where(Plan.estate_id == estate.id)) or 0) + 1
    plan = Plan(estate_id=estate.id, version=version, status="draft", created_by=user.id, **data)
    db.session.add(plan)
    db.session.flush()
    audit.record_staff(user, "plan_create", "plan", plan.id, estate_id=estate.id, version=version)
    db.session.commit()
    return plan


def update_plan(user, plan_id: int, **fields) -> Plan:
    """Edit a draft; published versions are frozen (make a new version instead)."""
    plan = plan_for(user, plan_id)
    if plan.status != "draft":
        raise DomainError("已公示的方案不能修改，请另存为新版本后再改。")
    data = _clean(fields)
    for key, value in data.items():
        setattr(plan, key, value)
    plan.updated_at = clock.now()
    audit.record_staff(user, "plan_update", "plan", plan.id, fields=sorted(data))
    db.session.commit()
    return plan


def new_version(user, plan_id: int) -> Plan:
    """Copy a plan into a new draft version (the old one stays as it was)."""
    plan = plan_for(user, plan_id)
    if plan.status == "voting":
        raise DomainError("方案正在表决中，不能另起新版本。")
    copy = {key: getattr(plan, key) for key in EDITABLE}
    new = create_plan(user, plan.estate_id, **copy)
    new.previous_id = plan.id
    db.session.commit()
    return new


def publish(user, plan_id: int) -> Plan:
    """Publish a draft for comment; an earlier published version of the same estate is superseded."""
    plan = plan_for(user, plan_id)
    if plan.status != "draft":
        raise DomainError("只有草稿可以公示。")
    if not plan.body.strip() and not plan.area_scope.strip():
        raise DomainError("方案内容为空，请先填写正文或区域划分。")
    for other in db.session.scalars(select(Plan).where(Plan.estate_id == plan.estate_id, Plan.id != plan.id,
                                                       Plan.status == "published")):
        other.status = "superseded"
    plan.status, plan.published_at = "published", clock.now()
    audit.record_staff(user, "plan_publish", "plan", plan.id, version=plan.version)
    db.session.commit()
    return plan


def add_comment(openid: str, plan_id: int, text: str, channel: str = "h5") -> PlanComment:
    """A resident of the estate (owner, family or tenant) comments on a published plan."""
    text = (text or "").strip()
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.status not in ("published", "voting"):
        raise NotFound("这份方案现在不在征求意见阶段。")
    account = binding.account_for(openid)
    rooms = [b for b in account.active_bindings() if b.room.estate_id == plan.estate_id]
    if not rooms:
        raise PermissionDenied("只有本小区已绑定房屋的居民可以提意见。请先发送“绑定”。")
    if not text:
        raise DomainError("请写下您的意见。")
    if len(text) > COMMENT_MAX:
        raise DomainError(f"意见请控制在{COMMENT_MAX}字以内。")
    if kv().hit_limit(f"plan-comment:{account.id}", COMMENTS_PER_DAY, 86400):
        raise DomainError("今天提交的意见已经很多了，请明天再提。")
    comment = PlanComment(plan_id=plan.id, account_id=account.id, channel=channel, text=text)
    db.session.add(comment)
    db.session.flush()
    audit.record("resident", account.id, "plan_comment", "plan", plan.id, comment_id=comment.id, channel=channel)
    db.session.commit()
    return comment


def open_plan_for(openid: str) -> Plan | None:
    """The published or voting plan of the resident's estate (for chat and the H5 entry page)."""
    account = binding.account_for(openid)
    estate_ids = {b.room.estate_id for b in account.active_bindings()}
    if not estate_ids:
        return None
    return db.session.scalar(select(Plan).where(Plan.estate_id.in_(estate_ids),
                                                Plan.status.in_(("published", "voting")))
                             .order_by(Plan.published_at.desc(), Plan.id.desc()).limit(1))


def put_to_vote(user, plan_id: int, opens_at: datetime, closes_at: datetime, *, rule_profile: str = "art278",
                notice_days: int | None = None, allow_change_until_close: bool = False,
                follow_majority: bool = False, both_ways_rule: str = "electronic") -> Vote:
    """Announce a vote on a published plan; it opens no sooner than the notice period (≥ 15 days) from now."""
    plan = plan_for(user, plan_id)
    if plan.status != "published":
        raise DomainError("只有已公示征求意见的方案可以交付表决。")
    if rule_profile not in RULE_PROFILES:
        raise DomainError("未知的表决规则。")
    if both_ways_rule not in BOTH_WAYS_RULES:
        raise DomainError("请选择纸质票与电子票重复时以哪个为准。")
    days = RULE_PROFILES[rule_profile]["notice_days"] if notice_days is None else int(notice_days)
    if days < MIN_NOTICE_DAYS:
        raise DomainError(f"表决须至少提前{MIN_NOTICE_DAYS}天公告。")
    now = clock.now()
    if opens_at < now + timedelta(days=days):
        raise DomainError(f"开始时间须在公告之日起{days}天以后（最早 {(now + timedelta(days=days)):%Y-%m-%d %H:%M}）。")
    if closes_at <= opens_at:
        raise DomainError("截止时间须晚于开始时间。")
    vote = Vote(plan_id=plan.id, estate_id=plan.estate_id, status="announced", tier=plan.tier,
                rule_profile=rule_profile, notice_days=days, allow_change_until_close=allow_change_until_close,
                follow_majority=follow_majority, both_ways_rule=both_ways_rule, announced_at=now,
                opens_at=opens_at, closes_at=closes_at, created_by=user.id)
    db.session.add(vote)
    plan.status = "voting"
    db.session.flush()
    _announce(vote, plan)
    audit.record_staff(user, "vote_announce", "vote", vote.id, plan_id=plan.id, opens_at=opens_at.isoformat(),
                       closes_at=closes_at.isoformat(), rule_profile=rule_profile, notice_days=days,
                       allow_change=allow_change_until_close, follow_majority=follow_majority,
                       both_ways_rule=both_ways_rule)
    db.session.commit()
    return vote


def _announce(vote: Vote, plan: Plan) -> int:
    """Tell every owner bound in the estate when the vote opens and closes (one outbox message each)."""
    accounts = db.session.scalars(
        select(ResidentAccount).join(RoomBinding, RoomBinding.account_id == ResidentAccount.id)
        .join(Room, Room.id == RoomBinding.room_id)
        .where(RoomBinding.status == "bound", RoomBinding.relation == "owner", Room.estate_id == vote.estate_id,
               ResidentAccount.subscribed.is_(True)).distinct()).all()
    text = (f"【表决公告】{plan.estate.name}《{plan.title}》将于{vote.opens_at:%m月%d日 %H:%M}开始表决，"
            f"{vote.closes_at:%m月%d日 %H:%M}截止。届时回复“投票”即可参加。")
    for account in accounts:
        outbox.enqueue(account.openid, "text", {"text": text}, key=f"vote-announce:{vote.id}:{account.id}")
    return len(accounts)


def current_plan(estate: Estate | int) -> Plan | None:
    """The estate's current plan: its most recently adopted version."""
    estate_id = estate if isinstance(estate, int) else estate.id
    return db.session.scalar(select(Plan).where(Plan.estate_id == estate_id, Plan.status == "adopted")
                             .order_by(Plan.decided_at.desc(), Plan.version.desc()).limit(1))


def current_fee_standard(estate: Estate | int) -> tuple[str, int, str] | None:
    """(mode, amount_fen, cycle) of the adopted plan — mode "per_area" is fen per ㎡ per month, "per_household"
    fen per household per month; cycle monthly/quarterly/half_yearly/yearly. None when no adopted plan sets fees."""
    plan = current_plan(estate)
    if plan is None or not plan.fee_mode or plan.fee_amount_fen is None:
        return None
    return plan.fee_mode, plan.fee_amount_fen, plan.fee_cycle
