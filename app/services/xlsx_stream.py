"""Streaming the first sheet of an .xlsx package with expat: cell values row by row, in memory bounded by limits."""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

# The whole package unpacked; a real 50,000-row register is about 30 MB of XML.
MAX_UNPACKED_BYTES = 64 * 2**20
# Office files compress 5-30 times; far more than this is a zip bomb (checked on parts above 1 MB).
MAX_RATIO, RATIO_FLOOR = 200, 2**20
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
CHUNK = 64 * 1024
_READ_ERRORS = (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, IndexError)


class XlsxError(Exception):
    """The package cannot or may not be read; message is Chinese, or empty for 'damaged'."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ColumnOverflow(XlsxError):
    """A filled cell beyond the column limit."""

    def __init__(self, row: int, column: int) -> None:
        super().__init__()
        self.row, self.column = row, column


class _Stop(Exception):
    """Raised by a handler once it has what it needs from a part."""


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
            workbook = _target(package, "_rels/.rels", "/officeDocument") or "xl/workbook.xml"
            sheet_id, epoch = _first_sheet(package, workbook)
            base = posixpath.dirname(workbook)
            rels = _relations(package, posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels"), base)
            sheet = rels.get(sheet_id, ("", "xl/worksheets/sheet1.xml"))[1]
            by_type = {kind.rpartition("/")[2]: target for kind, target in rels.values()}
            strings = _shared_strings(package, by_type.get("sharedStrings", "xl/sharedStrings.xml"))
            styles = _date_styles(package, by_type.get("styles", "xl/styles.xml"))
        except _READ_ERRORS as exc:
            raise XlsxError() from exc
        reader = _SheetReader(strings, styles, epoch, max_cols)
        try:
            for _ in _walk(package, sheet, reader.start, reader.end, reader.text):
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


def _walk(package: zipfile.ZipFile, name: str, start: Callable | None = None, end: Callable | None = None,
          text: Callable | None = None) -> Iterator[None]:
    """Feed one part to expat chunk by chunk (local tag names, no DTDs), yielding after each chunk."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_doctype  # OOXML has no DTDs; refusing them rules out entity tricks
    if start:
        parser.StartElementHandler = lambda tag, attrs: start(tag.rpartition(" ")[2], attrs)
    if end:
        parser.EndElementHandler = lambda tag: end(tag.rpartition(" ")[2])
    if text:
        parser.CharacterDataHandler = text
    with package.open(name) as stream:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
            yield
    parser.Parse(b"", True)


def _refuse_doctype(*_args) -> None:
    raise XlsxError()


def _drain(walk: Iterator[None]) -> None:
    try:
        for _ in walk:
            pass
    except _Stop:
        pass


def _exists(package: zipfile.ZipFile, name: str) -> bool:
    return name in package.NameToInfo


def _target(package: zipfile.ZipFile, rels: str, kind: str) -> str | None:
    if not _exists(package, rels):
        return None
    found = [target for rel_kind, target in _relations(package, rels, "").values() if rel_kind.endswith(kind)]
    return found[0] if found else None


def _relations(package: zipfile.ZipFile, rels: str, base: str) -> dict[str, tuple[str, str]]:
    """Id → (type, part name) of a .rels part, targets resolved against base."""
    found: dict[str, tuple[str, str]] = {}

    def start(tag: str, attrs: dict) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            name = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), name)

    if _exists(package, rels):
        _drain(_walk(package, rels, start))
    return found


def _first_sheet(package: zipfile.ZipFile, workbook: str) -> tuple[str, object]:
    """The relation id of the first sheet and the workbook's date epoch."""
    found = {"epoch": CALENDAR_WINDOWS_1900, "id": ""}

    def start(tag: str, attrs: dict) -> None:
        if tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            found["epoch"] = CALENDAR_MAC_1904
        elif tag == "sheet":
            found["id"] = next((value for key, value in attrs.items() if key.endswith(" id")), "")
            raise _Stop

    _drain(_walk(package, workbook, start))
    return found["id"], found["epoch"]


class _StringTable:
    """Shared strings packed into long blocks plus end offsets: memory near the text's size, not ~80 bytes a string."""

    BLOCK = 1024

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._pending: list[str] = []
        self._ends = array("q")
        self._fill = 0

    def add(self, text: str) -> None:
        self._pending.append(text)
        self._fill += len(text)
        self._ends.append(self._fill)
        if len(self._pending) == self.BLOCK:
            self._blocks.append("".join(self._pending))
            self._pending, self._fill = [], 0

    def close(self) -> None:
        if self._pending:
            self._blocks.append("".join(self._pending))
            self._pending = []

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        block, offset = divmod(index, self.BLOCK)
        return self._blocks[block][self._ends[index - 1] if offset else 0:self._ends[index]]


def _shared_strings(package: zipfile.ZipFile, name: str) -> _StringTable:
    table = _StringTable()
    state = {"parts": [], "size": 0, "collect": False, "phonetic": 0}

    def start(tag: str, _attrs: dict) -> None:
        if tag == "si":
            state["parts"], state["size"] = [], 0
        elif tag == "rPh":  # the phonetic guide of East Asian text is not part of the value
            state["phonetic"] += 1
        elif tag == "t":
            state["collect"] = not state["phonetic"]

    def text(data: str) -> None:
        if state["collect"]:
            state["size"] += len(data)
            if state["size"] > MAX_CELL_CHARS:
                raise XlsxError(f"表格里有单元格内容超过 {MAX_CELL_CHARS} 个字，无法导入。")
            state["parts"].append(data)

    def end(tag: str) -> None:
        if tag == "t":
            state["collect"] = False
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif tag == "si":
            table.add("".join(state["parts"]))

    if _exists(package, name):
        _drain(_walk(package, name, start, end, text))
    table.close()
    return table


def _date_styles(package: zipfile.ZipFile, name: str) -> dict[int, bool]:
    """Cell style index → True for a duration format, False for a date format (other styles are absent)."""
    codes: dict[int, str] = {}
    formats: list[int] = []
    state = {"in_xfs": False}

    def start(tag: str, attrs: dict) -> None:
        if tag == "numFmt":
            codes[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            state["in_xfs"] = True
        elif tag == "xf" and state["in_xfs"]:
            formats.append(int(attrs.get("numFmtId", 0)))

    def end(tag: str) -> None:
        if tag == "cellXfs":
            raise _Stop

    if _exists(package, name):
        _drain(_walk(package, name, start, end))
    styles = {}
    for index, format_id in enumerate(formats):
        code = codes.get(format_id) or BUILTIN_FORMATS.get(format_id, "")
        if code and is_date_format(code):
            styles[index] = is_timedelta_format(code)
    return styles


class _SheetReader:
    """expat handlers for a worksheet: finished rows collect in `ready` as (row number, values)."""

    def __init__(self, strings: _StringTable, date_styles: dict[int, bool], epoch, max_cols: int) -> None:
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
