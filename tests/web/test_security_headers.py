"""Security headers on every response: CSP with a per-response script nonce, no framing, nosniff, referrer policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import StaffUser
from app.services.staff import issue_api_token
from factories import login

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip())


def _assert_common(response) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert _directives(response)["frame-ancestors"] == "'none'"


def test_a_dashboard_page_has_every_header(app, client, world):
    login(client, "street_admin")
    response = client.get("/admin")
    assert response.status_code == 200
    _assert_common(response)
    csp = _directives(response)
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{16,}'", csp["script-src"])
    assert "unsafe-inline" not in csp["script-src"]


def test_an_h5_page_may_load_the_wechat_js_sdk(app, client, world):
    response = client.get(f"/h5/fees/ledger/{world.estate_a}")
    assert response.status_code == 200
    _assert_common(response)
    assert "https://res.wx.qq.com" in _directives(response)["script-src"]


def test_an_api_response_has_a_no_content_policy(app, client, world):
    with app.app_context():
        token = issue_api_token(db.session.query(StaffUser).filter_by(username="street_admin").one())
    response = client.get("/api/v1/estates", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.is_json
    _assert_common(response)
    assert _directives(response)["default-src"] == "'none'"


def test_error_pages_and_the_login_page_have_the_headers(app, client):
    _assert_common(client.get("/login"))
    _assert_common(client.get("/no-such-page"))


def test_each_response_gets_its_own_nonce(app, client):
    first, second = client.get("/login"), client.get("/login")
    assert _directives(first)["script-src"] != _directives(second)["script-src"]


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_have_no_script_the_policy_would_block(template):
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert 'nonce="{{ csp_nonce() }}"' in tag or "src=" in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handlers need 'unsafe-inline'"
    assert "javascript:" not in text
