"""Uploaded files in and out: per-page size limits (applied before anything reads the form, as the CSRF check
reads it first), and serving a stored upload with a type read from its own bytes."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Callable

from flask import Response, current_app, request, send_file

# The kinds Linli accepts (each upload path verifies its files on the way in), by their leading bytes.
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", ".jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
              (b"GIF87a", "image/gif", ".gif"), (b"GIF89a", "image/gif", ".gif"),
              (b"%PDF-", "application/pdf", ".pdf"))
UNKNOWN = ("application/octet-stream", ".bin")
# Even if a browser were talked into reading a file as a page, it would run nothing and load nothing.
UPLOAD_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"

# A page's limit in bytes, computed from the config when the request arrives.
Limit = Callable[[dict], int]


def upload_limit(limit: Limit):
    """Raise the request size limit of one view above the app-wide MAX_CONTENT_LENGTH.

    Put it directly under the route decorator. Setting `request.max_content_length` inside the view is too late:
    CSRFProtect has already parsed the body against the app-wide limit and answered 413.
    """

    def decorate(view):
        view.upload_limit = limit
        return view

    return decorate


def apply_upload_limit(endpoint: str | None, values: dict | None) -> None:
    """URL value preprocessor (runs before every before_request hook): the matched view's limit, if any."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    limit = getattr(view, "upload_limit", None)
    if limit is not None:
        request.max_content_length = limit(current_app.config)


def kind_of(head: bytes) -> tuple[str, str]:
    """(content type, file extension) from a file's first bytes; octet-stream for anything not accepted."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return next(((mime, ext) for magic, mime, ext in SIGNATURES if head.startswith(magic)), UNKNOWN)


def send_upload(source: bytes | Path, name: str = "", max_age: int | None = None) -> Response:
    """Serve a stored upload: its type from its content (never the client's claim or the file name), shown inline
    only when it is an image, downloaded otherwise, with nosniff and a sandboxing policy."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            head = handle.read(16)
    else:
        head, source = source[:16], BytesIO(source)
    mimetype, ext = kind_of(head)
    # The name the uploader gave keeps its stem only; the extension follows the content, so "x.html" is not.
    download_name = (Path(name).stem or "file") + ext
    response = send_file(source, mimetype=mimetype, as_attachment=not mimetype.startswith("image/"),
                         download_name=download_name, max_age=max_age)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = UPLOAD_POLICY
    return response
