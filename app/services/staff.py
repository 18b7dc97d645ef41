"""Staff accounts: creation with a scoped role, login (throttled per source), and API tokens (hash stored only)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import ApiToken, Building, Community, Estate, RoleGrant, StaffUser, Street, Unit
from app.models.staff import ROLES
from app.services import audit, login_throttle, password_policy
from app.services.errors import DomainError
from app.services.register_parse import normalise_label

# Which scopes make sense for each role; a provider may serve a whole street, a community or some estates ("1+N").
ALLOWED_SCOPES = {
    "street_admin": ("street",),
    "community_staff": ("community", "estate"),
    "building_head": ("building",),
    "unit_head": ("unit",),
    "provider": ("street", "community", "estate"),
}
SCOPE_LABELS = {"street": "街道", "community": "社区", "estate": "小区", "building": "楼栋", "unit": "单元"}
USERNAME_RE = re.compile(r"^[\w.@-]{2,64}$")

BAD_CREDENTIALS = "用户名或密码错误。"
# A real hash to check against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = "scrypt:32768:8:1$linlidummysalt00$" + "0" * 128


def normalise_username(username: str) -> str:
    """Usernames compare without surrounding spaces and without ASCII case."""
    return (username or "").strip().lower()


def create_staff(username: str, password: str, display_name: str, role: str, scope_type: str, scope_id: int,
                 public_phone: str = "", actor: str = "cli") -> StaffUser:
    """Create a staff account with one role grant, and commit; DomainError with a Chinese message on bad input."""
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise DomainError("用户名需为2到64位的字母、数字、汉字或 . _ @ -，不能有空格。")
    password_policy.check_password(password, username)
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise DomainError(f"用户名“{username}”已存在。")
    user = StaffUser(username=username, display_name=(display_name or username).strip()[:80],
                     public_phone=(public_phone or "").strip()[:30])
    user.set_password(password)
    db.session.add(user)
    grant_role(user, role, scope_type, scope_id)
    db.session.flush()
    audit.record(*_actor(actor), "create", "staff_user", user.id, role=role, scope_type=scope_type,
                 scope_id=scope_id)
    db.session.commit()
    return user


def grant_role(user: StaffUser, role: str, scope_type: str, scope_id: int) -> RoleGrant:
    """Add a role grant to a user (the caller commits); checks that the role fits the scope and the scope exists."""
    if role not in ROLES:
        raise DomainError(f"没有“{role}”这个角色，可选：" + "、".join(f"{k}（{v}）" for k, v in ROLES.items()) + "。")
    allowed = ALLOWED_SCOPES[role]
    if scope_type not in allowed:
        names = "或".join(SCOPE_LABELS[s] for s in allowed)
        raise DomainError(f"{ROLES[role]}需要授权到{names}。")
    model = {"street": Street, "community": Community, "estate": Estate, "building": Building, "unit": Unit}
    if db.session.get(model[scope_type], scope_id) is None:
        raise DomainError(f"没有找到编号为{scope_id}的{SCOPE_LABELS[scope_type]}。")
    grant = RoleGrant(role=role, scope_type=scope_type, scope_id=scope_id)
    user.grants.append(grant)
    return grant


def resolve_scope(street: str | None = None, community: str | None = None, estate: str | None = None,
                  building: str | None = None, unit: str | None = None) -> tuple[str, int]:
    """Turn names or ids given on the command line into (scope_type, scope_id); the most specific one wins.

    Street, community and estate accept a name or a numeric id. A building is a label ("3号楼", "3") within
    the estate given, or an id when no estate is given; a unit likewise within its building.
    """
    street_obj = _find_one(Street, street, "街道") if street else None
    community_obj = None
    if community:
        query = select(Community)
        if street_obj is not None:
            query = query.where(Community.street_id == street_obj.id)
        community_obj = _find_one(Community, community, "社区", query, narrower="--street")
    estate_obj = None
    if estate:
        query = select(Estate)
        if community_obj is not None:
            query = query.where(Estate.community_id == community_obj.id)
        elif street_obj is not None:
            query = query.join(Community).where(Community.street_id == street_obj.id)
        estate_obj = _find_one(Estate, estate, "小区", query, narrower="--community")
    building_obj = None
    if building:
        if estate_obj is None:
            building_obj = _by_id(Building, building, "楼栋", hint="或同时用 --estate 指明小区")
        else:
            number = normalise_label(building, ("号楼", "栋", "幢", "座", "楼"))
            building_obj = db.session.scalar(select(Building).where(Building.estate_id == estate_obj.id,
                                                                    Building.number == number))
            if building_obj is None:
                raise DomainError(f"{estate_obj.name}没有“{building}”。")
    if unit:
        if building_obj is None:
            return "unit", _by_id(Unit, unit, "单元", hint="或同时用 --estate 和 --building 指明楼栋").id
        number = normalise_label(unit, ("单元",))
        unit_obj = db.session.scalar(select(Unit).where(Unit.building_id == building_obj.id, Unit.number == number))
        if unit_obj is None:
            raise DomainError(f"{building_obj.estate.name}{building_obj.name}没有“{unit}”。")
        return "unit", unit_obj.id
    for scope_type, obj in (("building", building_obj), ("estate", estate_obj), ("community", community_obj),
                            ("street", street_obj)):
        if obj is not None:
            return scope_type, obj.id
    raise DomainError("请指明授权范围：--street、--community、--estate、--building 或 --unit。")


def _by_id(model, value: str, label: str, hint: str):
    if not str(value).strip().isdigit():
        raise DomainError(f"{label}“{value}”请写编号，{hint}。")
    obj = db.session.get(model, int(value))
    if obj is None:
        raise DomainError(f"没有找到编号为{value}的{label}。")
    return obj


def _find_one(model, value: str, label: str, query=None, narrower: str = ""):
    value = str(value).strip()
    query = select(model) if query is None else query
    if value.isdigit():
        found = list(db.session.scalars(query.where(model.id == int(value))))
    else:
        found = list(db.session.scalars(query.where(model.name == value)))
    if not found:
        raise DomainError(f"没有找到{label}“{value}”。")
    if len(found) > 1:
        raise DomainError(f"有{len(found)}个名为“{value}”的{label}，请同时用 {narrower} 指明，或改用编号。")
    return found[0]


def _actor(actor: str) -> tuple[str, str]:
    kind, _, ident = actor.partition(":")
    return kind, ident


def authenticate(username: str, password: str, ip: str = "") -> StaffUser:
    """Check a login from address `ip`; LoginThrottled while that address must wait, DomainError when wrong.

    Failures slow down the address they come from (see login_throttle), never the account itself, so nobody can
    keep a staff member out by typing wrong passwords for their username.
    """
    name = normalise_username(username)
    with login_throttle.attempt(name, ip):
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == name)) if name else None
        if user is None:
            from werkzeug.security import check_password_hash

            check_password_hash(_DUMMY_HASH, password or "")
        if user is None or not user.active or not user.check_password(password or ""):
            login_throttle.record_failure(name, ip, user)
            raise DomainError(BAD_CREDENTIALS)
        login_throttle.record_success(name, ip)
        return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: StaffUser, name: str = "", actor: str = "cli") -> str:
    """Create an API token for a user and commit; the plain token is returned once and never stored."""
    token = "linli_" + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=(name or "")[:80], token_hash=_token_hash(token))
    db.session.add(record)
    db.session.flush()
    audit.record(*_actor(actor), "create", "api_token", record.id, user_id=user.id)
    db.session.commit()
    return token


def user_for_token(token: str | None) -> StaffUser | None:
    """The active staff user a bearer token belongs to, or None; notes its last use (at most once a minute)."""
    if not token:
        return None
    record = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token.strip()),
                                                      ApiToken.revoked.is_(False)))
    if record is None or not record.user.active:
        return None
    now = clock.now()
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        record.last_used_at = now
        db.session.commit()
    return record.user


def revoke_api_tokens(user: StaffUser) -> int:
    """Revoke every token of a user and commit; returns how many were live."""
    tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.revoked.is_(False))))
    for record in tokens:
        record.revoked = True
    db.session.commit()
    return len(tokens)


def find_staff(username: str) -> StaffUser:
    """A staff user by username; DomainError when there is none."""
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.username) == normalise_username(username)))
    if user is None:
        raise DomainError(f"没有用户名为“{username}”的工作人员。")
    return user
