"""Every document Linli prints (slips, QR sheets, 催告函, the vote record, the collection-notice PNG) reads right on
a machine without system fonts: each PDF font is embedded, each glyph is inside the page (and inside its slip),
no character prints as a missing-glyph box, and the PNG is drawn in Chinese with the Chinese font."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from fontTools.ttLib import TTCollection
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar
from PIL import Image, ImageChops, ImageDraw
from pypdf import PdfReader
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Estate, StaffUser
from app.models.fee import Bill
from app.services import arrears, billing, collection, fonts, qr, slips, vote_results
from app.services.binding import issue_codes
from factories import make_building, make_community, make_estate, make_person, make_room, make_staff_user, make_unit

LONG_ESTATE = "光明街道幸福里社区老旧小区综合整治提升改造示范点北院东区新村小区家园（一期工程）"
LONG_COMMUNITY = "光明街道幸福里社区居民委员会老旧小区自治管理服务站"
MM = 72 / 25.4
# Office printers cannot print the outermost few millimetres: everything stays at least this far inside.
INSET = 8 * MM


@pytest.fixture
def long_world(ctx):
    """An estate with a 40-character name, a building with units, a head with a long name, billed rooms."""
    assert len(LONG_ESTATE) == 40
    estate = make_estate(make_community(name=LONG_COMMUNITY), name=LONG_ESTATE)
    building = make_building(estate, "12")
    rooms = []
    for unit_no in ("1", "2"):
        unit = make_unit(building, unit_no)
        for number in ("101", "1502"):
            rooms.append(make_room(unit, number, area="100.50", owner=make_person(f"业主{unit_no}{number}")))
    make_staff_user("head", role="building_head", scope=building,
                    display_name="欧阳建国（退休教师，义务楼栋长，周一至周五上午在家）").public_phone = "13812345678"
    make_staff_user("office", role="community_staff", scope=estate.community)
    schedule = billing.create_schedule(estate, basis="per_area", rate_fen=30, cycle="quarterly",
                                       starts_on=date(2026, 1, 1), due_days=15, actor="test")
    db.session.commit()
    billing.generate_bills(schedule, date(2026, 1, 1))
    billing.generate_bills(schedule, date(2026, 4, 1))
    db.session.commit()
    return estate, rooms


def _chars(data: bytes):
    """(page width, page height, LTChar) for every glyph drawn."""
    def walk(item):
        if isinstance(item, LTChar):
            yield item
        elif hasattr(item, "__iter__"):
            for child in item:
                yield from walk(child)

    for page in extract_pages(io.BytesIO(data)):
        for char in walk(page):
            yield page.width, page.height, char


def _font_is_embedded(font) -> bool:
    font = font.get_object()
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2",
                                                                                 "/FontFile3"))


def check_pdf(data: bytes, cells: tuple[int, int] | None = None) -> str:
    """Assert the three print rules on a PDF (with `cells`, also that each glyph stays in one slip of the
    columns x rows grid); returns the text drawn, for the caller's own checks."""
    reader = PdfReader(io.BytesIO(data))
    for number, page in enumerate(reader.pages, 1):
        for name, font in (page["/Resources"].get("/Font") or {}).items():
            assert _font_is_embedded(font), f"page {number}: font {name} {font.get_object()['/BaseFont']} not embedded"
    cmap = TTCollection(str(fonts.cjk_font_path())).fonts[0].getBestCmap()
    text = []
    for width, height, char in _chars(data):
        glyph = char.get_text()
        text.append(glyph)
        assert glyph != "\x00" and (glyph.isspace() or ord(glyph) in cmap), f"{glyph!r} has no glyph in the font"
        x0, y0, x1, y1 = char.bbox
        assert INSET - 0.01 <= x0 and x1 <= width - INSET + 0.01, f"{glyph!r} at x {x0:.1f}-{x1:.1f} off the page"
        assert INSET - 0.01 <= y0 and y1 <= height - INSET + 0.01, f"{glyph!r} at y {y0:.1f}-{y1:.1f} off the page"
        if cells:
            cell_w, cell_h = width / cells[0], height / cells[1]
            assert int(x0 // cell_w) == int((x1 - 0.01) // cell_w), f"{glyph!r} crosses a slip's side"
            assert int(y0 // cell_h) == int((y1 - 0.01) // cell_h), f"{glyph!r} crosses a slip's top or bottom"
    return "".join(text)


def test_binding_slips_embed_the_font_and_fit_their_slip(long_world):
    estate, rooms = long_world
    issued = issue_codes(rooms, actor="test")
    text = check_pdf(slips.binding_slips_pdf(estate.name, issued, slips.valid_until_text(clock.now())),
                     cells=(slips.COLUMNS, slips.ROWS))
    assert "住户身份绑定码" in text and issued[0].code[:4] in text
    assert "没有需要打印的绑定码" in check_pdf(slips.binding_slips_pdf(estate.name, [], "2026年1月1日"))


@pytest.mark.parametrize("units", [False, True])
def test_qr_sheets_embed_the_font_and_stay_on_the_page(long_world, units):
    estate, _ = long_world
    data = qr.qr_sheet_pdf(estate, units=units)
    text = check_pdf(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == (3 if units else 1)
    assert "12号楼" in text and "欧阳建国" in text and ("12号楼2单元" in text) == units


def test_qr_sheet_of_an_estate_without_buildings(ctx):
    assert "还没有楼栋" in check_pdf(qr.qr_sheet_pdf(make_estate(name=LONG_ESTATE)))


def test_letters_wrap_inside_the_margins(long_world):
    estate, rooms = long_world
    office = db.session.scalar(select(StaffUser).where(StaffUser.username == "office"))
    with clock.frozen_at(datetime(2026, 6, 1, 10)):
        text = check_pdf(arrears.letters_pdf(office, estate, [room.id for room in rooms]))
    assert text.count("缴费催告函") == len(rooms)
    for bill in db.session.scalars(select(Bill).where(Bill.room_id.in_([room.id for room in rooms]))):
        assert bill.title in text
    for paragraph in arrears.LETTER_BODY:  # wrapped, but every word of it printed, in order
        assert "".join(paragraph.split()) in "".join(text.split())


def test_vote_record_pdf_embeds_the_font(ctx):
    from votes.votes_world import build_estate, open_vote

    world = build_estate()
    db.session.get(Estate, world["estate_id"]).name = LONG_ESTATE
    staff = db.session.get(StaffUser, world["staff_id"])
    vote = open_vote(staff, world["estate_id"])
    assert "业主表决记录" in check_pdf(vote_results.export_pdf(staff, vote.id))


def test_notice_png_is_drawn_in_chinese_with_the_font(long_world):
    estate, _ = long_world
    with clock.frozen_at(datetime(2026, 6, 1, 10)):
        item = collection.notice(estate, (date(2026, 4, 1), date(2026, 6, 30)))
    image = Image.open(io.BytesIO(collection.notice_png(item)))
    cmap = TTCollection(str(fonts.cjk_font_path())).fonts[0].getBestCmap()
    layout = collection.notice_layout(item)
    assert {"楼栋", "按户收缴率", "按金额收缴率"} <= {op.text for op in layout.texts}
    for op in layout.texts:
        assert all(c.isspace() or ord(c) in cmap for c in op.text), op.text
        left, top, right, bottom = fonts.pil_font(op.size).getbbox(op.text)
        x, y = op.xy
        assert 0 <= x + left and x + right <= image.width and 0 <= y + top and y + bottom <= image.height, op.text
    assert "".join(op.text for op in layout.texts[:2]).startswith(LONG_ESTATE)  # shrunk, then wrapped
    # The title really is drawn with the Chinese font: the same text drawn alone gives the same pixels.
    title = layout.texts[0]
    alone = Image.new("RGB", image.size, layout.rects[0][1])
    ImageDraw.Draw(alone).text(title.xy, title.text, font=fonts.pil_font(title.size), fill="white")
    left, top, right, bottom = fonts.pil_font(title.size).getbbox(title.text)
    box = (title.xy[0] + left, title.xy[1] + top, title.xy[0] + right, title.xy[1] + bottom)
    assert ImageChops.difference(image.convert("RGB").crop(box), alone.crop(box)).getbbox() is None


def test_commands_without_o_write_under_instance_and_say_where(app, long_world, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli
    from app.models import Provider

    estate, _ = long_world
    db.session.add(Provider(name="邻家/便民维修部", street_id=estate.community.street_id))
    db.session.commit()
    checkout = tmp_path / "checkout"  # where the operator happens to stand: nothing may land here
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    runs = {("binding-codes", estate.name): f"绑定码-{LONG_ESTATE}.pdf",
            ("qr-sheet", estate.name, "--units"): f"{LONG_ESTATE}-单元二维码.pdf",
            ("service-statement", "邻家/便民维修部", "--month", "2026-06"): "邻家-便民维修部-对账单-2026-06.xlsx"}
    for args, name in runs.items():
        result = CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))
        assert result.exit_code == 0, result.output
        written = tmp_path / "instance" / name
        assert written.stat().st_size > 0 and str(written) in result.output, result.output
    result = CliRunner().invoke(cli, ["export-register", "台账.xlsx"], obj=ScriptInfo(create_app=lambda: app))
    assert str(checkout / "台账.xlsx") in result.output  # a file the operator named: where it went, in full
    assert [p.name for p in checkout.iterdir()] == ["台账.xlsx"]


def test_wrap_keeps_words_whole_and_no_line_starts_with_a_closing_mark():
    from app.services.print_layout import wrap

    text = "如您对费用有异议，或因家庭困难暂时无法缴纳（请说明），请拨打 13812345678 联系社区。"
    for width in range(3, 20):
        lines = wrap(text, len, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(len(line) <= width for line in lines) and not any(line[0] in "，。）" for line in lines)
        assert not any(line.endswith("（") for line in lines)
        assert any("13812345678" in line for line in lines) or width < 11
