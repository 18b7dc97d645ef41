"""Dashboard pages of 菜单式 services: the catalogue (prices in 元, stored in fen), orders, providers, statements."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.models import CatalogItem, Estate, Order, Street
from app.models.service import ITEM_CODES, ORDER_STATUSES, PAYMENT_METHODS, PROVIDER_KINDS
from app.services import audit, catalogue, estates, providers, scope
from app.services.errors import DomainError, NotFound
from app.web.auth import role_required
from app.web.dashboard import add_nav_item

bp = Blueprint("services", __name__, url_prefix="/admin/services")
OFFICE = tuple(sorted(scope.OFFICE_ROLES))
WORK = OFFICE + ("provider",)

add_nav_item("服务目录", "services.catalogue", OFFICE, order=40)
add_nav_item("服务订单", "services.orders", WORK, order=41)
add_nav_item("服务单位", "services.providers", OFFICE, order=42)


def _estates() -> list[Estate]:
    return list(db.session.scalars(scope.visible_estates(current_user)))


def _streets() -> list[Street]:
    """Streets where the user is a street admin: only they post street-wide items."""
    ids = [g.scope_id for g in current_user.grants if g.role == "street_admin" and g.scope_type == "street"]
    return list(db.session.scalars(select(Street).where(Street.id.in_(ids or [-1])).order_by(Street.name)))


def _item_in_scope(item: CatalogItem) -> bool:
    if item.estate_id is not None:
        return item.estate_id in {e.id for e in _estates()}
    return item.street_id in {s.id for s in _streets()}


@bp.get("/catalogue", endpoint="catalogue")
@role_required(*OFFICE)
def catalogue_list():
    """Every estate in scope with its catalogue (own and street-wide items), inactive ones shown greyed."""
    estates = _estates()
    rows = [(estate, catalogue.items_for_estate(estate, include_inactive=True)) for estate in estates]
    return render_template("services/catalogue.html", rows=rows, yuan=catalogue.yuan, codes=ITEM_CODES)


@bp.route("/catalogue/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/catalogue/<int:item_id>", methods=["GET", "POST"])
@role_required(*OFFICE)
def item_form(item_id: int | None):
    """Add or edit an item; prices typed in 元 are stored in fen; existing orders keep their own price."""
    item = db.session.get(CatalogItem, item_id) if item_id else None
    if item_id and (item is None or not _item_in_scope(item)):
        abort(404)
    estates, streets = _estates(), _streets()
    choices = providers.visible_providers(current_user)
    error = None
    if request.method == "POST":
        where = request.form.get("scope", "")
        kind, _, raw_id = where.partition(":")
        estate_id = int(raw_id) if kind == "estate" and raw_id.isdigit() else None
        street_id = int(raw_id) if kind == "street" and raw_id.isdigit() else None
        allowed = ({e.id for e in estates} if estate_id else {s.id for s in streets})
        try:
            if (estate_id or street_id) not in allowed:
                raise DomainError("请选择您负责范围内的小区或街道。")
            visible = {p.id for p in choices}
            chosen = [int(v) for v in request.form.getlist("providers") if v.isdigit() and int(v) in visible]
            saved = catalogue.save_item(
                current_user, item=item, estate_id=estate_id, street_id=street_id,
                code=request.form.get("code", ""), name=request.form.get("name", ""),
                description=request.form.get("description", ""), unit=request.form.get("unit", ""),
                price=request.form.get("price", ""), market_price=request.form.get("market_price", ""),
                opens=request.form.get("opens", ""), closes=request.form.get("closes", ""),
                active=request.form.get("active") == "1", provider_ids=chosen)
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            flash(f"已保存：{saved.name} {catalogue.yuan(saved.price_fen)}元/{saved.unit}。已下的订单价格不变。",
                  "success")
            return redirect(url_for("services.catalogue"))
    return render_template("services/item_form.html", item=item, estates=estates, streets=streets,
                           providers=choices, codes=ITEM_CODES, yuan=catalogue.yuan, error=error,
                           form=request.form if request.method == "POST" else None), (422 if error else 200)


def _orders_query():
    """Orders the user may see: office staff by estate scope, provider members those of their providers."""
    clauses = []
    if scope.has_role(current_user, *OFFICE):
        clauses.append(Order.estate_id.in_(select(Estate.id).where(
            scope.visible_estates(current_user).whereclause)))
    mine = [p.id for p in providers.providers_of(current_user)]
    if mine:
        from app.models.service import catalog_item_providers

        offered = select(catalog_item_providers.c.item_id).where(catalog_item_providers.c.provider_id.in_(mine))
        clauses.append(Order.provider_id.in_(mine))
        clauses.append(Order.provider_id.is_(None) & Order.item_id.in_(offered))
    return select(Order).where(or_(*clauses)) if clauses else None


@bp.get("/orders")
@role_required(*WORK)
def orders():
    """Orders in scope, newest first, filtered by status."""
    query = _orders_query()
    status = request.args.get("status", "")
    rows = []
    if query is not None:
        if status in ORDER_STATUSES:
            query = query.where(Order.status == status)
        rows = list(db.session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc()).limit(200)))
    return render_template("services/orders.html", orders=rows, statuses=ORDER_STATUSES, status=status,
                           yuan=catalogue.yuan)


@bp.route("/orders/<int:order_id>", methods=["GET", "POST"])
@role_required(*WORK)
def order_detail(order_id: int):
    """One order with its history; the provider or office records the payment here."""
    query = _orders_query()
    order = db.session.scalar(query.where(Order.id == order_id)) if query is not None else None
    if order is None:
        abort(404)
    error = None
    if request.method == "POST":
        try:
            amount = catalogue.parse_yuan(request.form.get("amount"), "收款金额")
            providers.record_payment(current_user, order, amount, request.form.get("method", ""))
        except (DomainError, NotFound) as exc:
            db.session.rollback()
            error = exc.message
        else:
            flash("已登记收款，收据已发给居民。", "success")
            return redirect(url_for("services.order_detail", order_id=order.id))
    audit.record_staff(current_user, "view", "service_order", order.id)
    db.session.commit()
    return render_template("services/order_detail.html", order=order, yuan=catalogue.yuan, methods=PAYMENT_METHODS,
                           can_pay=providers.may_handle_money(current_user, order), error=error), (422 if error else 200)


@bp.route("/providers", methods=["GET", "POST"], endpoint="providers")
@role_required(*OFFICE)
def providers_page():
    """The directory: ratings, completion times, complaints, lateness and the red/black list; 公益岗 hours."""
    error = None
    if request.method == "POST":
        try:
            provider = providers.provider_for_office(current_user, request.form.get("provider", type=int) or 0)
            estate = scope.estate_for(current_user, request.form.get("estate", type=int) or 0)
            worked_on = date.fromisoformat(request.form.get("worked_on", ""))
            providers.record_hours(current_user, provider, estate_id=estate.id, worked_on=worked_on,
                                   hours=request.form.get("hours", ""), task=request.form.get("task", ""),
                                   rate_yuan=request.form.get("rate", ""),
                                   room_id=_room_id(estate, request.form.get("room", "")))
        except ValueError:
            error = "日期格式不对。"
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            flash("已登记公益岗工时。", "success")
            return redirect(url_for("services.providers"))
    streets = list(db.session.scalars(select(Street).where(Street.id.in_(providers.street_ids(current_user)
                                                                           or {-1}))))
    return render_template("services/providers.html", records=providers.directory(current_user),
                           streets=streets, kinds=PROVIDER_KINDS,
                           estates=_estates(), month=f"{clock.now():%Y-%m}", today=clock.now().date(),
                           error=error), (422 if error else 200)


def _room_id(estate: Estate, text: str) -> int | None:
    """'3-2-501' or '3-501' (楼-单元-房号) → the room of this estate whose fees get the credit; blank → none."""
    parts = [p.strip().upper() for p in text.replace("－", "-").split("-") if p.strip()]
    if not parts:
        return None
    if len(parts) not in (2, 3):
        raise DomainError("抵费房屋请写成 楼号-单元-房号，例如 3-2-501；没有单元写 3-501。")
    found = estates.find_rooms(estate.id, parts[0], parts[-1], parts[1] if len(parts) == 3 else "")
    if len(found) != 1:
        raise DomainError(f"{estate.name}没有找到房屋 {text.strip()}，请核对。")
    return found[0].id


@bp.post("/providers/new")
@role_required(*OFFICE)
def provider_new():
    """Add a provider and link its staff accounts."""
    try:
        saved = providers.save_provider(current_user, name=request.form.get("name", ""),
                                        kind=request.form.get("kind", ""), phone=request.form.get("phone", ""),
                                        street_id=request.form.get("street", type=int),
                                        usernames=request.form.get("usernames", ""))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(f"已添加服务单位：{saved.name}。", "success")
    return redirect(url_for("services.providers"))


@bp.get("/providers/<int:provider_id>/statement.xlsx")
@role_required(*WORK)
def statement(provider_id: int):
    """The provider's monthly statement: office staff of its street, or its own members."""
    mine = {p.id: p for p in providers.providers_of(current_user)}
    try:
        provider = mine.get(provider_id) or providers.provider_for_office(current_user, provider_id)
        month = request.args.get("month") or f"{clock.now():%Y-%m}"
        data = providers.statement_xlsx(provider, month)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("services.providers"))
    audit.record_staff(current_user, "export", "service_statement", provider.id, month=month)
    db.session.commit()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{provider.name}-对账单-{month}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
