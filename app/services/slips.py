"""Printable PDF slips of binding codes for building heads to hand out (A4, eight slips a page, cut lines)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from app.services.binding import CODE_VALID_DAYS, IssuedCode

# A standard CID font: every PDF reader has it, so nothing is embedded and the file stays small.
FONT = "STSong-Light"
COLUMNS, ROWS = 2, 4


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def binding_slips_pdf(estate_name: str, issued: list[IssuedCode], valid_until: str) -> bytes:
    """Render one slip per issued code; the codes exist in plain text only in this PDF."""
    _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{estate_name} 绑定码")
    width, height = A4
    slip_w, slip_h = width / COLUMNS, height / ROWS
    per_page = COLUMNS * ROWS
    for index, item in enumerate(issued):
        if index and index % per_page == 0:
            pdf.showPage()
        position = index % per_page
        x = (position % COLUMNS) * slip_w
        y = height - (position // COLUMNS + 1) * slip_h
        _slip(pdf, x, y, slip_w, slip_h, estate_name, item, valid_until)
    if not issued:
        pdf.setFont(FONT, 14)
        pdf.drawString(20 * mm, height - 30 * mm, "没有需要打印的绑定码。")
    pdf.save()
    return buffer.getvalue()


def _slip(pdf, x, y, w, h, estate_name: str, item: IssuedCode, valid_until: str) -> None:
    pdf.setDash(3, 3)
    pdf.setStrokeGray(0.6)
    pdf.rect(x, y, w, h)
    pdf.setDash()
    left = x + 10 * mm
    top = y + h - 14 * mm
    pdf.setFont(FONT, 11)
    pdf.drawString(left, top, f"{estate_name}  住户身份绑定码")
    pdf.setFont(FONT, 16)
    pdf.drawString(left, top - 10 * mm, item.room.label)
    pdf.setFont("Courier-Bold", 26)
    pdf.drawString(left, top - 24 * mm, f"{item.code[:4]} {item.code[4:]}")
    pdf.setFont(FONT, 9)
    lines = ["1. 关注“邻里”服务号，发送“绑定”。",
             "2. 阅读并同意个人信息处理说明，输入上面的绑定码。",
             f"3. 此码只能用一次，{valid_until}前有效，请勿转给他人。"]
    for n, line in enumerate(lines):
        pdf.drawString(left, top - (34 + n * 6) * mm, line)


def valid_until_text(issued_at) -> str:
    """The expiry date printed on slips."""
    from datetime import timedelta

    return (issued_at + timedelta(days=CODE_VALID_DAYS)).strftime("%Y年%m月%d日")
