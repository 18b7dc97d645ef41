"""Building and unit QR codes: a signed, expiring token for the H5 report page, WeChat parametric codes, the A4 sheet."""

from __future__ import annotations

import io
import logging

import qrcode
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Building, Estate, RoleGrant, StaffUser, Unit
from app.services.errors import DomainError
from app.services.print_layout import draw_pdf_lines, new_canvas, pdf_label

log = logging.getLogger(__name__)

_SALT = "linli-building-qr"
# Printed sheets hang in stairwells for a long time; a reprint (new tokens) is due every two years.
TOKEN_MAX_AGE = 2 * 365 * 24 * 3600
FORGED = "这个二维码无法识别，请扫描楼栋里张贴的最新二维码，或在服务号里直接发消息报修。"
EXPIRED = "这个二维码已过期，请联系楼栋长或社区更换新的二维码；也可以在服务号里直接发消息报修。"
GONE = "这栋楼已不在系统中，请联系社区。"
UNIT_GONE = "这个单元已不在系统中，请扫描楼栋里张贴的最新二维码，或联系社区。"
INSTRUCTIONS = ("1. 打开微信“扫一扫”，扫描上面的二维码。",
                "2. 选择问题类别，简单写明情况，可以拍照上传。",
                "3. 提交后会收到编号，处理进度和评价都在“我的报修”里。")


class _ClockSigner(TimestampSigner):
    """Timestamps from app.clock, so tests can make a token that is already old."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT, signer=_ClockSigner)


def building_token(building_id: int, unit_id: int | None = None) -> str:
    """A tamper-proof token naming a building (and a unit of it); it expires after TOKEN_MAX_AGE."""
    data = {"b": int(building_id)}
    if unit_id is not None:
        data["u"] = int(unit_id)
    return _serializer().dumps(data)


def place_from_token(token: str | None) -> tuple[Building, Unit | None]:
    """The building and unit (None on a building code) a scanned token names; DomainError with a clear message
    when forged, expired, or the building or unit is gone (or the unit moved to another building)."""
    if not token:
        raise DomainError(FORGED)
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise DomainError(EXPIRED) from None
    except BadSignature:
        raise DomainError(FORGED) from None
    if not isinstance(data, dict):
        raise DomainError(FORGED)
    building = db.session.get(Building, data["b"]) if isinstance(data.get("b"), int) else None
    if building is None:
        raise DomainError(GONE)
    if "u" not in data:  # a building code (all codes printed before units had their own)
        return building, None
    unit = db.session.get(Unit, data["u"]) if isinstance(data["u"], int) else None
    if unit is None or unit.building_id != building.id:
        raise DomainError(UNIT_GONE)
    return building, unit


def building_from_token(token: str | None) -> Building:
    """The building a scanned token names; DomainError with a clear message when forged, expired or unknown."""
    return place_from_token(token)[0]


def place_name(building: Building, unit: Unit | None = None) -> str:
    """'1号楼' or '1号楼2单元' (a unit without a number adds nothing)."""
    return building.name + (unit.name if unit is not None and unit.number else "")


def report_url(building: Building, unit: Unit | None = None) -> str:
    """The H5 report page for a building or one of its units (what the plain QR code encodes)."""
    token = building_token(building.id, unit.id if unit is not None else None)
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/report?t={token}"


def wechat_scene(building: Building, unit: Unit | None = None) -> str:
    """The permanent scene string of a parametric code, "b:<id>" or "u:<id>" (handled by SCAN/subscribe)."""
    return f"u:{unit.id}" if unit is not None else f"b:{building.id}"


def code_content(building: Building, unit: Unit | None = None) -> tuple[str, str]:
    """What the printed code encodes and what kind it is: WeChat's parametric URL when a real account is
    configured (WECHAT_PARAMETRIC_QR), else — or if WeChat fails — the H5 report link."""
    if current_app.config.get("WECHAT_PARAMETRIC_QR"):
        from wechatpy.exceptions import WeChatClientException

        from app.wechat.client import get_client

        scene = wechat_scene(building, unit)
        try:
            result = get_client().create_qr(scene)
            if result.get("url"):
                return result["url"], "wechat"
        except (WeChatClientException, ValueError, OSError) as error:
            log.warning("parametric QR %s failed, printing the H5 link: %s", scene, error)
    return report_url(building, unit), "h5"


def qr_png(data: str, box_size: int = 10) -> bytes:
    """A PNG of a QR code for `data` (medium error correction survives a scuffed sticker)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def _heads(building: Building) -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).join(RoleGrant, RoleGrant.user_id == StaffUser.id).where(
        RoleGrant.role == "building_head", RoleGrant.scope_type == "building", RoleGrant.scope_id == building.id,
        StaffUser.active.is_(True)).order_by(StaffUser.id)))


