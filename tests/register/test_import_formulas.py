"""Register imports refuse text that a spreadsheet would run as a formula (= + - @), and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Estate, Person, Room
from app.services.errors import RegisterError
from app.services.register import import_register
from register_files import HEADER, csv_bytes, xlsx_bytes


def text_xlsx(rows: list[list], header: list[str] = HEADER) -> bytes:
    """An .xlsx file whose '=…' cells are text, as a hostile file would hold them."""
    return xlsx_bytes(rows, header, as_text=True)

GOOD = ["幸福里小区", "1号楼", "1单元", "101", 1, 70, "张三", "13812341234"]
HYPERLINK = '=HYPERLINK("http://x","点我")'


def _refused(data: bytes, filename: str) -> list[str]:
    with pytest.raises(RegisterError) as caught:
        import_register(data, filename)
    for model in (Room, Person, Estate):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    return caught.value.problems


@pytest.mark.parametrize("make, filename", [(text_xlsx, "台账.xlsx"), (csv_bytes, "台账.csv")])
def test_owner_name_starting_like_a_formula_is_refused(ctx, make, filename):
    rows = [GOOD, ["幸福里小区", "1号楼", "1单元", "102", 1, 70, HYPERLINK, "13912341234"]]
    assert _refused(make(rows), filename) == [f"第3行：业主姓名“{HYPERLINK}”不能以 = + - @ 开头。"]


@pytest.mark.parametrize("column, value, label", [
    ("共有人", "张三、@SUM(1)", "共有人“@SUM(1)”"),
    ("小区地址", "+1+1", "小区地址“+1+1”"),
    ("身份标识", "-2+3", "身份标识“-2+3”"),
])
def test_other_text_columns_starting_like_a_formula_are_refused(ctx, column, value, label):
    header = HEADER + [column]
    problems = _refused(text_xlsx([GOOD + [value]], header), "台账.xlsx")
    assert problems == [f"第2行：{label}不能以 = + - @ 开头。"]


def test_estate_name_starting_like_a_formula_is_refused(ctx):
    problems = _refused(text_xlsx([["=1+1"] + GOOD[1:]]), "台账.xlsx")
    assert problems == ["第2行：小区名称“=1+1”不能以 = + - @ 开头。"]
