"""Dashboard and H5 pages: catalogue in 元 stored in fen, orders and payments, directory and statement, scope,
booking with one order per form, my orders, the provider's work page."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import CatalogItem, Order, Payment, VolunteerHours
from app.services import orders
from app.wechat import h5
from factories import login, make_community, make_staff_user
from svc_world import NOW


def sign_in(app, client, openid: str) -> None:
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], openid))


def _form(svc, **changes) -> dict:
    data = {"scope": f"estate:{svc.estate}", "code": "plumbing", "name": "水龙头更换", "description": "含人工，不含龙头",
            "unit": "个", "price": "30", "market_price": "50", "opens": "08:00", "closes": "18:00",
            "providers": [str(svc.provider_a)], "active": "1"}
    data.update(changes)
    return data


def test_catalogue_add_edit_in_yuan_stored_in_fen(app, client, svc):
    login(client, "shequ")
    page = client.get("/admin/services/catalogue").get_data(as_text=True)
    assert "开锁" in page and "50元/次" in page and "30元" in page and "已暂停" in page
    created = client.post("/admin/services/catalogue/new", data=_form(svc, price="29.90"))
    assert created.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(CatalogItem).where(CatalogItem.code == "plumbing"))
        assert (item.price_fen, item.market_price_fen, item.unit) == (2990, 5000, "个")
        item_id = item.id
    edit = client.get(f"/admin/services/catalogue/{item_id}").get_data(as_text=True)
    assert 'value="29.90"' in edit
    bad = client.post(f"/admin/services/catalogue/{item_id}", data=_form(svc, price="-3"))
    assert bad.status_code == 422 and "不小于 0" in bad.get_data(as_text=True)
    bad = client.post(f"/admin/services/catalogue/{item_id}", data=_form(svc, opens="18:00", closes="08:00"))
    assert bad.status_code == 422 and "结束要晚于开始" in bad.get_data(as_text=True)
    dup = client.post("/admin/services/catalogue/new", data=_form(svc, code="unlock"))
    assert dup.status_code == 422 and "同一代码" in dup.get_data(as_text=True)
    # A street-wide item needs a street admin; community staff may not post one.
    street = client.post("/admin/services/catalogue/new", data=_form(svc, scope=f"street:{svc.street}", code="x_y"))
    assert street.status_code == 422 and "负责范围" in street.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(CatalogItem.id))) == 5
        assert db.session.get(CatalogItem, item_id).price_fen == 2990


def test_provider_and_foreign_staff_cannot_manage_the_catalogue(app, client, svc):
    with app.app_context():
        make_staff_user("stranger", role="community_staff", scope=make_community(name="别的社区"))
        db.session.commit()
    login(client, "fuwu")
    assert client.get("/admin/services/catalogue").status_code == 404
    assert client.get(f"/admin/services/catalogue/{svc.unlock}").status_code == 404
    client.post("/logout")
    login(client, "stranger")
    assert client.get(f"/admin/services/catalogue/{svc.unlock}").status_code == 404
    assert "开锁" not in client.get("/admin/services/catalogue").get_data(as_text=True)


def _booked(app, svc, key="k") -> tuple[int, str]:
    with app.app_context(), clock.frozen_at(NOW):
        order, _ = orders.place_order("o-zhang", svc.unlock, NOW.replace(hour=15), client_key=key)
        return order.id, order.number


def test_orders_detail_payment_and_scope(app, client, svc):
    order_id, number = _booked(app, svc)
    with app.app_context():
        make_staff_user("stranger", role="community_staff", scope=make_community(name="别的社区"))
        db.session.commit()
    login(client, "fuwu")
    assert number in client.get("/admin/services/orders").get_data(as_text=True)
    with app.app_context():
        orders.accept(db.session.get(__import__("app.models", fromlist=["StaffUser"]).StaffUser, svc.worker_a), number)
    bad = client.post(f"/admin/services/orders/{order_id}", data={"amount": "五十", "method": "cash"})
    assert bad.status_code == 422 and "请填数字" in bad.get_data(as_text=True)
    ok = client.post(f"/admin/services/orders/{order_id}", data={"amount": "50", "method": "transfer"})
    assert ok.status_code == 302
    again = client.post(f"/admin/services/orders/{order_id}", data={"amount": "50", "method": "cash"})
    assert again.status_code == 422 and "已经登记过收款" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 1
    client.post("/logout")
    login(client, "stranger")
    assert client.get(f"/admin/services/orders/{order_id}").status_code == 404
    assert number not in client.get("/admin/services/orders").get_data(as_text=True)


def test_directory_statement_and_hours(app, client, svc):
    login(client, "shequ")
    page = client.get("/admin/services/providers").get_data(as_text=True)
    assert "邻家便民维修部" in page and "老刘开锁" in page
    today = clock.now().date().isoformat()
    form = {"provider": svc.provider_a, "estate": svc.estate, "worked_on": today, "hours": "2", "task": "楼道清扫",
            "rate": "15", "room": "3-2-501"}
    bad = client.post("/admin/services/providers", data={**form, "room": "9-9-909"})
    assert bad.status_code == 422 and "没有找到房屋" in bad.get_data(as_text=True)
    assert client.post("/admin/services/providers", data=form).status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(VolunteerHours))
        assert (entry.credit_fen, entry.room_id) == (3000, svc.room)
    month = clock.now().strftime("%Y-%m")
    response = client.get(f"/admin/services/providers/{svc.provider_a}/statement.xlsx?month={month}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book["订单明细"]["A1"].value == f"邻家便民维修部 {month} 菜单式服务对账单"
    assert book["公益岗工时"]["B2"].value == "楼道清扫"
    client.post("/logout")
    login(client, "fuwu2")  # 老刘开锁 may download its own statement, not 邻家便民维修部's
    assert client.get(f"/admin/services/providers/{svc.provider_b}/statement.xlsx").status_code == 200
    assert client.get(f"/admin/services/providers/{svc.provider_a}/statement.xlsx").status_code == 404


def test_h5_catalogue_and_booking_once_per_form(app, client, svc):
    sign_in(app, client, "o-zhang")
    page = client.get("/h5/services").get_data(as_text=True)
    assert "开锁" in page and "市场价 80元" in page and "省30元" in page and "家电清洗" not in page
    form = client.get(f"/h5/services/book/{svc.drain}").get_data(as_text=True)
    assert 'name="key"' in form and "3号楼2单元502室" in form
    slot = (clock.now() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    data = {"key": "form-abc", "slot": slot.isoformat(), "room": str(svc.room2), "note": "厨房下水"}
    first = client.post(f"/h5/services/book/{svc.drain}", data=data)
    second = client.post(f"/h5/services/book/{svc.drain}", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        [order] = db.session.scalars(select(Order)).all()
        assert (order.room_id, order.note, order.price_fen) == (svc.room2, "厨房下水", 6000)
        number = order.number
    done = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "预约成功" in done and number in done
    bad = client.post(f"/h5/services/book/{svc.drain}", data={**data, "key": "k2", "room": str(svc.foreign_room)})
    assert bad.status_code == 422 and "已绑定的房屋" in bad.get_data(as_text=True)
    bad = client.post(f"/h5/services/book/{svc.drain}", data={**data, "key": "k3", "slot": "明天"})
    assert bad.status_code == 422 and "请选择上门时间" in bad.get_data(as_text=True)
    assert number in client.get("/h5/services/orders").get_data(as_text=True)
    cancelled = client.post(f"/h5/services/orders/{number}", data={"action": "cancel"})
    assert "已取消" in cancelled.get_data(as_text=True)
    sign_in(app, client, "o-li")
    assert client.get(f"/h5/services/orders/{number}").status_code == 404


def test_h5_provider_work_page(app, client, svc):
    _order_id, number = _booked(app, svc)
    sign_in(app, client, "o-zhang")
    assert client.get("/h5/services/work").status_code == 404  # a resident is not a provider
    sign_in(app, client, "o-worker-b")
    assert number in client.get("/h5/services/work").get_data(as_text=True)
    accepted = client.post(f"/h5/services/work/{number}", data={"action": "accept"})
    assert "已接单" in accepted.get_data(as_text=True)
    sign_in(app, client, "o-worker-a")
    late = client.post(f"/h5/services/work/{number}", data={"action": "accept"})
    assert late.status_code == 404 or "已经有师傅接单" in late.get_data(as_text=True)
    sign_in(app, client, "o-worker-b")
    done = client.post(f"/h5/services/work/{number}", data={"action": "complete"})
    assert "已完工" in done.get_data(as_text=True)
    paid = client.post(f"/h5/services/work/{number}", data={"action": "pay", "amount": "50", "method": "cash"})
    assert "已登记收款" in paid.get_data(as_text=True)
    sign_in(app, client, "o-zhang")
    rated = client.post(f"/h5/services/orders/{number}", data={"action": "rate", "rating": "4", "comment": "好"})
    assert "谢谢您的评价" in rated.get_data(as_text=True)


def test_office_adds_a_provider_with_its_staff_account(app, client, svc):
    with app.app_context():
        from app.models import Community, Street

        make_staff_user("xiaoli", role="provider", scope=db.session.scalar(select(Community)))
        make_staff_user("notprovider", role="building_head", scope=db.session.scalar(select(Community)))
        db.session.commit()
        street_id = db.session.scalar(select(Street.id))
    login(client, "shequ")
    form = {"name": "小李家电清洗", "kind": "worker", "street": street_id, "phone": "13900001111",
            "usernames": "xiaoli"}
    bad = client.post("/admin/services/providers/new", data={**form, "usernames": "notprovider"},
                      follow_redirects=True)
    assert "没有“服务商”角色" in bad.get_data(as_text=True)
    dup = client.post("/admin/services/providers/new", data={**form, "name": "老刘开锁"}, follow_redirects=True)
    assert "本街道已有“老刘开锁”" in dup.get_data(as_text=True)
    ok = client.post("/admin/services/providers/new", data=form, follow_redirects=True)
    assert "已添加服务单位：小李家电清洗" in ok.get_data(as_text=True)
    with app.app_context():
        from app.models import Provider

        added = db.session.scalar(select(Provider).where(Provider.name == "小李家电清洗"))
        assert [m.username for m in added.members] == ["xiaoli"] and added.kind_label == "个人师傅"
