"""Office staff edit an estate's register attributes; others get 404; bad dates change nothing."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import Estate
from factories import login, make_building, make_estate, make_staff_user


@pytest.fixture
def estate_id(app):
    with app.app_context():
        estate = make_estate(name="幸福里小区", estate_type="old", management_modes=["menu"])
        make_staff_user("shequ", role="community_staff", scope=estate.community)
        make_staff_user("lzz1", role="building_head", scope=make_building(estate, "1"))
        make_staff_user("other", role="community_staff", scope=make_estate().community)
        db.session.commit()
        return estate.id


FORM = {"name": "幸福里小区", "address": "光明路88号", "estate_type": "single_building", "modes": ["volunteer", "menu"],
        "committee": "1", "six_cleaning": "2025-03-01", "six_gate": ""}


def test_office_staff_edits_the_estate(app, client, estate_id):
    login(client, "shequ")
    response = client.post(f"/admin/estates/{estate_id}/edit", data=FORM)
    assert response.status_code == 302
    with app.app_context():
        estate = db.session.get(Estate, estate_id)
        assert estate.estate_type == "single_building"
        assert estate.management_modes == ["menu", "volunteer"]
        assert estate.has_owners_committee and not estate.has_maintenance_fund
        assert estate.standard_status()["cleaning"] == date(2025, 3, 1)
        assert estate.address == "光明路88号"


def test_bad_date_saves_nothing(app, client, estate_id):
    login(client, "shequ")
    response = client.post(f"/admin/estates/{estate_id}/edit", data={**FORM, "six_repair": "去年"})
    assert response.status_code == 422 and "格式不正确" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Estate, estate_id).estate_type == "old"


@pytest.mark.parametrize("user", ["lzz1", "other"])
def test_others_get_404(app, client, estate_id, user):
    login(client, user)
    assert client.get(f"/admin/estates/{estate_id}/edit").status_code == 404
    assert client.post(f"/admin/estates/{estate_id}/edit", data=FORM).status_code == 404
