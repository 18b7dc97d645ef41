"""Binding WeChat users to rooms: one-time codes, staff-approved requests, consent, unbinding."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from app import clock, privacy
from app.extensions import db, kv
from app.models import (BindingCode, BindingRequest, Consent, ResidentAccount, RoleGrant, Room, RoomBinding,
                        StaffUser)
from app.models.person import RELATIONS
from app.services import audit, binding_review, outbox
from app.services.errors import DomainError, NotFound, PermissionDenied

log = logging.getLogger(__name__)

NOTICE_VERSION = "2026-11"
PROCESSING_NOTICE = (
    "【个人信息处理说明】\n"
    "收集什么：您的微信标识、所住房号、与房屋的关系；核验时使用台账登记手机号的后四位。\n"
    "为什么：确认您的身份，用于报修、缴费、小区方案表决和通知。\n"
    "谁能看：社区工作人员和本楼楼栋长按职责查看，对外只公布统计数字。\n"
    "查看和导出：随时发送“我的信息”，可查看和下载邻里保存的您的全部信息。\n"
    "注销：删除您的微信标识、房屋绑定、同意记录和还没发出的消息，取消未完成的服务订单，"
    "您写的报修内容、评价和意见也一并删除。\n"
    "社区保留：台账上的业主姓名和电话是社区按职责登记的，注销后仍由社区保管；报修、缴费和表决记录"
    "只保留编号和房号，不再和您的微信关联，这样台账和票数才准确。"
)
# 32 symbols without 0/O/1/I: 32^8 ≈ 1.1e12 codes; with 5 tries an hour per user, guessing one is infeasible.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_VALID_DAYS = 180
TRIES_PER_HOUR = 5
REQUESTS_PER_DAY = 3
ROOM_REQUESTS_PER_DAY = 5


class BindingNeedsApproval(DomainError):
    """A valid code that may not bind this account directly: it became a request for staff (`request`)."""

    def __init__(self, message: str, request: BindingRequest):
        super().__init__(message)
        self.request = request


@dataclass
class IssuedCode:
    """A freshly issued code in plain text: printed once on a slip, never stored."""

    room: Room
    code: str


def account_for(openid: str) -> ResidentAccount:
    """The resident account of an openid, created when first seen (the caller commits)."""
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    if account is None:
        account = ResidentAccount(openid=openid, subscribed=True)
        db.session.add(account)
        db.session.flush()
    return account


def has_consent(account: ResidentAccount) -> bool:
    """Whether the resident accepted the current processing notice."""
    return db.session.scalar(select(Consent.id).where(Consent.account_id == account.id,
                                                      Consent.notice_version == NOTICE_VERSION)) is not None


def record_consent(openid: str, channel: str = "chat") -> Consent:
    """Record acceptance of the current notice, with the time and the notice version (once per version)."""
    account = account_for(openid)
    consent = db.session.scalar(select(Consent).where(Consent.account_id == account.id,
                                                      Consent.notice_version == NOTICE_VERSION))
    if consent is None:
        consent = Consent(account_id=account.id, notice_version=NOTICE_VERSION, channel=channel)
        db.session.add(consent)
        audit.record("resident", account.id, "consent", "notice", NOTICE_VERSION, channel=channel)
    db.session.commit()
    return consent


def normalise_code(text: str) -> str:
    """Upper-case a typed code and drop spaces and dashes ('ab3k-7qpz' → 'AB3K7QPZ')."""
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def looks_like_code(text: str) -> bool:
    """Whether a message is plausibly a binding code (so chat can route it without the classifier)."""
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code) and any(ch.isalpha() for ch in code)


def _code_hash(code: str) -> str:
    return privacy.keyed_hash("binding-code|" + normalise_code(code))


def issue_codes(rooms: list[Room], actor: str) -> list[IssuedCode]:
    """Issue a new code for each room, revoking the room's earlier active codes; returns the plain codes once."""
    now = clock.now()
    room_ids = [room.id for room in rooms]
    for start in range(0, len(room_ids), 1000):
        db.session.execute(update(BindingCode).where(BindingCode.room_id.in_(room_ids[start:start + 1000]),
                                                     BindingCode.status == "active").values(status="revoked"))
    issued = []
    for room in rooms:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code.isdigit():  # keep every code distinguishable from a room number
            code = "A" + code[1:]
        db.session.add(BindingCode(room_id=room.id, code_hash=_code_hash(code), issued_by=actor,
                                   expires_at=now + timedelta(days=CODE_VALID_DAYS)))
        issued.append(IssuedCode(room, code))
    audit.record(*_split(actor), "issue_codes", "rooms", len(rooms), room_ids=room_ids[:50])
    db.session.commit()
    return issued


