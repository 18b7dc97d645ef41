"""Building QR codes: a signed, expiring token for the H5 report page, WeChat parametric codes, and the A4 sheet."""

from __future__ import annotations

import io
import logging

import qrcode
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Building, Estate, RoleGrant, StaffUser
from app.services.errors import DomainError

log = logging.getLogger(__name__)

_SALT = "linli-building-qr"
# Printed sheets hang in stairwells for a long time; a reprint (new tokens) is due every two years.
TOKEN_MAX_AGE = 2 * 365 * 24 * 3600
FORGED = "这个二维码无法识别，请扫描楼栋里张贴的最新二维码，或在服务号里直接发消息报修。"
EXPIRED = "这个二维码已过期，请联系楼栋长或社区更换新的二维码；也可以在服务号里直接发消息报修。"
GONE = "这栋楼已不在系统中，请联系社区。"
INSTRUCTIONS = ("1. 打开微信“扫一扫”，扫描上面的二维码。",
                "2. 选择问题类别，简单写明情况，可以拍照上传。",
                "3. 提交后会收到编号，处理进度和评价都在“我的报修”里。")


class _ClockSigner(TimestampSigner):
    """Timestamps from app.clock, so tests can make a token that is already old."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT, signer=_ClockSigner)


def building_token(building_id: int) -> str:
    """A tamper-proof token naming a building; it expires after TOKEN_MAX_AGE."""
    return _serializer().dumps({"b": int(building_id)})


def building_from_token(token: str | None) -> Building:
    """The building a scanned token names; DomainError with a clear message when forged, expired or unknown."""
    if not token:
        raise DomainError(FORGED)
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise DomainError(EXPIRED) from None
    except BadSignature:
        raise DomainError(FORGED) from None
    building = db.session.get(Building, data.get("b")) if isinstance(data, dict) and isinstance(data.get("b"), int) else None
    if building is None:
        raise DomainError(GONE)
    return building


def report_url(building: Building) -> str:
    """The H5 report page for a building (what the plain QR code encodes)."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/h5/report?t={building_token(building.id)}"


def wechat_scene(building: Building) -> str:
    """The permanent scene string of a building's parametric code (handled by the SCAN/subscribe events)."""
    return f"b:{building.id}"


def code_content(building: Building) -> tuple[str, str]:
    """What the printed code encodes and what kind it is: WeChat's parametric URL when a real account is
    configured (WECHAT_PARAMETRIC_QR), else — or if WeChat fails — the H5 report link."""
    if current_app.config.get("WECHAT_PARAMETRIC_QR"):
        from wechatpy.exceptions import WeChatClientException

        from app.wechat.client import get_client

        try:
            result = get_client().create_qr(wechat_scene(building))
            if result.get("url"):
                return result["url"], "wechat"
        except (WeChatClientException, ValueError, OSError) as error:
            log.warning("parametric QR for building %s failed, printing the H5 link: %s", building.id, error)
    return report_url(building), "h5"


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


def qr_sheet_pdf(estate: Estate) -> bytes:
    """An A4 PDF, one page per building: estate and building name, the code, three lines of instructions."""
    from app.services.slips import FONT, _register_font

    _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{estate.name} 楼栋报修二维码")
    # STSong-Light lacks some punctuation (e.g. the middle dot): printed texts use only 、，：。
    width, height = A4
    buildings = list(estate.buildings)
    if not buildings:
        pdf.setFont(FONT, 16)
        pdf.drawString(20 * mm, height - 30 * mm, f"{estate.name} 还没有楼栋，无法生成二维码。")
    for building in buildings:
        content, _kind = code_content(building)
        pdf.setFont(FONT, 22)
        pdf.drawCentredString(width / 2, height - 30 * mm, estate.name)
        pdf.setFont(FONT, 48)
        pdf.drawCentredString(width / 2, height - 52 * mm, building.name)
        pdf.setFont(FONT, 20)
        pdf.drawCentredString(width / 2, height - 68 * mm, "公共设施报修、投诉建议")
        side = 125 * mm
        image = ImageReader(io.BytesIO(qr_png(content)))
        pdf.drawImage(image, (width - side) / 2, height - 78 * mm - side, side, side)
        pdf.setFont(FONT, 15)
        top = height - 78 * mm - side - 14 * mm
        for n, line in enumerate(INSTRUCTIONS):
            pdf.drawString(28 * mm, top - n * 10 * mm, line)
        contacts = "；".join(f"楼栋长 {u.display_name or u.username} {u.public_phone}".strip() for u in _heads(building))
        pdf.setFont(FONT, 11)
        pdf.drawCentredString(width / 2, 22 * mm, contacts or "紧急情况（燃气泄漏、火情）请直接拨打 119 / 110。")
        pdf.setFont(FONT, 8)
        pdf.setFillGray(0.4)
        pdf.drawCentredString(width / 2, 14 * mm, f"邻里 {clock.now():%Y年%m月}印制，二维码两年内有效")
        pdf.setFillGray(0)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
