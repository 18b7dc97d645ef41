"""Who sees personal data: every dashboard page and API endpoint that shows it, for every role, on the demo data.

Outsiders (another community's staff, another estate's building head, a provider) get 404 — we never confirm that a
page exists. Nobody but office staff sees a full phone number.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Building, Estate, Order, Person, Ticket, Vote
from app.services.demo import DEMO_PASSWORD, OLD_ESTATE, seed_demo
from app.services.staff import issue_api_token
from factories import make_community, make_staff_user

FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture
def world(app):
    """The demo data set plus an outsider: community staff of another community."""
    with app.app_context():
        seed_demo()
        make_staff_user("outsider", role="community_staff", scope=make_community(name="别的社区"))
        db.session.commit()
        estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
        b1 = db.session.scalar(select(Building).where(Building.estate_id == estate.id, Building.number == "1"))
        b2 = db.session.scalar(select(Building).where(Building.estate_id == estate.id, Building.number == "2"))
        person = db.session.scalar(select(Person).join(Person.ownerships).where(Person.is_developer.is_(False)))
        ticket = db.session.scalar(select(Ticket).where(Ticket.estate_id == estate.id))
        order = db.session.scalar(select(Order))
        vote = db.session.scalar(select(Vote).where(Vote.estate_id == estate.id))
        pages = {
            "estate": f"/admin/estates/{estate.id}",
            "estate_b2": f"/admin/estates/{estate.id}?building={b2.id}",
            "phone": f"/admin/persons/{person.id}/phone",
            "arrears": f"/admin/fees/{estate.id}/arrears",
            "bills": f"/admin/fees/{estate.id}/bills",
            "ticket": f"/admin/tickets/{ticket.id}",
            "order": f"/admin/services/orders/{order.id}",
            "vote": f"/admin/votes/{vote.id}",
            "api_rooms": f"/api/v1/estates/{estate.id}/rooms",
        }
        return {"pages": pages, "b1": b1.id, "b2": b2.id}


def _client(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD
                                           if username != "outsider" else "linli-test-pass"})
    assert response.status_code == 302, username
    return client


def _api(app, username, path):
    with app.app_context():
        from app.services.staff import find_staff

        token = issue_api_token(find_staff(username), name="matrix")
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


OUTSIDERS = ["outsider", "lzz17", "fuwu"]
PERSONAL_PAGES = ["estate", "estate_b2", "phone", "arrears", "bills", "vote"]


def test_outsiders_get_404_everywhere(app, world):
    for username in OUTSIDERS:
        client = _client(app, username)
        for page in PERSONAL_PAGES:
            assert client.get(world["pages"][page]).status_code == 404, (username, page)
        assert _api(app, username, world["pages"]["api_rooms"]).status_code == 404, username
    for username in ("outsider", "lzz17"):
        client = _client(app, username)
        assert client.get(world["pages"]["ticket"]).status_code == 404, username
        assert client.get(world["pages"]["order"]).status_code == 404, username


def test_office_staff_see_the_estate(app, world):
    for username in ("jiedao", "shequ"):
        client = _client(app, username)
        for page in ("estate", "estate_b2", "arrears", "bills", "ticket", "vote"):
            assert client.get(world["pages"][page]).status_code == 200, (username, page)


def test_building_head_sees_only_their_building_and_no_full_phone(app, world):
    client = _client(app, "lzz1")
    own = client.get(world["pages"]["estate"])
    assert own.status_code == 200
    assert client.get(world["pages"]["estate_b2"]).status_code == 404
    assert client.get(world["pages"]["phone"]).status_code == 404
    for page in ("estate", "arrears"):
        response = client.get(world["pages"][page])
        if response.status_code == 200:
            assert not FULL_PHONE.search(response.get_data(as_text=True)), page
    rooms = _api(app, "lzz1", world["pages"]["api_rooms"]).get_json()
    assert rooms and {room["building"] for room in rooms} == {"1号楼"}


def test_no_page_shows_a_full_phone_without_the_reveal_step(app, world):
    for username in ("lzz1", "lzz2", "shequ", "jiedao"):
        client = _client(app, username)
        for page in ("estate", "arrears", "ticket", "order", "vote"):
            response = client.get(world["pages"][page])
            if response.status_code == 200:
                assert not FULL_PHONE.search(response.get_data(as_text=True)), (username, page)
