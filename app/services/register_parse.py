"""Reading a register file (.xlsx or .csv) into validated rows, with a Chinese message for every bad row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app import privacy
from app.models.place import AREA_SOURCES, ESTATE_TYPES
from app.nlp.text import numeral_value
from app.services.spreadsheet import looks_like_formula

REQUIRED_COLUMNS = ["小区", "楼栋", "单元", "房号", "楼层", "建筑面积", "业主姓名", "手机号"]
OPTIONAL_COLUMNS = ["身份标识", "共有人", "开发商持有", "面积来源", "小区地址", "小区类型"]
# Building areas outside this range are typing mistakes (a room of 0.5 ㎡ or 80,000 ㎡).
MIN_AREA, MAX_AREA = Decimal("5"), Decimal("2000")
MAX_PROBLEMS_SHOWN = 50

# Only the plain numerals are accepted in a register (the chat also reads spoken forms such as 幺 and 洞).
_CN_DIGITS = set("零〇一二两三四五六七八九")
_CN_UNITS = set("十百千")
_YES = {"是", "y", "yes", "1", "true", "√", "✓", "有"}
_NO = {"否", "n", "no", "0", "false", "", "无"}
_AREA_SOURCE_BY_LABEL = {label: code for code, label in AREA_SOURCES.items()}
_TYPE_BY_LABEL = {label: code for code, label in ESTATE_TYPES.items()}


@dataclass
class RegisterRow:
    """One validated line of the register."""

    line: int
    estate: str
    building: str
    unit: str
    room: str
    floor: int | None
    area: Decimal
    owner: str
    phone: str | None
    identity: str
    co_owners: list[str] = field(default_factory=list)
    developer_held: bool = False
    area_source: str = "register"
    address: str = ""
    estate_type: str = ""


def chinese_to_int(text: str) -> int | None:
    """'十二' → 12, '一百零五' → 105, '五零一' → 501 (digit by digit), '3' → 3; None when not a number."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    return numeral_value(text)


def normalise_label(raw: object, suffixes: tuple[str, ...]) -> str | None:
    """'1号楼' / '1栋' / '一号楼' / '3#' → '1' / '3'; 'A座' → 'A'; None when unreadable."""
    text = _cell_text(raw).upper().replace(" ", "")
    for suffix in suffixes:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    text = text.rstrip("#号")
    if not text:
        return None
    if re.fullmatch(r"\d+", text):
        return str(int(text))
    number = chinese_to_int(text)
    if number is not None:
        return str(number)
    if re.fullmatch(r"[A-Z]\d*|\d+[A-Z]|[A-Z]-?\d+", text):
        return text
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_table(data: bytes, filename: str) -> list[list[object]]:
    """The raw rows of an .xlsx or .csv file (header first), within the reader's row, column and size limits;
    raises ValueError with a Chinese message."""
    from app.services.sheet_reader import read_rows

    kind = filename.lower().rpartition(".")[2]
    if kind not in ("xlsx", "csv"):
        raise ValueError(f"文件“{filename}”不是表格文件，请上传 .xlsx 或 .csv 格式的台账。")
    return [list(row) for row in read_rows(data, kind=kind)]


def parse_rows(table: list[list[object]]) -> tuple[list[RegisterRow], list[str]]:
    """Validate every data row; returns the good rows and one Chinese message per problem."""
    rows = [row for row in table if any(_cell_text(cell) for cell in row)]
    if not rows:
        return [], ["文件是空的，没有表头也没有数据。"]
    header = [_cell_text(cell) for cell in rows[0]]
    problems = _check_header(header)
    if problems:
        return [], problems
    if len(rows) == 1:
        return [], ["文件中只有表头，没有数据行。"]
    index = {name: header.index(name) for name in header if name}
    good: list[RegisterRow] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    identities: dict[str, tuple[str, int]] = {}
    # Row numbers as people see them in Excel: the header is line 1.
    line_of = {id(row): n for n, row in enumerate(table, start=1)}
    for raw in rows[1:]:
        line = line_of[id(raw)]
        values = {name: _cell_text(raw[i]) if i < len(raw) else "" for name, i in index.items()}
        parsed, row_problems = _parse_row(line, values)
        problems.extend(row_problems)
        if parsed is None:
            continue
        key = (parsed.estate, parsed.building, parsed.unit, parsed.room)
        if key in seen:
            problems.append(f"第{line}行：{_room_label(parsed)}与第{seen[key]}行重复。")
            continue
        seen[key] = line
        if parsed.identity:
            earlier = identities.get(parsed.identity)
            if earlier and earlier[0] != parsed.owner:
                problems.append(f"第{line}行：身份标识与第{earlier[1]}行相同，但业主姓名不同（“{parsed.owner}”与“{earlier[0]}”）。")
                continue
            identities[parsed.identity] = (parsed.owner, line)
        good.append(parsed)
    return good, problems


