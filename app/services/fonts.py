"""The one Chinese font Linli prints with (WenQuanYi Micro Hei), embedded in every PDF and used for every PNG."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

# WenQuanYi Micro Hei (Apache-2.0) ships in the paperang-p2-fonts-cjk wheel, a dependency in pyproject.toml, so
# `pip install` puts it on every machine without root. reportlab embeds only TrueType outlines (glyf), not the
# CFF-flavoured .otf that Noto Sans CJK comes as: this .ttc is TrueType.
FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_FILE = "fonts/wqy-microhei.ttc"
PDF_FONT = "LinliCJK"  # proportional face (subfont 0), for all text
PDF_MONO = "LinliCJKMono"  # the same design with fixed-width Latin (subfont 1), for binding codes
MISSING = ("找不到打印用的中文字体（Python 包 paperang-p2-fonts-cjk）。请在 Linli 目录运行 ./scripts/bootstrap "
           "重新安装依赖后再试。")


class FontMissing(RuntimeError):
    """The CJK font is not installed: printing must stop rather than print boxes or English."""


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The TrueType collection file; FontMissing if the font package is not installed."""
    try:
        path = Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))
    except ModuleNotFoundError:
        raise FontMissing(MISSING) from None
    if not path.is_file():
        raise FontMissing(MISSING)
    return path


def register_pdf_font() -> str:
    """Register the font with reportlab once (embedded as a subset in each PDF) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        path = str(cjk_font_path())
        pdfmetrics.registerFont(TTFont(PDF_FONT, path, subfontIndex=0))
        pdfmetrics.registerFont(TTFont(PDF_MONO, path, subfontIndex=1))
    return PDF_FONT


@lru_cache(maxsize=32)
def pil_font(size: int):
    """The font at `size` pixels for Pillow."""
    from PIL import ImageFont

    return ImageFont.truetype(str(cjk_font_path()), size, index=0)

