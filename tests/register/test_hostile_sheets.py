"""Hostile register files: a lying <dimension>, thousands of empty rows, far-away cells and a zip bomb are
read within a small memory bound or refused quickly, and nothing is written."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from sqlalchemy import func, select

from app.extensions import db
from app.models import Room
from app.services.errors import RegisterError
from app.services.register import import_register
from hostile_xlsx import row_xml, xlsx_package
from register_files import HEADER

ROWS = [["幸福里小区", "1号楼", "1单元", "101", 1, 70, "张三", "13812341234"],
        ["幸福里小区", "1号楼", "1单元", "102", 1, 80.5, "李四", ""]]
MEMORY_BOUND = 30 * 1024 * 1024
TIME_BOUND = 10.0


def _real_rows() -> list[str]:
    return [row_xml(1, HEADER)] + [row_xml(n, row) for n, row in enumerate(ROWS, start=2)]


def _measured(data: bytes):
    """Import the file, returning (report or RegisterError, peak traced bytes, seconds)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        outcome = import_register(data, "台账.xlsx")
    except RegisterError as exc:
        db.session.rollback()
        outcome = exc
    finally:
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.1f} MiB"
    assert seconds < TIME_BOUND, f"{seconds:.1f} s"
    return outcome


def _rooms() -> int:
    return db.session.scalar(select(func.count()).select_from(Room))


def test_lying_dimension_with_few_real_rows_is_read_correctly(ctx):
    report = _measured(xlsx_package(_real_rows()))
    assert report.rows == 2 and _rooms() == 2


def test_many_empty_rows_under_a_lying_dimension_are_skipped(ctx):
    empty = (f'<row r="{n}" spans="1:16384" ht="20" customHeight="1"/>' for n in range(4, 60_000))
    report = _measured(xlsx_package(_real_rows() + list(empty)))
    assert report.rows == 2 and _rooms() == 2


def test_a_filled_row_beyond_the_row_limit_is_refused(ctx):
    data = xlsx_package(_real_rows() + [row_xml(1_048_576, ROWS[0])])
    refusal = _measured(data)
    assert isinstance(refusal, RegisterError) and _rooms() == 0
    assert "行数超过" in refusal.problems[0]


def test_a_filled_cell_beyond_the_column_limit_is_refused(ctx):
    data = xlsx_package(_real_rows() + ['<row r="4"><c r="XFD4" t="inlineStr"><is><t>x</t></is></c></row>'])
    refusal = _measured(data)
    assert isinstance(refusal, RegisterError) and _rooms() == 0
    assert "列数超过" in refusal.problems[0]


@pytest.mark.parametrize("megabytes", [30, 180])  # under the size limit (caught by its ratio) and over it
def test_a_zip_bomb_sheet_is_refused(ctx, megabytes):
    padding = ("<row/>" * 100_000 for _ in range(megabytes * 10 // 6))  # a few hundred KB zipped
    data = xlsx_package(_real_rows() + list(padding))
    assert len(data) < 1_000_000
    refusal = _measured(data)
    assert isinstance(refusal, RegisterError) and _rooms() == 0
    assert "解压后" in refusal.problems[0]