def revoke_codes(room: Room, actor: str) -> int:
    """Revoke a room's active codes (a slip was lost); returns how many."""
    result = db.session.execute(update(BindingCode).where(BindingCode.room_id == room.id,
                                                          BindingCode.status == "active").values(status="revoked"))
    audit.record(*_split(actor), "revoke_codes", "room", room.id)
    db.session.commit()
    return result.rowcount


def _split(actor: str) -> tuple[str, str]:
    kind, _, ident = actor.partition(":")
    return kind, ident


def _require_consent(account: ResidentAccount) -> None:
    if not has_consent(account):
        raise DomainError("绑定前请先阅读并同意《个人信息处理说明》。")


def _refuse_tenant_upgrade(account: ResidentAccount, room_id: int, relation: str) -> None:
    existing = db.session.scalar(select(RoomBinding).where(RoomBinding.account_id == account.id,
                                                           RoomBinding.room_id == room_id,
                                                           RoomBinding.status == "bound"))
    if existing is None:
        return
    if existing.relation == relation:
        raise DomainError(f"您已经绑定了{existing.room.label}，不用重复绑定。")
    if existing.relation in {"tenant", "family"} and relation == "owner":
        raise DomainError(f"您已登记为该房屋的{RELATIONS[existing.relation]}，不能自行改为业主。"
                          "如情况有变，请带房产证明到社区办理。")


def bind_with_code(openid: str, code: str) -> RoomBinding:
    """Bind the resident as owner of the room a one-time code was printed for.

    A code for another owner's room than those the account holds, or one room more than a household holds, is
    used up but binds nothing: it becomes a request for staff, who are alerted (BindingNeedsApproval, committed)."""
    account = account_for(openid)
    _require_consent(account)
    if kv().hit_limit(f"bind-try:{openid}", TRIES_PER_HOUR, 3600):
        _alert_abuse(account)
        raise DomainError("尝试次数太多了，请一小时后再试，或联系楼栋长。")
    now = clock.now()
    found = db.session.scalar(select(BindingCode).where(BindingCode.code_hash == _code_hash(code)))
    if found is None:
        raise DomainError("绑定码不对，请核对纸条上的8位绑定码后重新输入。")
    if found.status == "used":
        raise DomainError("这个绑定码已经用过了。如需再绑定，请联系楼栋长补发。")
    if found.status == "revoked":
        raise DomainError("这个绑定码已作废，请使用新发的绑定码。")
    if found.expires_at <= now:
        raise DomainError("这个绑定码已过期，请联系楼栋长补发。")
    _refuse_tenant_upgrade(account, found.room_id, "owner")
    # Claim the code atomically: of two concurrent uses, exactly one sees rowcount 1.
    claimed = db.session.execute(update(BindingCode).where(BindingCode.id == found.id,
                                                           BindingCode.status == "active")
                                 .values(status="used", used_at=now, used_by_account_id=account.id))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise DomainError("这个绑定码已经用过了。如需再绑定，请联系楼栋长补发。")
    problem = binding_review.code_problem(account, found.room)
    if problem is not None:
        _code_request(account, found.room, problem)
    binding = _bind(account, found.room, "owner", "code")
    db.session.commit()
    return binding


def _code_request(account: ResidentAccount, room: Room, problem: binding_review.CodeProblem) -> None:
    """Turn a code the account may not use directly into a request; alert the estate's office staff; commit."""
    request = BindingRequest(account_id=account.id, room_id=room.id, relation="owner", claimed_name="",
                             phone_last4="", method="code")
    db.session.add(request)
    db.session.flush()
    _notify_reviewers(request, binding_review.office_staff_for(room) + approvers_for(room))
    log.warning("binding code turned into a request account=%s room=%s: %s", account.id, room.id, problem.staff)
    audit.record("resident", account.id, "request_binding", "room", room.id, relation="owner", method="code",
                 problem=problem.staff)
    db.session.commit()
    raise BindingNeedsApproval(f"{problem.resident}，不能直接绑定。已转为绑定申请（编号{request.id}），"
                               "社区核对后会通知您。", request)


