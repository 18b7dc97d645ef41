"""`linli create-staff` and `linli api-token`: scoped accounts by name or id, Chinese errors, tokens shown once."""

from __future__ import annotations

import hashlib

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import select

from app.cli import cli
from app.extensions import db
from app.models import ApiToken, StaffUser


def run(app, *args, input=None):
    from click.testing import CliRunner

    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app), input=input)


def _grants(app, username):
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        return [(g.role, g.scope_type, g.scope_id) for g in user.grants]


@pytest.mark.parametrize("options, expected", [
    (["--role", "street_admin", "--street", "红旗街道"], ("street_admin", "street", "street1")),
    (["--role", "community_staff", "--community", "光明社区"], ("community_staff", "community", "community1")),
    (["--role", "community_staff", "--street", "红旗街道", "--community", "光明社区", "--estate", "幸福里小区"],
     ("community_staff", "estate", "estate_a")),
    (["--role", "building_head", "--estate", "幸福里小区", "--building", "一号楼"], ("building_head", "building", "a1")),
    (["--role", "building_head", "--building", "{a2}"], ("building_head", "building", "a2")),
    (["--role", "unit_head", "--estate", "幸福里小区", "--building", "1栋", "--unit", "2单元"],
     ("unit_head", "unit", "a1_unit2")),
    (["--role", "provider", "--community", "{community1}"], ("provider", "community", "community1")),
])
def test_create_staff_by_names_or_ids(app, world, options, expected):
    options = [o.format(**vars(world)) for o in options]
    result = run(app, "create-staff", "--username", "new", "--password", "long-enough", "--name", "新人", *options)
    assert result.exit_code == 0, result.output
    assert "已创建：new（新人）" in result.output
    role, scope_type, attr = expected
    assert _grants(app, "new") == [(role, scope_type, getattr(world, attr))]


@pytest.mark.parametrize("options, message", [
    (["--role", "street_admin", "--community", "光明社区"], "街道管理员需要授权到街道"),
    (["--role", "boss", "--street", "红旗街道"], "请用 --role 指明角色"),
    (["--role", "community_staff", "--community", "没有社区"], "没有找到社区“没有社区”"),
    (["--role", "community_staff"], "请指明授权范围"),
    (["--role", "building_head", "--estate", "幸福里小区", "--building", "9号楼"], "幸福里小区没有“9号楼”"),
    (["--role", "building_head", "--building", "3号楼"], "请写编号"),
    (["--role", "community_staff", "--community", "光明社区", "--password", "short"], "密码至少需要10位"),
    (["--role", "community_staff", "--community", "光明社区", "--username", "street_admin"], "已存在"),
])
def test_create_staff_errors_are_chinese_and_exit_nonzero(app, world, options, message):
    base = {"--username": "new", "--password": "long-enough"}
    for key in list(base):
        if key in options:
            base.pop(key)
    args = [item for pair in base.items() for item in pair] + options
    result = run(app, "create-staff", *args)
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.username == "new")) is None


def test_ambiguous_estate_name_asks_for_the_community(app, world):
    from factories import make_estate
    from app.models import Community

    with app.app_context():
        make_estate(db.session.get(Community, world.community2), "幸福里小区")
        db.session.commit()
    result = run(app, "create-staff", "--username", "x1", "--password", "long-enough", "--role", "community_staff",
                 "--estate", "幸福里小区")
    assert result.exit_code == 1 and "请同时用 --community 指明" in result.output
    result = run(app, "create-staff", "--username", "x1", "--password", "long-enough", "--role", "community_staff",
                 "--community", "向阳社区", "--estate", "幸福里小区")
    assert result.exit_code == 0


def test_password_is_prompted_hidden_when_omitted(app, world):
    result = run(app, "create-staff", "--username", "quiet", "--role", "street_admin", "--street", "红旗街道",
                 input="secret-pass\nsecret-pass\n")
    assert result.exit_code == 0, result.output
    assert "secret-pass" not in result.output
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.username == "quiet")).check_password("secret-pass")


def test_api_token_is_shown_once_and_stored_hashed(app, world, client):
    result = run(app, "api-token", "community_staff", "--name", "区住建局")
    assert result.exit_code == 0
    token = next(line for line in result.output.splitlines() if line.startswith("linli_"))
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and stored.name == "区住建局"
    assert client.get("/api/v1/estates", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    missing = run(app, "api-token", "nobody")
    assert missing.exit_code == 1 and "没有用户名为“nobody”的工作人员" in missing.output
