"""The bounded sheet reader on an office-style package: shared strings with rich text and phonetics, dates,
booleans, cached formula values, gaps and trailing styled rows; and its limits on .csv files."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.services.sheet_reader import SheetError, read_rows
from hostile_xlsx import NS, SHEET, WORKBOOK_RELS, xlsx_package

SHARED = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
          '<si><t>小区</t></si><si><r><t>张</t></r><r><rPr><b/></rPr><t>建国</t></r>'
          '<rPh sb="0" eb="1"><t>zhang</t></rPh></si><si><t xml:space="preserve"> 101 </t></si></sst>')
STYLES = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d"/></numFmts>'
          '<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
          '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="2"/></cellXfs></styleSheet>')
RELS = WORKBOOK_RELS.replace("</Relationships>", (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'styles" Target="/xl/styles.xml"/></Relationships>'))
ROWS = [
    '<row r="1" spans="1:5"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
    '<row r="3" spans="1:5"><c r="A3" t="s" s="0"><v>2</v></c><c r="C3" s="1"><v>46350</v></c>'
    '<c r="D3" t="b"><v>1</v></c><c r="E3"><f>1+1</f><v>2</v></c><c r="F3" s="2"><v>78.5</v></c>'
    '<c r="G3" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="H3" s="1"/></row>',
    '<row r="4" s="1" customFormat="1" ht="20" customHeight="1"/>',
    '<row r="900" s="1" customFormat="1"><c r="A900" s="1"/></row>',
]


def _office_file() -> bytes:
    return xlsx_package(ROWS, dimension="A1:H900", extra={
        "xl/sharedStrings.xml": SHARED, "xl/styles.xml": STYLES, "xl/_rels/workbook.xml.rels": RELS})


def test_office_style_package_is_read_value_by_value():
    rows = list(read_rows(_office_file(), kind="xlsx"))
    assert rows == [("小区", "张建国"), (), (" 101 ", None, datetime(2026, 11, 24), True, 2, 78.5, "ab")]


def test_path_input_and_detection_by_content(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_office_file())
    assert list(read_rows(path))[0] == ("小区", "张建国")
    assert list(read_rows(_office_file()))[0] == ("小区", "张建国")


def test_a_doctype_is_refused():
    sheet = (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaa">]><worksheet xmlns="{NS}"><sheetData>'
             '<row r="1"><c t="inlineStr"><is><t>&a;</t></is></c></row></sheetData></worksheet>')
    with pytest.raises(SheetError, match="无法读取"):
        list(read_rows(xlsx_package([], extra={SHEET: sheet})))


def test_csv_rows_are_bounded_the_same_way():
    data = "小区,楼栋,,\n\n\n幸福里小区,1号楼\n".encode()
    assert list(read_rows(data, kind="csv")) == [("小区", "楼栋"), (), (), ("幸福里小区", "1号楼")]
    assert list(read_rows(b"a\n" + b"\n" * 100_000, kind="csv", max_rows=10)) == [("a",)]
    with pytest.raises(SheetError, match="行数超过上限"):
        list(read_rows(b"a\n" * 11, kind="csv", max_rows=10))
    with pytest.raises(SheetError, match="列数超过上限"):
        list(read_rows(b"," * 300 + b"x\n", kind="csv"))
