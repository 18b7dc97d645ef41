"""Upload limits hold with CSRF protection on: big files reach the pages meant for them, and only those."""

from __future__ import annotations

import io

import pytest
from flask import url_for

TWO_MB = b"x" * (2 * 1024 * 1024)
UPLOAD_PAGES = {"dashboard.register", "tickets.act", "tickets_h5.report", "fees.ledger_page", "plans.paper"}


def _upload_urls(app) -> dict[str, str]:
    urls = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if getattr(app.view_functions[rule.endpoint], "upload_limit", None) is not None:
                urls[rule.endpoint] = url_for(rule.endpoint, **{name: 1 for name in rule.arguments})
    return urls


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return app


def test_every_upload_page_declares_its_limit(app):
    assert set(_upload_urls(app)) == UPLOAD_PAGES


def test_big_uploads_pass_the_csrf_check_on_upload_pages_only(csrf_on, client):
    for endpoint, url in _upload_urls(csrf_on).items():
        response = client.post(url, data={"file": (io.BytesIO(TWO_MB), "big.jpg")},
                               content_type="multipart/form-data")
        # The body was read under the page's own limit; what stops this anonymous post is the missing token.
        assert response.status_code == 400, (endpoint, response.status_code)
    response = client.post("/login", data={"file": (io.BytesIO(TWO_MB), "big.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
