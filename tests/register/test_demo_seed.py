"""The demo data set: realistic size, idempotent, staff logins that work."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Estate, Person, Room, StaffUser
from app.services.demo import DEMO_PASSWORD, seed_demo


def test_seed_demo_twice_gives_the_same_data(ctx):
    info = seed_demo()
    rooms = db.session.scalar(select(func.count(Room.id)))
    persons = db.session.scalar(select(func.count(Person.id)))
    assert 190 <= rooms <= 230
    seed_demo()
    assert db.session.scalar(select(func.count(Room.id))) == rooms
    assert db.session.scalar(select(func.count(Person.id))) == persons
    assert {e.estate_type for e in db.session.scalars(select(Estate))} == {"old", "single_building"}
    assert len(info.logins) >= 5
    for _label, username, password in info.logins:
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        assert password == DEMO_PASSWORD and user.check_password(password)
    old = db.session.scalar(select(Estate).where(Estate.estate_type == "old"))
    assert len(old.buildings) == 6
