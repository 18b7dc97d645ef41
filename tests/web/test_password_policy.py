"""The staff password rule: at least 10 characters, not the username, not a common password; Chinese messages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import StaffUser
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.services.errors import DomainError
from app.services.password_policy import check_password, common_passwords


def run(app, *args):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli

    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


@pytest.mark.parametrize("username, password, message", [
    ("new", "12345678", "密码至少需要10位"),
    ("new", "password123", "这个密码太常见"),
    ("new", "PassWord123", "这个密码太常见"),
    ("new", "1234567890", "这个密码太常见"),
    ("new", "woaini1314", "这个密码太常见"),
    ("zhangwei2024", "ZhangWei2024", "密码不能是用户名"),
    ("zhangwei", "my-zhangwei-pw", "不能包含用户名"),
    ("new", "x" * 129, "密码不能超过128位"),
])
def test_weak_passwords_are_refused_by_create_staff(app, world, username, password, message):
    result = run(app, "create-staff", "--username", username, "--password", password, "--role", "street_admin",
                 "--street", "红旗街道")
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.username == username)) is None


def test_a_long_uncommon_password_is_accepted(app, world):
    result = run(app, "create-staff", "--username", "new", "--password", "qing-shan-lu-88", "--role",
                 "street_admin", "--street", "红旗街道")
    assert result.exit_code == 0, result.output


def test_short_usernames_do_not_forbid_every_password_containing_them():
    check_password("linli-home-2026", "li")
    with pytest.raises(DomainError):
        check_password("li", "li")


def test_the_list_is_shipped_and_large_enough():
    words = common_passwords()
    assert len(words) > 1500 and "password123" in words and "qwertyuiop" in words


def test_demo_passwords_follow_the_rule(ctx):
    for _label, username, password in seed_demo().logins:
        assert password == DEMO_PASSWORD
        check_password(password, username)
