"""Bounded reading of a spreadsheet file (.xlsx or .csv): the rows of its first sheet, within row, column and size limits."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator

from app.services.xlsx_stream import MAX_UNPACKED_BYTES, ColumnOverflow, XlsxError, numbered_xlsx_rows

# A register of a whole street fits easily; anything larger is refused before it is read into memory.
MAX_ROWS = 50_000
MAX_COLS = 200
CORRUPT_XLSX = "无法读取这个 Excel 文件，它可能已损坏或不是 .xlsx 表格。"
NOT_CSV = "这个文件不是文本表格（CSV），请上传 .xlsx 或 .csv 格式的文件。"


class SheetError(ValueError):
    """A file that cannot or may not be read; the message is Chinese and meant for the person who uploaded it."""


def read_rows(source: bytes | str | os.PathLike, *, max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS,
              kind: str | None = None) -> Iterator[tuple]:
    """Rows of the first sheet as tuples: the n-th tuple is row n of the file, each as long as its last filled
    cell (empty rows are ()). The <dimension> a file claims is never trusted; a filled cell beyond max_rows or
    max_cols, an oversized or bomb-like package, or a damaged file raises SheetError while reading."""
    data = _bytes_of(source)
    kind = kind or _kind_of(source, data)
    if len(data) > MAX_UNPACKED_BYTES:
        raise SheetError(f"文件太大（超过 {MAX_UNPACKED_BYTES // 2**20} MB），请分成几个文件导入。")
    numbered = _xlsx_rows(data, max_cols) if kind == "xlsx" else _csv_rows(data)
    return _bounded(numbered, max_rows, max_cols)


def _bytes_of(source: bytes | str | os.PathLike) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    size = os.path.getsize(source)
    if size > MAX_UNPACKED_BYTES:  # checked before reading, so a huge path is refused without loading it
        raise SheetError(f"文件太大（超过 {MAX_UNPACKED_BYTES // 2**20} MB），请分成几个文件导入。")
    with open(source, "rb") as handle:
        return handle.read()


def _kind_of(source: bytes | str | os.PathLike, data: bytes) -> str:
    if not isinstance(source, (bytes, bytearray, memoryview)):
        suffix = os.fspath(source).lower().rpartition(".")[2]
        if suffix in ("xlsx", "csv"):
            return suffix
    return "xlsx" if data.startswith(b"PK\x03\x04") else "csv"


def _xlsx_rows(data: bytes, max_cols: int) -> Iterator[tuple[int, list]]:
    try:
        yield from numbered_xlsx_rows(data, max_cols)
    except ColumnOverflow as exc:
        raise SheetError(_too_many_columns(exc.row, exc.column, max_cols)) from exc
    except XlsxError as exc:
        raise SheetError(exc.message or CORRUPT_XLSX) from exc


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    if b"\x00" in data[:4096]:
        raise SheetError(NOT_CSV)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("无法识别 CSV 文件的编码，请另存为 UTF-8 或 Excel 格式。")
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            while row and not row[-1].strip():
                row.pop()
            yield number, row
    except csv.Error as exc:  # a field over csv's size limit, or a stray NUL further down the file
        raise SheetError(NOT_CSV) from exc


def _bounded(numbered: Iterable[tuple[int, list]], max_rows: int, max_cols: int) -> Iterator[tuple]:
    """Apply the limits and fill gaps with (); empty rows are only counted, so trailing ones cost nothing."""
    emitted = 0
    for number, row in numbered:
        if number <= emitted:
            raise SheetError(CORRUPT_XLSX)
        if not row:
            continue
        if number > max_rows:
            raise SheetError(f"表格行数超过上限：最多 {max_rows:,} 行（含表头），第 {number:,} 行仍有内容。"
                             "请把表格分成几个文件导入。")
        if len(row) > max_cols:
            raise SheetError(_too_many_columns(number, len(row), max_cols))
        while emitted < number - 1:
            emitted += 1
            yield ()
        emitted = number
        yield tuple(row)


def _too_many_columns(row: int, column: int, max_cols: int) -> str:
    return f"表格列数超过上限：最多 {max_cols} 列，第 {row:,} 行第 {column:,} 列仍有内容。请删去多余的列再导入。"
