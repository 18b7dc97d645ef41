"""Streaming the first sheet of an .xlsx package: cell values row by row, in memory bounded by limits."""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from xml.parsers import expat

from openpyxl.utils.datetime import from_excel, from_ISO8601

from app.services.xlsx_parts import (MAX_CELL_CHARS, ColumnOverflow, StringTable, XlsxError, date_styles, first_sheet,
                                     relations, shared_strings, target, walk)

# The whole package unpacked; a real 50,000-row register is about 30 MB of XML.
MAX_UNPACKED_BYTES = 64 * 2**20
# Office files compress 5-30 times; far more than this is a zip bomb (checked on parts above 1 MB).
MAX_RATIO, RATIO_FLOOR = 200, 2**20
_READ_ERRORS = (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, IndexError)


def numbered_xlsx_rows(data: bytes, max_cols: int) -> Iterator[tuple[int, list]]:
    """(row number, values up to the last filled cell) for each filled row of the first sheet, in file order;
    cells beyond max_cols are skipped while empty and raise ColumnOverflow when filled."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise XlsxError() from exc
    with package:
        _check_sizes(package)
        try:
            workbook = target(package, "_rels/.rels", "/officeDocument") or "xl/workbook.xml"
            sheet_id, epoch = first_sheet(package, workbook)
            base = posixpath.dirname(workbook)
            rels = relations(package, posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels"), base)
            sheet = rels.get(sheet_id, ("", "xl/worksheets/sheet1.xml"))[1]
            by_type = {kind.rpartition("/")[2]: target for kind, target in rels.values()}
            strings = shared_strings(package, by_type.get("sharedStrings", "xl/sharedStrings.xml"))
            styles = date_styles(package, by_type.get("styles", "xl/styles.xml"))
        except _READ_ERRORS as exc:
            raise XlsxError() from exc
        reader = _SheetReader(strings, styles, epoch, max_cols)
        try:
            for _ in walk(package, sheet, reader.start, reader.end, reader.text):
                yield from reader.ready
                reader.ready.clear()
        except _READ_ERRORS as exc:
            raise XlsxError() from exc


def _check_sizes(package: zipfile.ZipFile) -> None:
    # zipfile stops reading a part at its declared size (and then fails the CRC), so declared sizes are a real bound.
    members = package.infolist()
    if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
        raise XlsxError(f"这个 Excel 文件解压后超过 {MAX_UNPACKED_BYTES // 2**20} MB，内容太多，请分成几个文件导入。")
    for info in members:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise XlsxError("这个 Excel 文件解压后异常膨胀（可能是恶意构造的文件），已拒绝导入。")


class _SheetReader:
    """expat handlers for a worksheet: finished rows collect in `ready` as (row number, values)."""

    def __init__(self, strings: StringTable, date_styles: dict[int, bool], epoch, max_cols: int) -> None:
        self.strings, self.date_styles, self.epoch, self.max_cols = strings, date_styles, epoch, max_cols
        self.ready: list[tuple[int, list]] = []
        self.row = self.column = 0
        self.cells: dict[int, object] = {}
        self.in_cell = self.collect = False
        self.phonetic = self.size = 0
        self.kind, self.style, self.parts = "n", "", []

    def start(self, tag: str, attrs: dict) -> None:
        if tag == "row":
            self.row = int(attrs["r"]) if "r" in attrs else self.row + 1
            self.column, self.cells = 0, {}
        elif tag == "c":
            self.column = _column_of(attrs["r"]) if "r" in attrs else self.column + 1
            self.kind, self.style, self.parts, self.size = attrs.get("t", "n"), attrs.get("s", ""), [], 0
            self.in_cell = True
        elif self.in_cell:
            if tag == "rPh":
                self.phonetic += 1
            elif tag == "v" or (tag == "t" and not self.phonetic):
                self.collect = True

    def text(self, data: str) -> None:
        if self.collect:
            self.size += len(data)
            if self.size > MAX_CELL_CHARS:
                raise XlsxError(f"第 {self.row:,} 行有单元格内容超过 {MAX_CELL_CHARS} 个字，无法导入。")
            self.parts.append(data)

    def end(self, tag: str) -> None:
        if tag in ("v", "t"):
            self.collect = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c":
            self.in_cell = False
            value = self._value("".join(self.parts))
            if value is not None and value != "":
                if self.column > self.max_cols:
                    raise ColumnOverflow(self.row, self.column)
                self.cells[self.column] = value
        elif tag == "row" and self.cells:
            # Only filled rows are handed out: a million empty <row/> elements cost parsing time, not memory.
            self.ready.append((self.row, [self.cells.get(i) for i in range(1, max(self.cells) + 1)]))

    def _value(self, text: str) -> object:
        kind = self.kind
        if kind == "s":
            return self.strings[int(text)] if text else None
        if kind in ("inlineStr", "str", "e"):
            return text
        if not text:
            return None
        if kind == "b":
            return text in ("1", "true")
        if kind == "d":
            return from_ISO8601(text)
        number = float(text) if any(ch in text for ch in ".eE") else int(text)
        duration = self.date_styles.get(int(self.style)) if self.style else None
        if duration is None:
            return number
        try:
            return from_excel(number, self.epoch, timedelta=duration)
        except (ValueError, OverflowError):  # a serial outside the calendar: keep the number, as typed
            return number


def _column_of(reference: str) -> int:
    """'C7' → 3; ValueError for anything that is not a cell reference inside Excel's 16,384 columns."""
    number = 0
    for position, char in enumerate(reference.upper()):
        if "A" <= char <= "Z" and position < 3:
            number = number * 26 + ord(char) - 64
        elif char.isdigit() and position:
            break
        else:
            raise ValueError(reference)
    if not 0 < number <= 16_384:
        raise ValueError(reference)
    return number
