"""The JSON API under /api/v1 (flask-smorest, OpenAPI at /api/v1/openapi.json), staff bearer tokens, scoped reads."""

from __future__ import annotations

from flask import Flask, g, jsonify, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from marshmallow.validate import Range
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import privacy
from app.extensions import csrf, db
from app.models import Estate, Ownership, Room, Unit
from app.models.place import SIX_HAVES
from app.services import audit, scope
from app.web.converters import MAX_ID

api = Api(spec_kwargs={
    "info": {"description": "邻里 Linli 对接接口。请求头带 Authorization: Bearer <令牌>（用 `linli api-token` 生成）。"},
})
blp = Blueprint("api_register", __name__, url_prefix="/api/v1", description="小区台账（只读）")

_SECURITY = [{"bearerAuth": []}]


def init_app(app: Flask) -> None:
    """Bind the API to the app and register the register endpoints; other modules call register() afterwards."""
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    register(blp)


def register(blueprint: Blueprint) -> None:
    """Add an API blueprint: bearer-token auth on every route, no CSRF (no cookies are used), in the OpenAPI doc."""
    if not getattr(blueprint, "_linli_auth", False):
        blueprint.before_request(_require_token)
        blueprint._linli_auth = True
    csrf.exempt(blueprint)
    api.register_blueprint(blueprint)


def _require_token():
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    from app.services.staff import user_for_token

    user = user_for_token(token) if kind.lower() == "bearer" else None
    if user is None:
        response = jsonify({"code": 401, "message": "缺少或无效的 API 令牌。"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="linli"'
        return response
    g.api_user = user
    return None


def current_api_user():
    """The staff user of the current API request (set by the token check)."""
    return g.api_user


class StandardSchema(Schema):
    """One item of the 六有 checklist."""
    code = fields.String(metadata={"description": "六有条目代码"})
    label = fields.String()
    achieved = fields.Boolean()
    achieved_on = fields.Date(allow_none=True)


class EstateSchema(Schema):
    """An estate of the register (台账) with its 六有 status."""
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    street = fields.String()
    community = fields.String()
    estate_type = fields.String()
    type_label = fields.String()
    management_modes = fields.List(fields.String())
    management_mode_labels = fields.List(fields.String())
    households = fields.Integer(metadata={"description": "户数（房屋数）"})
    has_owners_committee = fields.Boolean()
    has_maintenance_fund = fields.Boolean()
    facilities_handed_over = fields.Boolean()
    six_haves = fields.List(fields.Nested(StandardSchema))


class BuildingSchema(Schema):
    """A building with the units and rooms the caller may see."""
    id = fields.Integer()
    number = fields.String()
    name = fields.String()
    units = fields.Integer()
    rooms = fields.Integer(metadata={"description": "您可见的房屋数"})


class EstateDetailSchema(EstateSchema):
    """An estate with its buildings."""
    buildings = fields.List(fields.Nested(BuildingSchema))


class OwnerSchema(Schema):
    """An owner of a room, masked."""
    name = fields.String(metadata={"description": "打码的姓名"})
    phone = fields.String(metadata={"description": "打码的手机号，如 138****1234"})
    designated_voter = fields.Boolean()
    developer_held = fields.Boolean()


class RoomSchema(Schema):
    """A room with its area and masked owners."""
    id = fields.Integer()
    building = fields.String()
    unit = fields.String()
    number = fields.String()
    floor = fields.Integer(allow_none=True)
    area = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "建筑面积（㎡）"})
    area_source = fields.String()
    developer_held = fields.Boolean()
    owners = fields.List(fields.Nested(OwnerSchema))


class RoomQuerySchema(Schema):
    """Filters of the rooms list."""
    building_id = fields.Integer(required=False, validate=Range(min=1, max=MAX_ID),  # an id column holds no more
                                 metadata={"description": "只看这一栋楼"})