def _bind(account: ResidentAccount, room: Room, relation: str, method: str) -> RoomBinding:
    binding = db.session.scalar(select(RoomBinding).where(RoomBinding.account_id == account.id,
                                                          RoomBinding.room_id == room.id))
    if binding is None:
        binding = RoomBinding(account_id=account.id, room_id=room.id)
        db.session.add(binding)
    binding.relation, binding.status, binding.method, binding.decided_at = relation, "bound", method, clock.now()
    if relation == "owner" and account.person_id is None:
        voter = next((o for o in room.ownerships if o.is_designated_voter), None)
        account.person_id = voter.person_id if voter else None
    audit.record("resident", account.id, "bind", "room", room.id, relation=relation, method=method)
    return binding


def request_binding(openid: str, room: Room, claimed_name: str, phone_last4: str, relation: str) -> BindingRequest:
    """Ask staff or the building head to approve a binding; they see it beside the register."""
    account = account_for(openid)
    _require_consent(account)
    claimed_name = claimed_name.strip()
    if relation not in RELATIONS:
        raise DomainError("请说明您与房屋的关系：业主、家属或租户。")
    if not claimed_name or len(claimed_name) > 20:
        raise DomainError("请填写业主的姓名。")
    if not (len(phone_last4) == 4 and phone_last4.isdigit()):
        raise DomainError("请填写台账登记手机号的后四位数字。")
    _refuse_tenant_upgrade(account, room.id, relation)
    pending = db.session.scalar(select(BindingRequest).where(BindingRequest.account_id == account.id,
                                                             BindingRequest.room_id == room.id,
                                                             BindingRequest.status == "pending"))
    if pending is not None:
        raise DomainError(f"您对{room.label}的绑定申请已经提交，正在审核，请耐心等待。")
    if kv().hit_limit(f"bind-req:{openid}", REQUESTS_PER_DAY, 86400) or \
            kv().hit_limit(f"bind-req-room:{room.id}", ROOM_REQUESTS_PER_DAY, 86400):
        _alert_abuse(account)
        raise DomainError("今天的申请次数已用完，请明天再试，或联系楼栋长。")
    request = BindingRequest(account_id=account.id, room_id=room.id, relation=relation,
                             claimed_name=claimed_name, phone_last4=phone_last4)
    db.session.add(request)
    db.session.flush()
    _notify_reviewers(request, approvers_for(room))
    audit.record("resident", account.id, "request_binding", "room", room.id, relation=relation)
    db.session.commit()
    return request


def _notify_reviewers(request: BindingRequest, users: list[StaffUser]) -> None:
    """Tell each reviewer about the request with its comparison beside the register (one message per person)."""
    text = binding_review.notice_text(request, binding_review.compare(request))
    for user in {u.id: u for u in users}.values():
        outbox.enqueue(user.openid, "text", {"text": text}, key=f"binding-request:{request.id}:to:{user.id}")


def approvers_for(room: Room) -> list[StaffUser]:
    """Staff linked to WeChat who may approve bindings for this room: its building head and community staff."""
    grants = db.session.scalars(select(RoleGrant).where(
        ((RoleGrant.role == "building_head") & (RoleGrant.scope_type == "building")
         & (RoleGrant.scope_id == room.building_id))
        | ((RoleGrant.role == "community_staff") & (RoleGrant.scope_type == "community")
           & (RoleGrant.scope_id == room.estate.community_id)))).all()
    users = {grant.user.id: grant.user for grant in grants if grant.user.openid and grant.user.active}
    return list(users.values())


APPROVER_ROLES = ("street_admin", "community_staff", "building_head")


def may_decide(user: StaffUser, room: Room) -> bool:
    """Office staff over the room's estate, or the head of its building, may approve its bindings."""
    from app.services import scope

    if not scope.has_role(user, *APPROVER_ROLES):
        return False
    try:
        estate = scope.estate_for(user, room.estate_id)
    except NotFound:
        return False
    reach = scope.reach(user, estate)
    return reach.whole or room.building_id in reach.building_ids