def _check_header(header: list[str]) -> list[str]:
    names = [name for name in header if name]
    problems = []
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        problems.append("缺少必填列：" + "、".join(missing) + "。表头应为：" + "、".join(REQUIRED_COLUMNS) + "。")
    unknown = [name for name in names if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        problems.append("无法识别的列：" + "、".join(unknown) + "。可选列只有：" + "、".join(OPTIONAL_COLUMNS) + "。")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        problems.append("表头重复：" + "、".join(duplicated) + "。")
    return problems


def _room_label(row: RegisterRow) -> str:
    unit = f"{row.unit}单元" if row.unit else ""
    return f"{row.estate}{row.building}号楼{unit}{row.room}室"


def _parse_row(line: int, v: dict[str, str]) -> tuple[RegisterRow | None, list[str]]:
    problems: list[str] = []

    def bad(message: str) -> None:
        problems.append(f"第{line}行：{message}")

    for label, text in _free_text(v):
        if looks_like_formula(text):
            shown = text if len(text) <= 30 else text[:30] + "…"
            bad(f"{label}“{shown}”不能以 = + - @ 开头。")
    estate = v["小区"]
    if not estate:
        bad("小区名称为空。")
    elif len(estate) > 120:
        bad("小区名称太长。")
    building = normalise_label(v["楼栋"], ("号楼", "栋", "幢", "座", "楼"))
    if building is None:
        bad(f"楼栋“{v['楼栋']}”无法识别（可写 1号楼、1栋、一号楼）。" if v["楼栋"] else "楼栋为空。")
    unit = ""
    if v["单元"]:
        unit = normalise_label(v["单元"], ("单元",)) or ""
        if not unit:
            bad(f"单元“{v['单元']}”无法识别（可写 1单元、一单元、1）。")
    room = v["房号"].upper().removesuffix("室").replace(" ", "")
    if not room:
        bad("房号为空。")
    elif not re.fullmatch(r"[0-9A-Z\-]{1,12}", room):
        converted = chinese_to_int(room)
        if converted is None:
            bad(f"房号“{v['房号']}”无法识别。")
        else:
            room = str(converted)
    floor = None
    if v["楼层"]:
        floor_value = chinese_to_int(v["楼层"].removesuffix("层").removeprefix("-")) if v["楼层"] else None
        if floor_value is None or floor_value > 200:
            bad(f"楼层“{v['楼层']}”不是合理的数字。")
        else:
            floor = -floor_value if v["楼层"].startswith("-") else floor_value
    area = _parse_area(v["建筑面积"], bad)
    owner = v["业主姓名"]
    phone = None
    if v["手机号"]:
        phone = privacy.normalise_phone(v["手机号"])
        if phone is None:
            bad(f"手机号“{v['手机号']}”格式不正确（应为11位手机号）。")
        elif not owner:
            bad("有手机号但业主姓名为空。")
    if len(owner) > 80:
        bad("业主姓名太长。")
    developer_held = _parse_yes_no(v.get("开发商持有", ""), "开发商持有", bad)
    area_source = "register"
    if v.get("面积来源"):
        area_source = _AREA_SOURCE_BY_LABEL.get(v["面积来源"], v["面积来源"])
        if area_source not in AREA_SOURCES:
            bad(f"面积来源“{v['面积来源']}”应为：" + "、".join(AREA_SOURCES.values()) + "。")
    estate_type = ""
    if v.get("小区类型"):
        estate_type = _TYPE_BY_LABEL.get(v["小区类型"], "")
        if not estate_type:
            bad(f"小区类型“{v['小区类型']}”应为：" + "、".join(ESTATE_TYPES.values()) + "。")
    co_owners = _co_owner_names(v.get("共有人", ""))
    if co_owners and not owner:
        bad("有共有人但业主姓名为空。")
    if problems:
        return None, problems
    return RegisterRow(
        line=line, estate=estate, building=building, unit=unit, room=room, floor=floor, area=area, owner=owner,
        phone=phone, identity=v.get("身份标识", "").upper(), co_owners=co_owners, developer_held=developer_held,
        area_source=area_source, address=v.get("小区地址", ""), estate_type=estate_type,
    ), []


def _free_text(v: dict[str, str]) -> list[tuple[str, str]]:
    """The free-text cells of a row with their labels: the ones a spreadsheet could later run as a formula."""
    return ([("小区名称", v["小区"]), ("业主姓名", v["业主姓名"])]
            + [("共有人", name) for name in _co_owner_names(v.get("共有人", ""))]
            + [("身份标识", v.get("身份标识", "")), ("小区地址", v.get("小区地址", ""))])


def _co_owner_names(raw: str) -> list[str]:
    return [name.strip() for name in re.split(r"[、,，;；/]", raw) if name.strip()]


def _parse_area(raw: str, bad) -> Decimal | None:
    text = raw.replace("㎡", "").replace("平方米", "").replace("平米", "").replace(",", "").strip()
    if not text:
        bad("建筑面积为空。")
        return None
    try:
        area = Decimal(text)
    except InvalidOperation:
        bad(f"建筑面积“{raw}”不是数字。")
        return None
    if not area.is_finite():
        bad(f"建筑面积“{raw}”不是数字。")
        return None
    if area <= 0:
        bad(f"建筑面积“{raw}”必须大于0。")
        return None
    if area < MIN_AREA or area > MAX_AREA:
        bad(f"建筑面积“{raw}”不合理（应在{MIN_AREA}～{MAX_AREA}㎡之间）。")
        return None
    if area != area.quantize(Decimal("0.01")):
        bad(f"建筑面积“{raw}”最多保留两位小数。")
        return None
    return area.quantize(Decimal("0.01"))


def _parse_yes_no(raw: str, column: str, bad) -> bool:
    text = raw.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    bad(f"{column}“{raw}”应填“是”或“否”。")
    return False
