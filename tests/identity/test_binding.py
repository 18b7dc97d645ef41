"""Binding a WeChat user to a room: codes, approvals, consent, limits — each refusal leaves nothing bound."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEntry, BindingCode, OutboxMessage, ResidentAccount, RoomBinding
from app.services import binding
from app.services.errors import DomainError, NotFound
from factories import make_building, make_estate, make_person, make_room, make_staff_user, make_unit


@pytest.fixture
def room(ctx):
    estate = make_estate(name="幸福里小区")
    building = make_building(estate, "5")
    room = make_room(make_unit(building, "1"), "302", owner=make_person("张建国", "13812345678"))
    db.session.commit()
    return room


def bound_rooms(openid: str) -> list[RoomBinding]:
    return db.session.scalars(select(RoomBinding).join(RoomBinding.account)
                              .where(RoomBinding.status == "bound", ResidentAccount.openid == openid)).all()


def test_code_binds_owner_once(room):
    [issued] = binding.issue_codes([room], actor="staff:1")
    assert len(issued.code) == 8 and binding.looks_like_code(issued.code)
    stored = db.session.scalar(select(BindingCode))
    assert issued.code not in stored.code_hash  # only the keyed hash is stored
    binding.record_consent("o-zhang")
    result = binding.bind_with_code("o-zhang", issued.code.lower()[:4] + "-" + issued.code.lower()[4:])
    assert (result.relation, result.status, result.method) == ("owner", "bound", "code")
    assert result.account.person.name == "张建国"
    with pytest.raises(DomainError, match="已经用过"):
        binding.record_consent("o-other")
        binding.bind_with_code("o-other", issued.code)
    assert len(bound_rooms("o-zhang")) == 1 and bound_rooms("o-other") == []


def test_consent_is_required_and_recorded_with_version(room):
    [issued] = binding.issue_codes([room], actor="staff:1")
    with pytest.raises(DomainError, match="个人信息处理说明"):
        binding.bind_with_code("o-1", issued.code)
    consent = binding.record_consent("o-1")
    assert consent.notice_version == binding.NOTICE_VERSION and consent.accepted_at is not None
    assert binding.bind_with_code("o-1", issued.code).status == "bound"


def test_wrong_revoked_and_expired_codes(room):
    binding.record_consent("o-1")
    with pytest.raises(DomainError, match="绑定码不对"):
        binding.bind_with_code("o-1", "ABCDEFGH")
    [first] = binding.issue_codes([room], actor="staff:1")
    [second] = binding.issue_codes([room], actor="staff:1")  # reissue revokes the first
    with pytest.raises(DomainError, match="已作废"):
        binding.bind_with_code("o-1", first.code)
    with clock.frozen_at(clock.now() + timedelta(days=binding.CODE_VALID_DAYS + 1)):
        with pytest.raises(DomainError, match="已过期"):
            binding.bind_with_code("o-1", second.code)
    assert bound_rooms("o-1") == []


def test_code_guessing_is_blocked_and_staff_alerted(room):
    staff = make_staff_user("shequ", role="community_staff", scope=room.estate.community)
    staff.openid = "o-staff"
    db.session.commit()
    [issued] = binding.issue_codes([room], actor="staff:1")
    binding.record_consent("o-guess")
    for attempt in range(binding.TRIES_PER_HOUR):
        with pytest.raises(DomainError, match="绑定码不对"):
            binding.bind_with_code("o-guess", f"ZZZZZZZ{binding.CODE_ALPHABET[attempt]}")
    with pytest.raises(DomainError, match="尝试次数太多"):
        binding.bind_with_code("o-guess", issued.code)  # even the right code, once over the limit
    assert bound_rooms("o-guess") == []
    alerts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.openid == "o-staff")).all()
    assert len(alerts) == 1 and "绑定尝试次数异常" in alerts[0].payload["text"]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "binding_abuse")) == 1


def test_request_approved_by_the_building_head_once(room):
    head = make_staff_user("lzz5", role="building_head", scope=room.building)
    head.openid = "o-head"
    other_head = make_staff_user("lzz9", role="building_head", scope=make_building(room.estate, "9"))
    db.session.commit()
    binding.record_consent("o-wife")
    request = binding.request_binding("o-wife", room, "张建国", "5678", "family")  # the owner's name, as asked
    notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.openid == "o-head"))
    assert f"同意 {request.id}" in notice.payload["text"] and "张**" in notice.payload["text"]
    with pytest.raises(NotFound):
        binding.decide_request(other_head, request.id, approve=True)
    decided = binding.decide_request(head, request.id, approve=True)
    assert decided.status == "approved"
    assert [b.relation for b in bound_rooms("o-wife")] == ["family"]
    with pytest.raises(DomainError, match="已经处理过了"):
        binding.decide_request(head, request.id, approve=False)


def test_tenant_cannot_become_owner(room):
    head = make_staff_user("lzz5", role="building_head", scope=room.building)
    db.session.commit()
    binding.record_consent("o-tenant")
    request = binding.request_binding("o-tenant", room, "张建国", "5678", "tenant")
    binding.decide_request(head, request.id, approve=True)
    with pytest.raises(DomainError, match="不能自行改为业主"):
        binding.request_binding("o-tenant", room, "张建国", "5678", "owner")
    [issued] = binding.issue_codes([room], actor="staff:1")
    with pytest.raises(DomainError, match="不能自行改为业主"):
        binding.bind_with_code("o-tenant", issued.code)
    assert [b.relation for b in bound_rooms("o-tenant")] == ["tenant"]
    assert db.session.scalar(select(BindingCode.status)) == "active"  # the code was not used up


def test_bad_request_fields(room):
    binding.record_consent("o-1")
    with pytest.raises(DomainError, match="后四位"):
        binding.request_binding("o-1", room, "张建国", "56a8", "owner")
    with pytest.raises(DomainError, match="业主、家属或租户"):
        binding.request_binding("o-1", room, "张建国", "5678", "landlord")
    binding.request_binding("o-1", room, "张建国", "5678", "owner")
    with pytest.raises(DomainError, match="正在审核"):
        binding.request_binding("o-1", room, "张建国", "5678", "owner")


def test_unbind_and_rebind_elsewhere(room):
    [issued] = binding.issue_codes([room], actor="staff:1")
    binding.record_consent("o-1")
    binding.bind_with_code("o-1", issued.code)
    binding.unbind("o-1", room.id)
    assert bound_rooms("o-1") == []
    with pytest.raises(NotFound):
        binding.unbind("o-1", room.id)


def test_two_concurrent_uses_of_one_code_bind_once(app, room):
    [issued] = binding.issue_codes([room], actor="staff:1")
    for openid in ("o-a", "o-b"):
        binding.record_consent(openid)
    outcomes = []

    def use(openid):
        with app.app_context():
            try:
                binding.bind_with_code(openid, issued.code)
                outcomes.append("bound")
            except DomainError as error:
                outcomes.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use, args=(o,)) for o in ("o-a", "o-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "bound" and outcomes.count("bound") == 1
    assert db.session.scalar(select(func.count()).select_from(RoomBinding)) == 1
