"""Per-page upload limits, applied before anything reads the form (the CSRF check reads it first)."""

from __future__ import annotations

from typing import Callable

from flask import current_app, request

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
