"""The admin dashboard shell: role-scoped navigation, the estates list, the estate page and the register upload."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import StringField
from wtforms.validators import Length, Optional

from app import clock
from app.extensions import db
from app.models import Community, Estate, Ownership, Person, Room, Street
from app.models.place import AREA_SOURCES, SIX_HAVES
from app.services import audit, scope
from app.services.errors import PermissionDenied, RegisterError
from app.web.auth import role_required
from app.web.uploads import upload_limit

# The shared layout (base.html) and the stylesheet live here; other blueprints extend "base.html".
bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")
OFFICE = tuple(sorted(scope.OFFICE_ROLES))
REGISTER = tuple(sorted(scope.REGISTER_ROLES))


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation; `roles` None means every signed-in staff member."""

    label: str
    endpoint: str
    roles: tuple[str, ...] | None = None
    order: int = 100


NAV: list[NavItem] = []
# One character per 六有 item for the compact ticks of the estates list.
SIX_HAVES_SHORT = {"gate": "门", "cleaning": "洁", "repair": "修", "greening": "绿", "security": "安", "parking": "车"}


def add_nav_item(label: str, endpoint: str, roles: tuple[str, ...] | None = None, order: int = 100) -> None:
    """Add a navigation entry (other blueprints call this once at import); the same endpoint is added once."""
    if all(item.endpoint != endpoint for item in NAV):
        NAV.append(NavItem(label, endpoint, tuple(roles) if roles else None, order))
        NAV.sort(key=lambda item: item.order)


add_nav_item("首页", "dashboard.home", order=0)
add_nav_item("小区台账", "dashboard.estates", REGISTER, order=10)
add_nav_item("导入台账", "dashboard.register", OFFICE, order=90)


@bp.app_context_processor
def _navigation() -> dict:
    if not current_user.is_authenticated:
        return {"nav_items": []}
    items = [item for item in NAV if item.roles is None or scope.has_role(current_user, *item.roles)]
    return {"nav_items": items, "six_haves": SIX_HAVES, "six_haves_short": SIX_HAVES_SHORT}


@bp.get("/")
def index():
    """The site root leads to the dashboard."""
    return redirect(url_for("dashboard.home"))


@bp.get("/admin")
@login_required
def home():
    """The start page: who you are, what you may see, and the estates in reach."""
    grants = [scope.describe_grant(grant) for grant in current_user.grants]
    estates = list(db.session.scalars(scope.visible_estates(current_user).limit(21)))
    return render_template("admin/home.html", grants=grants, estates=estates[:20], more=len(estates) > 20,
                           households=_household_counts([e.id for e in estates]))


@bp.get("/admin/estates")
@role_required(*REGISTER)
def estates():
    """Every estate in the user's scope with its type, modes, households, committee, fund, hand-over and 六有."""
    query = scope.visible_estates(current_user).options(
        selectinload(Estate.standards), selectinload(Estate.community).selectinload(Community.street))
    rows = list(db.session.scalars(query))
    return render_template("admin/estates.html", estates=rows, households=_household_counts([e.id for e in rows]))


@bp.get("/admin/estates/<int:estate_id>")
@role_required(*REGISTER)
def estate(estate_id: int):
    """One estate: buildings → units → rooms → owners of the chosen building, phones masked; the view is logged."""
    estate = scope.estate_for(current_user, estate_id)
    buildings = scope.visible_buildings(current_user, estate)
    chosen = None
    if buildings:
        wanted = request.args.get("building", type=int)
        chosen = scope.building_for(current_user, estate, wanted) if wanted else buildings[0]
    rooms = []
    if chosen is not None:
        rooms = list(db.session.scalars(
            scope.visible_rooms(current_user, estate, chosen.id).options(
                selectinload(Room.unit), selectinload(Room.ownerships).selectinload(Ownership.person))))
    units: dict[int, list[Room]] = {}
    for room in rooms:
        units.setdefault(room.unit_id, []).append(room)
    page = render_template("admin/estate.html", estate=estate, buildings=buildings, chosen=chosen,
                           units=[(rooms_[0].unit, rooms_) for rooms_ in units.values()],
                           room_counts=_room_counts(current_user, estate), area_sources=AREA_SOURCES,
                           households=_household_counts([estate.id]).get(estate.id, 0),
                           can_reveal=scope.can_see_phone(current_user),
                           can_edit_estate=scope.can_manage_register(current_user),
                           can_print_codes=scope.has_role(current_user, "street_admin", "community_staff",
                                                          "building_head"))
    if chosen is not None:
        # Logged after rendering: a commit expires every loaded object, and the page reads them all.
        audit.record_staff(current_user, "view", "estate", estate.id, building_id=chosen.id, rooms=len(rooms))
        db.session.commit()
    return page


class RevealForm(FlaskForm):
    """Revealing a phone number is a POST, so that each reveal is deliberate and logged."""