def printed_units(building: Building) -> list[Unit]:
    """The units that get a page of their own: numbered ones (a building without units has one unnamed unit)."""
    return [unit for unit in building.units if unit.number]


def qr_sheet_pdf(estate: Estate, units: bool = False) -> bytes:
    """An A4 PDF, one page per building (with `units`, each followed by one page per unit): estate, building (and
    unit) name, the code, three lines of instructions."""
    buffer = io.BytesIO()
    pdf = new_canvas(buffer, f"{estate.name} {'单元' if units else '楼栋'}报修二维码")
    buildings = list(estate.buildings)
    if not buildings:
        size, lines = pdf_label(f"{estate.name} 还没有楼栋，无法生成二维码。", 16, A4[0] - 2 * MARGIN, smallest=12)
        draw_pdf_lines(pdf, lines, MARGIN, A4[1] - 30 * mm, size)
    for building in buildings:
        contacts = "；".join(f"楼栋长 {u.display_name or u.username} {u.public_phone}".strip() for u in _heads(building))
        for unit in [None, *(printed_units(building) if units else [])]:
            _draw_page(pdf, estate, place_name(building, unit), code_content(building, unit)[0], contacts)
    pdf.save()
    return buffer.getvalue()


MARGIN = 20 * mm  # left and right, for every line of the sheet


def _draw_page(pdf, estate: Estate, title: str, content: str, contacts: str) -> None:
    width, height = A4
    inner = width - 2 * MARGIN
    # A long estate name shrinks, then wraps upwards into the top margin so the building name keeps its place.
    size, lines = pdf_label(estate.name, 22, inner, smallest=13)
    draw_pdf_lines(pdf, lines, MARGIN, height - 30 * mm + (len(lines) - 1) * size * 1.2, size, leading=size * 1.2,
                   align="center", width=inner)
    size, lines = pdf_label(title, 48, inner, smallest=16)  # 16 pt still holds 30 characters on one line
    draw_pdf_lines(pdf, lines, MARGIN, height - 52 * mm, size, align="center", width=inner)
    draw_pdf_lines(pdf, ["公共设施报修、投诉建议"], MARGIN, height - 68 * mm, 20, align="center", width=inner)
    side = 125 * mm
    image = ImageReader(io.BytesIO(qr_png(content)))
    pdf.drawImage(image, (width - side) / 2, height - 78 * mm - side, side, side)
    top = height - 78 * mm - side - 14 * mm
    for line in INSTRUCTIONS:
        size, lines = pdf_label(line, 15, width - 28 * mm - MARGIN, smallest=12)
        top = draw_pdf_lines(pdf, lines, 28 * mm, top, size, leading=7 * mm) - 3 * mm
    # Contacts grow upwards from above the footer: many heads or long names take more lines, never the edge.
    size, lines = pdf_label(contacts or "紧急情况（燃气泄漏、火情）请直接拨打 119 / 110。", 11, inner, smallest=9)
    draw_pdf_lines(pdf, lines, MARGIN, 22 * mm + (len(lines) - 1) * size * 1.35, size, align="center", width=inner)
    pdf.setFillGray(0.4)
    draw_pdf_lines(pdf, [f"邻里 {clock.now():%Y年%m月}印制，二维码两年内有效"], MARGIN, 14 * mm, 8, align="center",
                   width=inner)
    pdf.setFillGray(0)
    pdf.showPage()
