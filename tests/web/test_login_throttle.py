"""Login throttling: per (username, source) growing delays, a per-source cap, and one alert to the street admin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEntry, OutboxMessage
from factories import DEFAULT_PASSWORD, make_community, make_staff_user, make_street

STRANGER, OWNER = "203.0.113.7", "198.51.100.20"
THROTTLED = "密码错误次数太多"


def _world(app) -> None:
    """wang works for a community of a street whose admin has linked WeChat (so alerts can reach them)."""
    with app.app_context():
        street = make_street()
        make_staff_user("wang", role="community_staff", scope=make_community(street))
        admin = make_staff_user("jiedao", role="street_admin", scope=street)
        admin.openid = "o-street-admin"
        db.session.commit()


def _try(client, ip: str, username: str = "wang", password: str = "wrong-pass"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def _fail_many(client, times: int, username: str = "wang") -> list[int]:
    """Fail `times` checked attempts from the stranger's address, waiting out each delay; the delays seen."""
    delays = []
    for _ in range(times):
        response = _try(client, STRANGER, username)
        if response.status_code == 429:
            assert THROTTLED in response.text
            delays.append(int(response.headers["Retry-After"]))
            clock.advance(timedelta(seconds=delays[-1]))
            response = _try(client, STRANGER, username)
        assert response.status_code == 200 and "用户名或密码错误" in response.text
    return delays


def test_a_stranger_gets_growing_delays_and_cannot_lock_the_owner_out(app, client):
    _world(app)
    delays = _fail_many(client, 20)
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900, 900]
    held = _try(client, STRANGER, password=DEFAULT_PASSWORD)  # the right password from the throttled source waits
    assert held.status_code == 429 and "15分钟" in held.text
    assert _try(client, OWNER, password=DEFAULT_PASSWORD).status_code == 302


def test_the_street_admin_is_alerted_once_per_window(app, client):
    _world(app)
    _fail_many(client, 20)
    with app.app_context():
        alerts = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.openid == "o-street-admin")))
        audited = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "login_alert"))
    assert len(alerts) == 1 and audited == 1
    text = alerts[0].payload["text"]
    assert "wang" in text and STRANGER in text and "没有被锁定" in text


def test_an_unknown_username_is_throttled_with_the_same_words(app, client):
    _world(app)
    for _ in range(5):
        _try(client, STRANGER, "nobody")
        _try(client, STRANGER, "wang")
    unknown, known = _try(client, STRANGER, "nobody"), _try(client, STRANGER, "wang")
    assert unknown.status_code == known.status_code == 429
    assert unknown.text.replace("nobody", "wang") == known.text
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_spraying_many_usernames_from_one_source_is_capped(app, client):
    _world(app)
    for n in range(20):
        assert _try(client, STRANGER, f"guess{n}").status_code == 200
    refused = _try(client, STRANGER, f"guess{21}")
    assert refused.status_code == 429 and THROTTLED in refused.text
    assert _try(client, OWNER, password=DEFAULT_PASSWORD).status_code == 302


def test_the_owners_success_clears_their_own_delay(app, client):
    _world(app)
    for _ in range(5):
        _try(client, OWNER)
    assert _try(client, OWNER, password=DEFAULT_PASSWORD).status_code == 429
    clock.advance(timedelta(seconds=2))
    assert _try(client, OWNER, password=DEFAULT_PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(5):
        assert _try(client, OWNER).status_code == 200  # counting starts again from zero


def test_behind_the_proxy_each_client_address_counts_on_its_own(app):
    # Behind nginx every request comes from the proxy; TRUSTED_PROXIES makes the forwarded address the source.
    from app import create_app

    keys = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "REDIS_URL", "REDIS_PREFIX", "LINLI_NLP_PRELOAD",
            "WTF_CSRF_ENABLED", "TESTING")
    proxied = create_app({**{key: app.config[key] for key in keys}, "TRUSTED_PROXIES": 1}).test_client()
    _world(app)

    def through_proxy(client_ip: str, password: str):
        return proxied.post("/login", data={"username": "wang", "password": password},
                            headers={"X-Forwarded-For": client_ip}, environ_base={"REMOTE_ADDR": "127.0.0.1"})

    for _ in range(6):
        through_proxy(STRANGER, "wrong-pass")
    assert through_proxy(STRANGER, DEFAULT_PASSWORD).status_code == 429
    assert through_proxy(OWNER, DEFAULT_PASSWORD).status_code == 302


def test_a_burst_when_a_delay_ends_gets_one_try(app):
    # Attempts from one address are checked one at a time, so ten sent at once still meet the delay one by one.
    import threading

    _world(app)
    client = app.test_client()
    for _ in range(5):
        _try(client, STRANGER)
    clock.advance(timedelta(seconds=2))
    barrier, statuses = threading.Barrier(10), []

    def one_try():
        barrier.wait()
        statuses.append(_try(app.test_client(), STRANGER).status_code)

    threads = [threading.Thread(target=one_try) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [429] * 9
