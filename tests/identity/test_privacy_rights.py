"""A resident can see, export and delete what Linli holds; deletion keeps the register's owner record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Ownership, Person, ResidentAccount, RoomBinding
from app.services import binding, privacy_rights
from app.services.errors import NotFound
from factories import make_building, make_estate, make_person, make_room, make_unit


@pytest.fixture
def bound(ctx):
    estate = make_estate(name="幸福里小区")
    room = make_room(make_unit(make_building(estate, "5"), "1"), "302", owner=make_person("张建国", "13812345678"))
    db.session.commit()
    [issued] = binding.issue_codes([room], actor="staff:1")
    binding.record_consent("o-zhang")
    binding.bind_with_code("o-zhang", issued.code)
    return room


def test_my_data_is_masked(bound):
    data = privacy_rights.my_data("o-zhang")
    assert data["登记信息"] == {"姓名": "张建国", "手机号": "138****5678"}
    assert data["绑定房屋"][0]["房屋"] == "5号楼1单元302室"
    assert data["同意记录"][0]["说明版本"] == binding.NOTICE_VERSION
    text = privacy_rights.summary_text("o-zhang")
    assert "138****5678" in text and "13812345678" not in text


def test_erase_removes_the_account_but_keeps_the_register_owner(bound):
    person_id = db.session.scalar(select(Person.id).where(Person.name == "张建国"))
    privacy_rights.erase_account("o-zhang")
    db.session.expire_all()
    # The register's owner record is the community's, not the resident's WeChat data: it stays as it was.
    person = db.session.get(Person, person_id)
    assert person.name == "张建国" and person.phone == "13812345678" and person.erased_at is None
    assert db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == "o-zhang")) is None
    assert db.session.scalar(select(RoomBinding.id)) is None
    assert db.session.scalar(select(Ownership.person_id).where(Ownership.room_id == bound.id)) == person_id
    with pytest.raises(NotFound):
        privacy_rights.my_data("o-zhang")
