"""Importing the estate register: good files, re-imports, and every kind of bad input refused whole."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Building, Estate, Ownership, Person, Room, Unit
from app.services.errors import RegisterError
from app.services.register import import_register
from register_files import HEADER, csv_bytes, xlsx_bytes

GOOD = [
    ["幸福里小区", "1号楼", "1单元", "101", 1, 78.5, "张建国", "13812341234"],
    ["幸福里小区", "1栋", "1单元", "102", 1, "80.25", "李秀英", "139 0000 1111"],
    ["幸福里小区", "一号楼", "二单元", "201室", "2", 65, "王芳", ""],
    ["幸福里小区", "2号楼", "", "301", 3, 90, "张建国", "13812341234"],
]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_xlsx_builds_the_hierarchy(ctx):
    report = import_register(xlsx_bytes(GOOD), "台账.xlsx")
    assert (report.rows, report.estates, report.buildings, report.rooms_created) == (4, 1, 2, 4)
    estate = db.session.scalar(select(Estate))
    assert estate.name == "幸福里小区"
    assert [b.number for b in estate.buildings] == ["1", "2"]
    assert sorted(u.number for u in db.session.scalars(select(Unit))) == ["", "1", "2"]
    room = db.session.scalar(select(Room).where(Room.number == "102"))
    assert room.area == Decimal("80.25") and room.floor == 1
    assert db.session.scalar(select(Room).where(Room.number == "201")).unit.number == "2"


def test_same_owner_in_two_rooms_is_one_person_and_phone_is_encrypted(ctx):
    import_register(xlsx_bytes(GOOD), "台账.xlsx")
    zhang = db.session.scalars(select(Person).where(Person.name == "张建国")).all()
    assert len(zhang) == 1
    assert len(zhang[0].ownerships) == 2
    assert "13812341234" not in (zhang[0].phone_encrypted or "")
    assert zhang[0].phone == "13812341234"
    assert zhang[0].masked_phone == "138****1234"
    assert db.session.scalar(select(Person).where(Person.name == "李秀英")).phone == "13900001111"


def test_reimport_updates_instead_of_duplicating(ctx):
    import_register(xlsx_bytes(GOOD), "台账.xlsx")
    changed = [row[:] for row in GOOD]
    changed[0][5] = 79
    changed[1][6] = "赵丽"  # the room changed hands
    changed[1][7] = "13700002222"
    report = import_register(xlsx_bytes(changed), "台账.xlsx")
    assert (report.rooms_created, report.rooms_updated) == (0, 4)
    assert count(Room) == 4 and count(Building) == 2 and count(Estate) == 1
    room = db.session.scalar(select(Room).where(Room.number == "102"))
    assert [o.person.name for o in room.ownerships] == ["赵丽"]
    assert db.session.scalar(select(Room).where(Room.number == "101")).area == Decimal("79.00")
    assert count(Ownership) == 4


def test_csv_in_gb18030_with_optional_columns(ctx):
    header = HEADER + ["身份标识", "共有人", "开发商持有", "面积来源"]
    rows = [
        ["和平楼", "1", "", "1", "1", "55.5", "陈明", "13600001234", "220102195001011234", "陈妻、陈子", "否", "不动产权证"],
        ["和平楼", "1", "", "2", "1", "55.5", "某某置业公司", "", "", "", "是", ""],
        ["和平楼", "1", "", "3", "1", "55.5", "某某置业公司", "", "", "", "是", ""],
    ]
    import_register(csv_bytes(rows, header, encoding="gb18030"), "register.csv")
    room = db.session.scalar(select(Room).where(Room.number == "1"))
    assert room.area_source == "title"
    voters = {o.person.name: o.is_designated_voter for o in room.ownerships}
    assert voters == {"陈明": True, "陈妻": False, "陈子": False}
    developer = db.session.scalars(select(Person).where(Person.is_developer.is_(True))).all()
    assert len(developer) == 1 and len(developer[0].ownerships) == 2
    assert all(o.developer_held for o in developer[0].ownerships)


def test_import_writes_an_audit_entry(ctx):
    import_register(xlsx_bytes(GOOD), "台账.xlsx", actor="staff:7")
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.actor_type, entry.actor_id, entry.action) == ("staff", "7", "import")


def refused(data: bytes, filename: str = "台账.xlsx") -> list[str]:
    with pytest.raises(RegisterError) as caught:
        import_register(data, filename)
    assert count(Room) == 0 and count(Person) == 0 and count(Estate) == 0
    return caught.value.problems


@pytest.mark.parametrize("area, message", [
    ("八十", "第2行：建筑面积“八十”不是数字"),
    ("0", "第2行：建筑面积“0”必须大于0"),
    ("-20", "第2行：建筑面积“-20”必须大于0"),
    ("99999", "第2行：建筑面积“99999”不合理"),
    ("", "第2行：建筑面积为空"),
    ("80.123", "最多保留两位小数"),
])
def test_bad_areas_are_refused_and_nothing_is_written(ctx, area, message):
    rows = [["幸福里小区", "1号楼", "1单元", "101", 1, area, "张三", "13812341234"], GOOD[1]]
    problems = refused(xlsx_bytes(rows))
    assert any(message in p for p in problems), problems


def test_bad_row_among_good_rows_names_its_line(ctx):
    rows = [row[:] for row in GOOD] + [["幸福里小区", "1号楼", "1单元", "999", 9, "abc", "某", ""]]
    problems = refused(xlsx_bytes(rows))
    assert problems == ["第6行：建筑面积“abc”不是数字。"]


@pytest.mark.parametrize("phone", ["123", "1381234123", "23812341234", "138-1234-12345", "电话"])
def test_malformed_phones_are_refused(ctx, phone):
    rows = [["幸福里小区", "1号楼", "1单元", "101", 1, 70, "张三", phone]]
    problems = refused(xlsx_bytes(rows))
    assert problems == [f"第2行：手机号“{phone}”格式不正确（应为11位手机号）。"]


def test_duplicate_rooms_are_refused(ctx):
    rows = [GOOD[0], ["幸福里小区", "一号楼", "1", "101室", 1, 70, "李四", ""]]
    problems = refused(xlsx_bytes(rows))
    assert problems == ["第3行：幸福里小区1号楼1单元101室与第2行重复。"]


def test_missing_and_unknown_columns_are_refused(ctx):
    header = ["小区", "楼栋", "房号", "建筑面积", "业主姓名", "手机号", "备注"]
    problems = refused(xlsx_bytes([["幸福里小区", "1", "101", 70, "张三", ""]], header))
    assert any(p.startswith("缺少必填列：单元、楼层") for p in problems)
    assert any(p.startswith("无法识别的列：备注") for p in problems)


def test_empty_file_and_header_only_are_refused(ctx):
    assert refused(b"", "empty.csv") == ["文件是空的，没有表头也没有数据。"]
    assert refused(xlsx_bytes([])) == ["文件中只有表头，没有数据行。"]


def test_not_a_spreadsheet_is_refused(ctx):
    assert "不是表格文件" in refused(b"%PDF-1.4 junk", "台账.pdf")[0]
    assert "无法读取这个 Excel 文件" in refused(b"this is not a zip file", "台账.xlsx")[0]
    assert "不是文本表格" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "photo.csv")[0]


def test_unreadable_building_and_unit(ctx):
    rows = [["幸福里小区", "东边那栋", "左边", "101", 1, 70, "张三", ""]]
    problems = refused(xlsx_bytes(rows))
    assert problems[0].startswith("第2行：楼栋“东边那栋”无法识别")
    assert problems[1].startswith("第2行：单元“左边”无法识别")
