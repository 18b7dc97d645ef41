"""Numbers too big for an id column: a 404 in a URL path, a 400 in a query string — never a 500.

Found by schemathesis on PostgreSQL (/api/v1/estates/2147483648: integer out of range); SQLite failed the same way
past 2**63 (int too large to bind).
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.services.staff import issue_api_token
from factories import login, make_building, make_community, make_estate, make_staff_user, make_street

HUGE = [2**31, 10**30]


def _int_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]


@pytest.mark.parametrize("number", HUGE)
def test_every_int_path_refuses_a_huge_id_with_404(app, client, number):
    rules = _int_rules(app)
    assert len(rules) > 20
    for rule in rules:
        path = re.sub(r"<int:\w+>", str(number), rule.rule)
        path = re.sub(r"<(?:\w+:)?\w+>", "x", path)
        for method in {"GET", "POST"} & rule.methods:
            assert client.open(path, method=method).status_code == 404, (method, path)


def test_the_largest_id_still_matches(app, client):
    assert client.get(f"/h5/fees/notice/{2**31 - 1}").status_code == 404  # matched, then not found
    assert "maximum" in str(client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/estates/{estate_id}"])


@pytest.mark.parametrize("number", HUGE)
def test_a_huge_number_in_a_query_string_is_refused(app, client, number):
    with app.app_context():
        street = make_street()
        estate = make_estate(make_community(street))
        make_building(estate)
        token = issue_api_token(make_staff_user("big", role="street_admin", scope=street), name="big")
        estate_id = estate.id
        db.session.commit()
    response = client.get(f"/api/v1/estates/{estate_id}/rooms?building_id={number}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422  # documented: the schema's maximum
    assert login(client, "big").status_code == 302
    # Pages read ints with request.args.get(type=int): too big for the database → 400 on both backends.
    assert client.get(f"/admin/tickets?estate={10**30}").status_code == 400
