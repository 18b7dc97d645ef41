"""A binding request beside the register: what an approver must see, and which requests only the dashboard may pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import or_, select

from app import privacy
from app.extensions import db
from app.models import BindingRequest, Community, ResidentAccount, RoleGrant, Room, StaffUser
from app.models.person import RELATIONS

# A household may hold a few rooms of one register owner by code; more, or another owner's room, needs staff.
CODE_ROOMS_PER_ACCOUNT = 5
REASON_MIN_CHARS = 4


@dataclass(frozen=True)
class Comparison:
    """How a request compares with the register; no problems means it matches and may be approved from chat."""

    owners: list[dict] = field(default_factory=list)
    name_match: bool = False
    phone_match: bool = False
    held: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    via_code: bool = False

    @property
    def matches(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One short line for chat and the dashboard: 与台账一致 / 与台账不一致：姓名不一致、…"""
        if self.matches:
            return "与台账一致"
        return ("需要核对：" if self.via_code else "与台账不一致：") + "、".join(self.problems)


def owner_persons(room: Room) -> set[int]:
    """The register persons owning a room (co-owners included)."""
    return {o.person_id for o in room.ownerships}


def held_owner_rooms(account: ResidentAccount, except_room_id: int | None = None) -> list[Room]:
    """The rooms an account is bound to as owner, apart from one."""
    return [b.room for b in account.active_bindings() if b.relation == "owner" and b.room_id != except_room_id]


@dataclass(frozen=True)
class CodeProblem:
    """Why a code may not bind an account directly: in staff's words and in the resident's."""

    staff: str
    resident: str


def code_problem(account: ResidentAccount, room: Room) -> CodeProblem | None:
    """Why a code for this room must not bind the account directly (another owner's room, too many), or None."""
    held = held_owner_rooms(account, except_room_id=room.id)
    if not held:
        return None
    if not owner_persons(room) & set().union(*(owner_persons(r) for r in held)):
        return CodeProblem("该微信已绑定其他业主的房屋", "这套房屋登记的业主与您已绑定的房屋不是同一人")
    if len(held) >= CODE_ROOMS_PER_ACCOUNT:
        return CodeProblem(f"该微信已绑定{len(held)}套房屋，超过凭绑定码可绑定的{CODE_ROOMS_PER_ACCOUNT}套",
                           f"一个微信最多凭绑定码绑定{CODE_ROOMS_PER_ACCOUNT}套房屋")
    return None


def compare(request: BindingRequest) -> Comparison:
    """The request beside the register: owners' names and phone last four, and every mismatch in words."""
    room = request.room
    owners = [{"name": o.person.name, "last4": (o.person.phone or "")[-4:] or "—", "voter": o.is_designated_voter}
              for o in room.ownerships]
    held = [f"{r.label}（{privacy.mask_name(_voter_name(r))}）" for r in held_owner_rooms(request.account, room.id)]
    if request.method == "code":
        problem = code_problem(request.account, room)
        return Comparison(owners, held=held, problems=[problem.staff] if problem else [], via_code=True)
    name_match = any(o["name"] == request.claimed_name for o in owners)
    phone_match = any(o["last4"] == request.phone_last4 for o in owners)
    problems = []
    if not owners:
        problems.append("台账没有登记业主")
    else:
        if not name_match:
            problems.append("姓名不一致")
        if not phone_match:
            problems.append("手机后四位不一致")
        if name_match and phone_match and not any(o["name"] == request.claimed_name
                                                  and o["last4"] == request.phone_last4 for o in owners):
            problems.append("姓名和手机号不是同一位业主")
    return Comparison(owners, name_match, phone_match, held, problems)


def _voter_name(room: Room) -> str:
    voter = next((o for o in room.ownerships if o.is_designated_voter), None)
    return voter.person.name if voter else ""


def review_link() -> str:
    """Where staff review requests in the dashboard."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/admin/binding/requests"


def notice_text(request: BindingRequest, comparison: Comparison) -> str:
    """The message to an approver: the request, its comparison with the register, and how it may be decided."""
    room = request.room
    if request.method == "code":
        lead = (f"【绑定提醒】居民账号{request.account_id}用绑定码申请绑定{room.estate.name}{room.label}"
                f"（编号{request.id}），该微信已绑定：{'、'.join(comparison.held[:5]) or '—'}")
    else:
        lead = (f"新的绑定申请（编号{request.id}）：{room.label}，申请人{privacy.mask_name(request.claimed_name)}"
                f"（{RELATIONS[request.relation]}）")
    if comparison.matches:
        return f"{lead}。{comparison.summary()}，核对无误可回复“同意 {request.id}”，或回复“拒绝 {request.id}”。"
    return (f"{lead}。{comparison.summary()}，不能在对话中通过，请到后台核对：{review_link()}"
            f"；也可回复“拒绝 {request.id}”。")


def chat_refusal(request: BindingRequest, comparison: Comparison) -> str:
    """Why “同意 N” cannot pass this request (it does not match the register)."""
    return (f"申请{request.id}{comparison.summary()}，不能在对话中通过。请到后台核对后处理：{review_link()}"
            f"（也可回复“拒绝 {request.id}”驳回）。")


def reason_problem(comparison: Comparison, reason: str) -> str | None:
    """A mismatching request passes in the dashboard only with a typed reason; the message when it is missing."""
    if comparison.matches or len(reason.strip()) >= REASON_MIN_CHARS:
        return None
    return (f"这条申请{comparison.summary()}。如已核实，请填写核对说明（怎样核实的身份，"
            f"至少{REASON_MIN_CHARS}个字）后再通过。")


def office_staff_for(room: Room) -> list[StaffUser]:
    """Community staff and street admins over the room's estate who are linked to WeChat (for alerts)."""
    estate = room.estate
    street_id = db.session.get(Community, estate.community_id).street_id
    grants = db.session.scalars(select(RoleGrant).where(or_(
        (RoleGrant.role == "community_staff") & (RoleGrant.scope_type == "community")
        & (RoleGrant.scope_id == estate.community_id),
        (RoleGrant.role == "community_staff") & (RoleGrant.scope_type == "estate") & (RoleGrant.scope_id == estate.id),
        (RoleGrant.role == "street_admin") & (RoleGrant.scope_type == "street") & (RoleGrant.scope_id == street_id),
    ))).all()
    users = {grant.user.id: grant.user for grant in grants if grant.user.openid and grant.user.active}
    return list(users.values())