def pending_requests(user: StaffUser) -> list[BindingRequest]:
    """The pending requests this user may decide, oldest first."""
    requests = db.session.scalars(select(BindingRequest).where(BindingRequest.status == "pending")
                                  .order_by(BindingRequest.id)).all()
    return [r for r in requests if may_decide(user, r.room)]


def decide_request(user: StaffUser, request_id: int, approve: bool, note: str = "", *, channel: str = "dashboard",
                   reason: str = "") -> BindingRequest:
    """Approve or reject a pending request once; a second decision is refused.

    A request that does not match the register is approved only in the dashboard, with a typed `reason` that goes
    to the audit log; from chat (`channel="chat"`) it can only be rejected."""
    request = db.session.get(BindingRequest, request_id)
    if request is None or not may_decide(user, request.room):
        raise NotFound("没有找到这条绑定申请，或不在您的管辖范围内。")
    if request.status != "pending":
        raise DomainError(f"这条申请已经处理过了（{'已通过' if request.status == 'approved' else '已驳回'}）。")
    comparison = binding_review.compare(request)
    reason = reason.strip()[:200]
    if approve and not comparison.matches:
        if channel == "chat":
            raise DomainError(binding_review.chat_refusal(request, comparison))
        missing = binding_review.reason_problem(comparison, reason)
        if missing:
            raise DomainError(missing)
    status = "approved" if approve else "rejected"
    stored_note = (reason or note) if approve else note
    won = db.session.execute(update(BindingRequest).where(BindingRequest.id == request.id,
                                                          BindingRequest.status == "pending")
                             .values(status=status, decided_at=clock.now(), decided_by=user.id,
                                     note=stored_note[:200]))
    if won.rowcount != 1:
        db.session.rollback()
        raise DomainError("这条申请已经处理过了。")
    db.session.refresh(request)
    if approve:
        _bind(request.account, request.room, request.relation, "approval")
        text = f"您的绑定申请已通过：{request.room.label}（{RELATIONS[request.relation]}）。"
    else:
        text = f"您对{request.room.label}的绑定申请未通过。{note or '如有疑问请联系楼栋长。'}"
    outbox.enqueue(request.account.openid, "text", {"text": text}, key=f"binding-decision:{request.id}")
    detail = {"channel": channel, "mismatch": comparison.problems}
    if reason:
        detail["reason"] = reason
    audit.record("staff", user.id, "approve_binding" if approve else "reject_binding", "binding_request",
                 request.id, **detail)
    db.session.commit()
    return request


def unbind(openid: str, room_id: int) -> RoomBinding:
    """End a binding (moving out, a mistake); history stays, the binding no longer counts."""
    account = account_for(openid)
    binding = db.session.scalar(select(RoomBinding).where(RoomBinding.account_id == account.id,
                                                          RoomBinding.room_id == room_id,
                                                          RoomBinding.status == "bound"))
    if binding is None:
        raise NotFound("您没有绑定这个房屋。")
    binding.status, binding.decided_at = "unbound", clock.now()
    audit.record("resident", account.id, "unbind", "room", room_id)
    db.session.commit()
    return binding


def _alert_abuse(account: ResidentAccount) -> None:
    """Repeated failures: record them and tell the community staff once per hour."""
    if not kv().set(f"bind-alert:{account.id}", "1", ttl=3600, nx=True):
        return
    log.warning("binding attempts over the limit account=%s", account.id)
    audit.record("system", "", "binding_abuse", "resident_account", account.id)
    staff = db.session.scalars(select(StaffUser).join(RoleGrant).where(
        RoleGrant.role.in_(["community_staff", "street_admin"]), StaffUser.openid.is_not(None))).all()
    stamp = clock.now().strftime("%Y%m%d%H")
    for user in {u.id: u for u in staff}.values():
        outbox.enqueue(user.openid, "text", {"text": f"提醒：居民账号{account.id}绑定尝试次数异常，已暂时限制。"},
                       key=f"binding-abuse:{account.id}:{stamp}:to:{user.id}")
    db.session.commit()


def require_owner_binding(openid: str) -> list[RoomBinding]:
    """The rooms this resident is bound to as owner (votes and fees need one); PermissionDenied otherwise."""
    account = account_for(openid)
    owned = [b for b in account.active_bindings() if b.relation == "owner"]
    if not owned:
        raise PermissionDenied("只有已绑定的业主本人可以办理。请先发送“绑定”完成身份核验。")
    return owned
