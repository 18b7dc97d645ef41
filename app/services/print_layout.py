"""Text that stays inside its box on paper and in images: shrink a label to its width, wrap Chinese paragraphs."""

from __future__ import annotations

import re
from collections.abc import Callable

from app.services.fonts import register_pdf_font

# Chinese typesetting rules (避头尾): closing marks never start a line, opening marks never end one.
NO_LINE_START = set("，。、：；！？）》」』】〕”’%％,.:;!?)]}·")
NO_LINE_END = set("（《「『【〔“‘([{")
# A Latin word, a number or a date part stays whole; every Chinese character is a break opportunity.
_TOKEN = re.compile(r"[A-Za-z0-9@._\-/+#]+|\s+|.", re.S)

Measure = Callable[[str], float]


def wrap(text: str, measure: Measure, width: float) -> list[str]:
    """Break `text` into lines that `measure` no wider than `width` (a word wider than a line is cut)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        tokens.extend(list(token) if len(token) > 1 and measure(token) > width else [token])
    lines: list[str] = []
    line = ""
    for token in tokens:
        if not line.strip() or measure((line + token).rstrip()) <= width:
            line += token
            continue
        carry = ""
        # Pull the last character down with a closing mark (or an opening mark down to its text), so no line
        # starts with "，" and none hangs past the margin.
        while len(line) > 1 and ((carry + token)[0] in NO_LINE_START or line[-1] in NO_LINE_END):
            line, carry = line[:-1], line[-1] + carry
        lines.append(line.rstrip())
        line = (carry + token).lstrip()
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def pdf_measure(font: str, size: float) -> Measure:
    """Width of a string in points in a registered reportlab font."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return lambda text: stringWidth(text, font, size)


def fit_size(text: str, measure_at: Callable[[float], Measure], size: float, width: float, smallest: float) -> float:
    """The largest size (half-point steps, not below `smallest`) at which `text` fits on one line of `width`."""
    while size > smallest and measure_at(size)(text) > width:
        size = max(smallest, size - 0.5)
    return size


def pdf_label(text: str, size: float, width: float, smallest: float | None = None,
              font: str | None = None) -> tuple[float, list[str]]:
    """A label's font size and lines: shrunk towards `smallest` to fit one line, wrapped if it still does not."""
    font = font or register_pdf_font()
    size = fit_size(text, lambda s: pdf_measure(font, s), size, width, smallest or size)
    return size, wrap(text, pdf_measure(font, size), width)


def draw_pdf_lines(pdf, lines: list[str], x: float, y: float, size: float, leading: float | None = None,
                   align: str = "left", width: float = 0, font: str | None = None) -> float:
    """Draw lines from baseline `y` downwards (left at x, centred in or right-aligned to x..x+width); the baseline
    after the last line."""
    pdf.setFont(font or register_pdf_font(), size)
    leading = leading or size * 1.35
    for line in lines:
        if align == "center":
            pdf.drawCentredString(x + width / 2, y, line)
        elif align == "right":
            pdf.drawRightString(x + width, y, line)
        else:
            pdf.drawString(x, y, line)
        y -= leading
    return y


def new_canvas(buffer, title: str, pagesize=None):
    """An A4 canvas whose every font is the embedded Chinese one (reportlab would otherwise list Helvetica,
    which is not embedded, as the starting font of each page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(buffer, pagesize=pagesize or A4, pageCompression=1, initialFontName=register_pdf_font())
    pdf.setTitle(title)
    return pdf


def png_label(text: str, size: int, width: int, smallest: int | None = None) -> tuple[int, list[str]]:
    """pdf_label for Pillow: the pixel size and lines of a label in the Chinese font."""
    from app.services.fonts import pil_font

    size = int(fit_size(text, lambda s: pil_font(int(s)).getlength, size, width, smallest or size))
    return size, wrap(text, pil_font(size).getlength, width)
