"""Ticket photos uploaded from H5 pages and the dashboard: checked to be real images of a sane size, then stored."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app import clock
from app.services.errors import DomainError

IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "GIF": ("gif", "image/gif"),
                 "WEBP": ("webp", "image/webp")}


@dataclass
class StoredPhoto:
    """An uploaded image that passed the checks and was written to disk (path relative to the upload root)."""

    path: str
    content_type: str
    size: int


def upload_root() -> Path:
    """Where ticket photos are stored (TICKET_UPLOAD_DIR, else under the instance folder); served only after a
    scope check."""
    configured = current_app.config.get("TICKET_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "tickets"


def store_photo(data: bytes, filename: str = "") -> StoredPhoto:
    """Check that `data` is a real image of an allowed format and size, then write it; DomainError otherwise."""
    from PIL import Image, UnidentifiedImageError

    limit = current_app.config.get("TICKET_PHOTO_MAX", 5 * 1024 * 1024)
    if not data:
        raise DomainError("照片是空的，请重新选择。")
    if len(data) > limit:
        raise DomainError(f"照片太大了（超过 {limit // (1024 * 1024)}MB），请换一张或压缩后再传。")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()  # a truncated or disguised file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError(f"“{filename or '这个文件'}”不是图片，只能上传照片（jpg、png、gif、webp）。") from None
    if kind not in IMAGE_FORMATS:
        raise DomainError("只能上传 jpg、png、gif、webp 格式的照片。")
    ext, content_type = IMAGE_FORMATS[kind]
    relative = f"{clock.now():%Y%m}/{uuid.uuid4().hex}.{ext}"
    target = upload_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return StoredPhoto(relative, content_type, len(data))
