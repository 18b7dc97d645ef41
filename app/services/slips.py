"""Printable PDF slips of binding codes for building heads to hand out (A4, eight slips a page, cut lines)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from app.services.binding import CODE_VALID_DAYS, IssuedCode
from app.services.fonts import PDF_MONO
from app.services.print_layout import draw_pdf_lines, new_canvas, pdf_label

COLUMNS, ROWS = 2, 4
PADDING = 10 * mm  # from a slip's cut line to its text, so a crooked cut never clips a word


def binding_slips_pdf(estate_name: str, issued: list[IssuedCode], valid_until: str) -> bytes:
    """Render one slip per issued code; the codes exist in plain text only in this PDF."""
    buffer = io.BytesIO()
    pdf = new_canvas(buffer, f"{estate_name} 绑定码")
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
        draw_pdf_lines(pdf, ["没有需要打印的绑定码。"], 20 * mm, height - 30 * mm, 14)
    pdf.save()
    return buffer.getvalue()


def _slip(pdf, x, y, w, h, estate_name: str, item: IssuedCode, valid_until: str) -> None:
    pdf.setDash(3, 3)
    pdf.setStrokeGray(0.6)
    pdf.rect(x, y, w, h)
    pdf.setDash()
    left, width = x + PADDING, w - 2 * PADDING
    # A long estate name shrinks, then wraps; everything below moves down with it and still fits the slip.
    size, lines = pdf_label(f"{estate_name}  住户身份绑定码", 11, width, smallest=8)
    top = draw_pdf_lines(pdf, lines, left, y + h - 12 * mm, size) - 5 * mm
    size, lines = pdf_label(item.room.label, 16, width, smallest=10)
    top = draw_pdf_lines(pdf, lines, left, top, size) - 9 * mm
    pdf.setFont(PDF_MONO, 26)
    pdf.drawString(left, top, f"{item.code[:4]} {item.code[4:]}")
    top -= 10 * mm
    for line in ("1. 关注“邻里”服务号，发送“绑定”。", "2. 阅读并同意个人信息处理说明，输入上面的绑定码。",
                 f"3. 此码只能用一次，{valid_until}前有效，请勿转给他人。"):
        size, lines = pdf_label(line, 9, width, smallest=8)
        top = draw_pdf_lines(pdf, lines, left, top, size, leading=4.5 * mm)


def valid_until_text(issued_at) -> str:
    """The expiry date printed on slips."""
    from datetime import timedelta

    return (issued_at + timedelta(days=CODE_VALID_DAYS)).strftime("%Y年%m月%d日")
