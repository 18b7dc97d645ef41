"""The scope matrix: each role sees exactly its estates, buildings and rooms; outside scope is a 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Estate, StaffUser
from app.services import scope
from app.services.errors import NotFound
from factories import login
from web_world import PHONES

ROLES = ("street_admin", "community_staff", "building_head", "unit_head", "provider")
# Estate names each role sees on the estates list.
EXPECTED_ESTATES = {
    "street_admin": {"幸福里小区", "和平楼", "向阳小区"},
    "community_staff": {"幸福里小区", "和平楼"},
    "building_head": {"幸福里小区"},
    "unit_head": {"幸福里小区"},
    "provider": set(),
}
ALL_NAMES = {"幸福里小区", "和平楼", "向阳小区", "前进小区"}


def _names(app, username):
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        return {e.name for e in db.session.scalars(scope.visible_estates(user))}


@pytest.mark.parametrize("role", ROLES)
def test_visible_estates_service(app, world, role):
    assert _names(app, role) == EXPECTED_ESTATES[role]


@pytest.mark.parametrize("role", ROLES)
def test_estates_list_page(app, client, world, role):
    login(client, role)
    response = client.get("/admin/estates")
    if role == "provider":
        assert response.status_code == 404
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert {name for name in ALL_NAMES if name in page} == EXPECTED_ESTATES[role]


@pytest.mark.parametrize("role", ROLES)
def test_estate_page_own_and_foreign(client, world, role):
    login(client, role)
    own = client.get(f"/admin/estates/{world.estate_a}")
    assert own.status_code == (404 if role == "provider" else 200)
    assert client.get(f"/admin/estates/{world.estate_d}").status_code == 404
    foreign_b = client.get(f"/admin/estates/{world.estate_b}").status_code
    assert foreign_b == (200 if role in ("street_admin", "community_staff") else 404)
    # A foreign estate and a missing one look the same.
    missing = client.get("/admin/estates/999999")
    assert missing.status_code == 404
    assert missing.get_data(as_text=True) == client.get(f"/admin/estates/{world.estate_d}").get_data(as_text=True)


def test_building_head_sees_only_their_building(client, world):
    login(client, "building_head")
    page = client.get(f"/admin/estates/{world.estate_a}").get_data(as_text=True)
    assert "张建国" in page and "王桂英" in page  # both units of building 1
    assert "赵志强" not in page and "2号楼" not in page
    assert client.get(f"/admin/estates/{world.estate_a}?building={world.a2}").status_code == 404


def test_unit_head_sees_only_their_unit(client, world):
    login(client, "unit_head")
    page = client.get(f"/admin/estates/{world.estate_a}").get_data(as_text=True)
    assert "王桂英" in page
    assert "张建国" not in page and "赵志强" not in page


def test_community_staff_sees_every_building(client, world):
    login(client, "community_staff")
    page = client.get(f"/admin/estates/{world.estate_a}?building={world.a2}").get_data(as_text=True)
    assert "赵志强" in page and "开发商持有" in page and "1号楼" in page and "2号楼" in page


@pytest.mark.parametrize("role", ["street_admin", "community_staff", "building_head", "unit_head"])
def test_phones_are_masked_on_the_estate_page(client, world, role):
    login(client, role)
    pages = "".join(client.get(f"/admin/estates/{world.estate_a}?building={b}").get_data(as_text=True)
                    for b in (world.a1, world.a2))
    for phone in PHONES.values():
        assert phone not in pages
    assert "139****1111" in pages  # 王桂英 (unit 2 of building 1) is visible to all four roles


def test_estate_view_is_audited(app, client, world):
    login(client, "building_head")
    client.get(f"/admin/estates/{world.estate_a}")
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "building_head"))
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).one()
    assert (entry.actor_type, entry.actor_id, entry.subject_type, entry.subject_id) == \
        ("staff", str(user.id), "estate", str(world.estate_a))
    assert entry.detail["building_id"] == world.a1 and entry.detail["rooms"] == 2


def test_a_denied_view_is_not_audited_as_a_view(app, client, world):
    login(client, "building_head")
    client.get(f"/admin/estates/{world.estate_d}")
    with app.app_context():
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).first() is None


def test_navigation_follows_the_role(client, world):
    login(client, "provider")
    page = client.get("/admin").get_data(as_text=True)
    assert "小区台账" not in page and "导入台账" not in page
    client.post("/logout")
    login(client, "building_head")
    page = client.get("/admin").get_data(as_text=True)
    assert "小区台账" in page and "导入台账" not in page and "楼栋长 · 幸福里小区 1号楼" in page
    client.post("/logout")
    login(client, "community_staff")
    assert "导入台账" in client.get("/admin").get_data(as_text=True)


def test_estate_for_and_reach(app, world):
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(StaffUser))}
        estate_a = db.session.get(Estate, world.estate_a)
        with pytest.raises(NotFound):
            scope.estate_for(users["building_head"], world.estate_b)
        assert scope.estate_for(users["street_admin"], world.estate_c).id == world.estate_c
        assert scope.reach(users["community_staff"], estate_a).whole
        head = scope.reach(users["building_head"], estate_a)
        assert not head.whole and head.building_ids == {world.a1}
        assert [b.id for b in scope.visible_buildings(users["unit_head"], estate_a)] == [world.a1]
        unit_rooms = db.session.scalars(scope.visible_rooms(users["unit_head"], estate_a)).all()
        assert [r.id for r in unit_rooms] == [world.rooms["A1-2-201"]]
        assert scope.can_see_phone(users["community_staff"]) and not scope.can_see_phone(users["building_head"])
        assert not scope.can_read_register(users["provider"]) and scope.can_manage_register(users["street_admin"])


def test_a_whole_estate_grant_elsewhere_does_not_widen_a_building_grant(app, world):
    # Building head in estate A and community staff of community 2: estate A is still limited to building 1.
    from factories import grant

    with app.app_context():
        from app.models import Community

        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "building_head"))
        grant(user, "community_staff", db.session.get(Community, world.community2))
        db.session.commit()
        estate_a = db.session.get(Estate, world.estate_a)
        assert scope.reach(user, estate_a).building_ids == {world.a1}
        assert not scope.reach(user, estate_a).whole
        assert _names_for(user) == {"幸福里小区", "向阳小区"}


def _names_for(user):
    return {e.name for e in db.session.scalars(scope.visible_estates(user))}


def test_inactive_or_anonymous_users_see_nothing(app, world):
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "street_admin"))
        user.active = False
        assert _names_for(user) == set()
        assert _names_for(None) == set()


def _person_id(app, room_key, world):
    from app.models import Ownership

    with app.app_context():
        return db.session.scalar(select(Ownership.person_id).where(Ownership.room_id == world.rooms[room_key],
                                                                   Ownership.is_designated_voter.is_(True)))


def test_office_staff_reveal_a_phone_deliberately_and_it_is_logged(app, client, world):
    person_id = _person_id(app, "A2-1-101", world)
    login(client, "community_staff")
    estate_page = client.get(f"/admin/estates/{world.estate_a}?building={world.a2}").get_data(as_text=True)
    assert f"/admin/persons/{person_id}/phone" in estate_page
    shown = client.get(f"/admin/persons/{person_id}/phone").get_data(as_text=True)
    assert "137****3333" in shown and PHONES["A2-1-101"] not in shown
    revealed = client.post(f"/admin/persons/{person_id}/phone").get_data(as_text=True)
    assert f'tel:{PHONES["A2-1-101"]}' in revealed and "2号楼1单元101室" in revealed
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_phone")).one()
        assert entry.subject_id == str(person_id) and entry.detail["rooms"] == [world.rooms["A2-1-101"]]


def test_phone_reveal_is_out_of_reach_for_heads_and_foreign_staff(client, world, app):
    person_id = _person_id(app, "A1-2-201", world)
    foreign = _person_id(app, "D1-1-101", world)
    for role in ("building_head", "unit_head", "provider"):
        login(client, role)
        assert "/admin/persons/" not in client.get(f"/admin/estates/{world.estate_a}").get_data(as_text=True)
        assert client.post(f"/admin/persons/{person_id}/phone").status_code == 404
        client.post("/logout")
    login(client, "community_staff")
    assert client.post(f"/admin/persons/{foreign}/phone").status_code == 404
    assert client.get("/admin/persons/999999/phone").status_code == 404
