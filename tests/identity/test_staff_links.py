"""A staff member links their WeChat with a one-time code from the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.services import staff_links
from app.services.errors import DomainError
from factories import make_staff_user


def test_link_code_links_once_and_expires(ctx):
    user = make_staff_user("lzz1", display_name="张师傅")
    db.session.commit()
    code = staff_links.create_link_code(user)
    assert len(code) == 6 and code.isdigit()
    assert staff_links.link_staff("o-zhang", code).id == user.id
    assert staff_links.staff_for_openid("o-zhang").username == "lzz1"
    with pytest.raises(DomainError, match="不对或已过期"):
        staff_links.link_staff("o-zhang", code)
    fresh = staff_links.create_link_code(user)
    with clock.frozen_at(clock.now() + timedelta(minutes=staff_links.LINK_CODE_MINUTES + 1)):
        with pytest.raises(DomainError, match="不对或已过期"):
            staff_links.link_staff("o-zhang", fresh)


def test_new_code_retires_the_old_and_guessing_is_limited(ctx):
    user = make_staff_user("lzz1")
    db.session.commit()
    old = staff_links.create_link_code(user)
    new = staff_links.create_link_code(user)
    with pytest.raises(DomainError):
        staff_links.link_staff("o-1", old)
    for _ in range(staff_links.TRIES_PER_HOUR - 1):
        with pytest.raises(DomainError, match="不对或已过期"):
            staff_links.link_staff("o-1", "000000" if new != "000000" else "000001")
    with pytest.raises(DomainError, match="尝试次数太多"):
        staff_links.link_staff("o-1", new)