@bp.route("/admin/persons/<int:person_id>/phone", methods=["GET", "POST"])
@role_required(*OFFICE)
def reveal_phone(person_id: int):
    """Show one owner's full phone number to office staff who need to call; every reveal is audit-logged."""
    if not scope.can_see_phone(current_user):
        abort(404)
    rooms = scope.person_rooms(current_user, person_id)
    person = db.session.get(Person, person_id)
    form = RevealForm()
    phone = None
    if form.validate_on_submit():
        phone = person.phone
        audit.record_staff(current_user, "reveal_phone", "person", person.id, rooms=[room.id for room in rooms])
        db.session.commit()
    return render_template("admin/phone.html", person=person, rooms=rooms, form=form, phone=phone)


class RegisterUploadForm(FlaskForm):
    """The register file and where its estates belong."""

    file = FileField("台账文件", validators=[FileRequired("请选择要导入的文件。"),
                                         FileAllowed(["xlsx", "csv"], "只支持 .xlsx 或 .csv 文件。")])
    street = StringField("街道", validators=[Optional(), Length(max=80)])
    community = StringField("社区", validators=[Optional(), Length(max=80)])


@bp.route("/admin/register", methods=["GET", "POST"])
@upload_limit(lambda config: config["REGISTER_MAX_UPLOAD"])  # register files are the biggest thing we accept
@role_required(*OFFICE)
def register():
    """Upload a register file: all or nothing, with the same row report as `linli import-register`."""
    form = RegisterUploadForm()
    problems: list[str] = []
    if request.method == "GET":
        form.street.data, form.community.data = _default_place(current_user)
    if form.validate_on_submit():
        from app.services.register import import_register

        upload = form.file.data
        street, community = (form.street.data or "").strip(), (form.community.data or "").strip()
        try:
            _check_import_scope(current_user, street, community)
            report = import_register(upload.read(), upload.filename or "register", street=street or None,
                                     community=community or None, actor=f"staff:{current_user.id}")
        except RegisterError as error:
            problems = error.problems
        except PermissionDenied as error:
            problems = [error.message]
        else:
            flash(f"导入成功：{report.rows} 行；新建小区 {report.estates} 个、楼栋 {report.buildings} 栋、"
                  f"单元 {report.units} 个；新增房屋 {report.rooms_created} 户、更新 {report.rooms_updated} 户；"
                  f"业主 {report.persons} 人。", "success")
            return redirect(url_for("dashboard.estates"))
    elif request.method == "POST":
        problems = [message for messages in form.errors.values() for message in messages]
    status = 422 if problems else 200
    from app.services.register_parse import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    return render_template("admin/register.html", form=form, problems=problems, required_columns=REQUIRED_COLUMNS,
                           optional_columns=OPTIONAL_COLUMNS), status


@bp.get("/admin/register/export")
@role_required(*OFFICE)
def register_export():
    """Download the 住宅小区基本情况台账 of every estate in scope (.xlsx)."""
    from io import BytesIO

    from app.services.register import export_register

    rows = list(db.session.scalars(scope.visible_estates(current_user)))
    data = export_register(rows)
    audit.record_staff(current_user, "export", "register", "", estates=len(rows))
    db.session.commit()
    name = f"住宅小区基本情况台账-{clock.now():%Y%m%d}.xlsx"
    return send_file(BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _household_counts(estate_ids: list[int]) -> dict[int, int]:
    if not estate_ids:
        return {}
    rows = db.session.execute(select(Room.estate_id, func.count(Room.id))
                              .where(Room.estate_id.in_(estate_ids)).group_by(Room.estate_id))
    return {estate_id: count for estate_id, count in rows}


def _room_counts(user, estate: Estate) -> dict[int, int]:
    """Visible rooms per building of one estate."""
    query = (select(Room.building_id, func.count(Room.id))
             .where(Room.estate_id == estate.id, scope.reach(user, estate).room_clause())
             .group_by(Room.building_id))
    return {building_id: count for building_id, count in db.session.execute(query)}


def _default_place(user) -> tuple[str, str]:
    """The street and community of the user's first office grant, to prefill the upload form."""
    for grant in user.grants:
        if grant.role not in scope.OFFICE_ROLES:
            continue
        if grant.scope_type == "street" and (street := db.session.get(Street, grant.scope_id)):
            return street.name, ""
        if grant.scope_type == "community" and (community := db.session.get(Community, grant.scope_id)):
            return community.street.name, community.name
        if grant.scope_type == "estate" and (estate := db.session.get(Estate, grant.scope_id)):
            return estate.community.street.name, estate.community.name
    return "", ""


def _check_import_scope(user, street: str, community: str) -> None:
    """Staff import only into their own street or community (an import rewrites owners of matching rooms)."""
    from app.services.register import DEFAULT_COMMUNITY, DEFAULT_STREET

    street, community = street or DEFAULT_STREET, community or DEFAULT_COMMUNITY
    for grant in user.grants:
        if grant.role not in scope.OFFICE_ROLES:
            continue
        if grant.scope_type == "street":
            target = db.session.get(Street, grant.scope_id)
            if target is not None and target.name == street:
                return
        if grant.scope_type == "community":
            target = db.session.get(Community, grant.scope_id)
            if target is not None and target.name == community and target.street.name == street:
                return
    raise PermissionDenied("您只能导入本街道或本社区的台账，请检查“街道”“社区”两栏。")
