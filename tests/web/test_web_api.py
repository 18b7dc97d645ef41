"""The JSON API: bearer tokens, OpenAPI document, scoped register reads with masked personal data."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, AuditEntry, StaffUser
from app.services.staff import issue_api_token, revoke_api_tokens
from web_world import PHONES

ROLES = ("street_admin", "community_staff", "building_head", "unit_head", "provider")


def _token(app, username: str) -> dict:
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        return {"Authorization": f"Bearer {issue_api_token(user, name='test')}"}


def test_openapi_document_is_public_and_describes_the_register(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "Linli API" and spec["openapi"].startswith("3.")
    assert {"/api/v1/estates", "/api/v1/estates/{estate_id}", "/api/v1/estates/{estate_id}/rooms"} <= \
        set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/estates"]["get"]["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
def test_missing_or_bad_token_is_401_json(client, world, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(f"/api/v1/estates/{world.estate_a}/rooms", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["message"] == "缺少或无效的 API 令牌。"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_the_token_hash_is_stored_and_revoked_tokens_fail(app, client, world):
    headers = _token(app, "community_staff")
    token = headers["Authorization"].split()[1]
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.token_hash
    assert client.get("/api/v1/estates", headers=headers).status_code == 200
    with app.app_context():
        revoke_api_tokens(db.session.scalar(select(StaffUser).where(StaffUser.username == "community_staff")))
    assert client.get("/api/v1/estates", headers=headers).status_code == 401


def test_tokens_of_inactive_users_fail(app, client, world):
    headers = _token(app, "community_staff")
    with app.app_context():
        db.session.scalar(select(StaffUser).where(StaffUser.username == "community_staff")).active = False
        db.session.commit()
    assert client.get("/api/v1/estates", headers=headers).status_code == 401


EXPECTED = {
    "street_admin": {"幸福里小区", "和平楼", "向阳小区"},
    "community_staff": {"幸福里小区", "和平楼"},
    "building_head": {"幸福里小区"},
    "unit_head": {"幸福里小区"},
    "provider": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_estate_list_is_scoped(app, client, world, role):
    response = client.get("/api/v1/estates", headers=_token(app, role))
    assert response.status_code == 200
    assert {e["name"] for e in response.get_json()} == EXPECTED[role]


@pytest.mark.parametrize("role", ROLES)
def test_foreign_estate_is_404(app, client, world, role):
    headers = _token(app, role)
    for path in (f"/api/v1/estates/{world.estate_d}", f"/api/v1/estates/{world.estate_d}/rooms",
                 "/api/v1/estates/999999"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.get_json()["code"] == 404
    own = client.get(f"/api/v1/estates/{world.estate_a}", headers=headers).status_code
    assert own == (404 if role == "provider" else 200)


def test_estate_detail_has_buildings_counts_and_six_haves(app, client, world):
    data = client.get(f"/api/v1/estates/{world.estate_a}", headers=_token(app, "community_staff")).get_json()
    assert data["households"] == 4 and data["has_owners_committee"] is True
    assert data["management_mode_labels"] == ["菜单式服务"] and data["type_label"] == "老旧住宅小区"
    assert [(b["name"], b["units"], b["rooms"]) for b in data["buildings"]] == [("1号楼", 2, 2), ("2号楼", 1, 2)]
    achieved = {item["code"] for item in data["six_haves"] if item["achieved"]}
    assert achieved == {"gate", "cleaning"} and len(data["six_haves"]) == 6


def test_building_head_detail_shows_only_their_building(app, client, world):
    data = client.get(f"/api/v1/estates/{world.estate_a}", headers=_token(app, "building_head")).get_json()
    assert [b["id"] for b in data["buildings"]] == [world.a1]


def test_rooms_are_masked_and_scoped(app, client, world):
    response = client.get(f"/api/v1/estates/{world.estate_a}/rooms", headers=_token(app, "community_staff"))
    rooms = response.get_json()
    body = json.dumps(rooms, ensure_ascii=False)
    for phone in PHONES.values():
        assert phone not in body
    assert "张建国" not in body and "张**" in body
    first = rooms[0]
    assert (first["building"], first["unit"], first["number"], first["area"]) == ("1号楼", "1单元", "101", "89.50")
    assert first["owners"][0] == {"name": "张**", "phone": "138****1234", "designated_voter": True,
                                  "developer_held": False}
    assert first["owners"][1]["designated_voter"] is False and first["owners"][1]["phone"] == ""
    assert [r["developer_held"] for r in rooms] == [False, False, False, True]
    assert response.headers["X-Pagination"]


def test_building_head_rooms_are_only_their_building(app, client, world):
    headers = _token(app, "building_head")
    rooms = client.get(f"/api/v1/estates/{world.estate_a}/rooms", headers=headers).get_json()
    assert {r["building"] for r in rooms} == {"1号楼"} and len(rooms) == 2
    other = client.get(f"/api/v1/estates/{world.estate_a}/rooms?building_id={world.a2}", headers=headers)
    assert other.status_code == 200 and other.get_json() == []


def test_rooms_paginate(app, client, world):
    headers = _token(app, "community_staff")
    page = client.get(f"/api/v1/estates/{world.estate_a}/rooms?page=2&page_size=3", headers=headers)
    assert len(page.get_json()) == 1
    assert '"total": 4' in page.headers["X-Pagination"]


def test_api_reads_are_audited(app, client, world):
    headers = _token(app, "unit_head")
    client.get(f"/api/v1/estates/{world.estate_a}/rooms", headers=headers)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "rooms")).one()
        assert entry.action == "view" and entry.detail["channel"] == "api" and entry.detail["rooms"] == 1
