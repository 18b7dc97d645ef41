"""The parts of an .xlsx package around its sheet, read with expat: relations, first sheet, shared strings, date styles."""

from __future__ import annotations

import posixpath
import zipfile
from array import array
from collections.abc import Callable, Iterator
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
CHUNK = 64 * 1024


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


def walk(package: zipfile.ZipFile, name: str, start: Callable | None = None, end: Callable | None = None,
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


def drain(steps: Iterator[None]) -> None:
    """Run a walk to its end, or until a handler raised _Stop."""
    try:
        for _ in steps:
            pass
    except _Stop:
        pass


def _exists(package: zipfile.ZipFile, name: str) -> bool:
    return name in package.NameToInfo


def target(package: zipfile.ZipFile, rels: str, kind: str) -> str | None:
    """The part name of the first relation of this type in a .rels part, if any."""
    if not _exists(package, rels):
        return None
    found = [target for rel_kind, target in relations(package, rels, "").values() if rel_kind.endswith(kind)]
    return found[0] if found else None


def relations(package: zipfile.ZipFile, rels: str, base: str) -> dict[str, tuple[str, str]]:
    """Id → (type, part name) of a .rels part, targets resolved against base."""
    found: dict[str, tuple[str, str]] = {}

    def start(tag: str, attrs: dict) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            name = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), name)

    if _exists(package, rels):
        drain(walk(package, rels, start))
    return found


def first_sheet(package: zipfile.ZipFile, workbook: str) -> tuple[str, object]:
    """The relation id of the first sheet and the workbook's date epoch."""
    found = {"epoch": CALENDAR_WINDOWS_1900, "id": ""}

    def start(tag: str, attrs: dict) -> None:
        if tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            found["epoch"] = CALENDAR_MAC_1904
        elif tag == "sheet":
            found["id"] = next((value for key, value in attrs.items() if key.endswith(" id")), "")
            raise _Stop

    drain(walk(package, workbook, start))
    return found["id"], found["epoch"]


class StringTable:
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


def shared_strings(package: zipfile.ZipFile, name: str) -> StringTable:
    """The shared strings part as a StringTable (empty when the package has none)."""
    table = StringTable()
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
        drain(walk(package, name, start, end, text))
    table.close()
    return table


def date_styles(package: zipfile.ZipFile, name: str) -> dict[int, bool]:
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
        drain(walk(package, name, start, end))
    styles = {}
    for index, format_id in enumerate(formats):
        code = codes.get(format_id) or BUILTIN_FORMATS.get(format_id, "")
        if code and is_date_format(code):
            styles[index] = is_timedelta_format(code)
    return styles