def _estate_data(estate: Estate, households: int) -> dict:
    status = estate.standard_status()
    return {
        "id": estate.id, "name": estate.name, "address": estate.address,
        "street": estate.community.street.name, "community": estate.community.name,
        "estate_type": estate.estate_type, "type_label": estate.type_label,
        "management_modes": list(estate.management_modes or []), "management_mode_labels": estate.mode_labels,
        "households": households, "has_owners_committee": estate.has_owners_committee,
        "has_maintenance_fund": estate.has_maintenance_fund, "facilities_handed_over": estate.facilities_handed_over,
        "six_haves": [{"code": code, "label": label, "achieved": status[code] is not None,
                       "achieved_on": status[code]} for code, label in SIX_HAVES.items()],
    }


def _households(estate_ids: list[int]) -> dict[int, int]:
    if not estate_ids:
        return {}
    rows = db.session.execute(select(Room.estate_id, func.count(Room.id))
                              .where(Room.estate_id.in_(estate_ids)).group_by(Room.estate_id))
    return dict(rows.all())


@blp.route("/estates")
@blp.doc(security=_SECURITY)
@blp.response(200, EstateSchema(many=True))
def list_estates():
    """The estates in the token owner's scope."""
    user = current_api_user()
    estates = list(db.session.scalars(scope.visible_estates(user).options(selectinload(Estate.standards))))
    counts = _households([e.id for e in estates])
    # Serialise before committing the audit entry: a commit expires every loaded object.
    data = [_estate_data(e, counts.get(e.id, 0)) for e in estates]
    audit.record_staff(user, "view", "estate_list", "", channel="api", estates=len(estates))
    db.session.commit()
    return data


@blp.route("/estates/<int:estate_id>")
@blp.doc(security=_SECURITY)
@blp.response(200, EstateDetailSchema)
def get_estate(estate_id: int):
    """One estate with the buildings the token owner may see (units and rooms counted)."""
    user = current_api_user()
    estate = scope.estate_for(user, estate_id)
    buildings = scope.visible_buildings(user, estate)
    reach = scope.reach(user, estate)
    room_counts = dict(db.session.execute(
        select(Room.building_id, func.count(Room.id)).where(Room.estate_id == estate.id, reach.room_clause())
        .group_by(Room.building_id)).all())
    unit_counts = dict(db.session.execute(
        select(Unit.building_id, func.count(Unit.id)).where(Unit.building_id.in_([b.id for b in buildings]))
        .group_by(Unit.building_id)).all())
    data = _estate_data(estate, _households([estate.id]).get(estate.id, 0))
    data["buildings"] = [{"id": b.id, "number": b.number, "name": b.name, "units": unit_counts.get(b.id, 0),
                          "rooms": room_counts.get(b.id, 0)} for b in buildings]
    audit.record_staff(user, "view", "estate", estate.id, channel="api")
    db.session.commit()
    return data


@blp.route("/estates/<int:estate_id>/rooms")
@blp.doc(security=_SECURITY)
@blp.arguments(RoomQuerySchema, location="query")
@blp.response(200, RoomSchema(many=True))
@blp.paginate(page_size=200, max_page_size=1000)
def list_rooms(args: dict, estate_id: int, pagination_parameters):
    """Rooms of an estate in the token owner's reach, with area and masked owner names and phones."""
    user = current_api_user()
    estate = scope.estate_for(user, estate_id)
    query = scope.visible_rooms(user, estate, args.get("building_id"))
    pagination_parameters.item_count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = list(db.session.scalars(
        query.options(selectinload(Room.unit), selectinload(Room.building),
                      selectinload(Room.ownerships).selectinload(Ownership.person))
        .offset(pagination_parameters.first_item).limit(pagination_parameters.page_size)))
    data = [_room_data(room) for room in page]
    audit.record_staff(user, "view", "rooms", estate.id, channel="api", page=pagination_parameters.page,
                       rooms=len(page), building_id=args.get("building_id"))
    db.session.commit()
    return data


def _room_data(room: Room) -> dict:
    owners = [{"name": privacy.mask_name(o.person.name), "phone": o.person.masked_phone,
               "designated_voter": o.is_designated_voter, "developer_held": o.developer_held}
              for o in sorted(room.ownerships, key=lambda o: (not o.is_designated_voter, o.id))]
    return {"id": room.id, "building": room.building.name, "unit": room.unit.name, "number": room.number,
            "floor": room.floor, "area": room.area, "area_source": room.area_source,
            "developer_held": any(o["developer_held"] for o in owners), "owners": owners}
