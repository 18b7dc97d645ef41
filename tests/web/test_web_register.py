"""The register upload page (same all-or-nothing report as the CLI) and the register export download."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Estate, Room
from factories import login

HEADER = "小区,楼栋,单元,房号,楼层,建筑面积,业主姓名,手机号\n"
GOOD = HEADER + "幸福里小区,1号楼,1单元,102,1,75.50,钱学明,13811112222\n新苑小区,一号楼,1单元,101,1,60,孙红,13922223333\n"
BAD = HEADER + "新苑小区,1号楼,1单元,101,1,八十,孙红,13922223333\n新苑小区,1号楼,1单元,102,1,60,李雷,123\n"


def _upload(client, text: str, filename="台账.csv", **fields):
    data = {"file": (io.BytesIO(text.encode("utf-8")), filename), **fields}
    return client.post("/admin/register", data=data, content_type="multipart/form-data")


def _rooms(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Room.id)))


def test_form_is_prefilled_with_the_users_place(client, world):
    login(client, "community_staff")
    page = client.get("/admin/register").get_data(as_text=True)
    assert 'value="红旗街道"' in page and 'value="光明社区"' in page


def test_upload_imports_and_reports(app, client, world):
    login(client, "community_staff")
    before = _rooms(app)
    response = _upload(client, GOOD, street="红旗街道", community="光明社区")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "导入成功：2 行" in page and "新苑小区" in page
    assert _rooms(app) == before + 2
    with app.app_context():
        new = db.session.scalar(select(Estate).where(Estate.name == "新苑小区"))
        assert new.community_id == world.community1
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
        assert entry.actor_type == "staff"


def test_bad_rows_are_listed_and_nothing_is_written(app, client, world):
    login(client, "community_staff")
    before = _rooms(app)
    response = _upload(client, BAD, street="红旗街道", community="光明社区")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "导入失败，没有写入任何数据" in page
    assert "第2行" in page and "八十" in page and "第3行" in page
    assert _rooms(app) == before


def test_wrong_file_type_is_refused(client, world):
    login(client, "community_staff")
    response = _upload(client, "hello", filename="notes.txt", street="红旗街道", community="光明社区")
    assert response.status_code == 422 and "只支持 .xlsx 或 .csv 文件" in response.get_data(as_text=True)
    response = client.post("/admin/register", data={"street": "红旗街道"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要导入的文件" in response.get_data(as_text=True)


def test_community_staff_cannot_import_into_another_community(app, client, world):
    login(client, "community_staff")
    before = _rooms(app)
    response = _upload(client, GOOD, street="红旗街道", community="向阳社区")
    assert response.status_code == 422 and "只能导入本街道或本社区" in response.get_data(as_text=True)
    response = _upload(client, GOOD)  # empty fields mean the default street: not theirs either
    assert response.status_code == 422
    assert _rooms(app) == before


def test_street_admin_may_import_into_a_new_community_of_the_street(app, client, world):
    login(client, "street_admin")
    assert _upload(client, GOOD, street="红旗街道", community="新建社区").status_code == 302
    assert _upload(client, GOOD, street="东风街道", community="前进社区").status_code == 422


def test_only_office_roles_may_upload_or_export(client, world):
    for role in ("building_head", "unit_head", "provider"):
        login(client, role)
        assert client.get("/admin/register").status_code == 404
        assert _upload(client, GOOD).status_code == 404
        assert client.get("/admin/register/export").status_code == 404
        client.post("/logout")


def test_export_downloads_the_scoped_register(app, client, world):
    login(client, "community_staff")
    response = client.get("/admin/register/export")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert "幸福里小区" in cells and "和平楼" in cells
    assert "向阳小区" not in cells and "前进小区" not in cells
    with app.app_context():
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one().detail == \
            {"estates": 2}
