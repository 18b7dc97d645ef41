"""Shared fixtures: an app over a real database and key-value store, chosen by the test pass.

Pass 1 (default): SQLite file + the embedded store. Pass 2: LINLI_TEST_DATABASE_URL (PostgreSQL) and
LINLI_TEST_REDIS_URL (Redis), which `scripts/test` sets when the servers are configured.
"""

from __future__ import annotations

import os

import pytest

from app import clock

from app import create_app
from app.extensions import db as _db
from app.extensions import kv as _kv
from app.services import register_cache

TEST_DB_URL = os.environ.get("LINLI_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("LINLI_TEST_REDIS_URL")


def backend_overrides(tmp_dir) -> dict:
    """Config for the backend of this pass."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": TEST_DB_URL or f"sqlite:///{tmp_dir}/linli-test.sqlite3",
        "REDIS_URL": TEST_REDIS_URL,
        "REDIS_PREFIX": "linli-test:",
        "LINLI_NLP_PRELOAD": False,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://localhost",
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the session, with a fresh schema."""
    tmp_dir = tmp_path_factory.mktemp("linli")
    application = create_app(backend_overrides(tmp_dir))
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty every table and the key-value store after each test that used the app; unfreeze the clock."""
    yield
    clock.reset()  # a test that froze time in a thread must not leak it into the next one
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        _db.session.remove()
        with _db.engine.begin() as connection:
            for table in reversed(_db.metadata.sorted_tables):
                connection.execute(table.delete())
        _kv().clear()
        register_cache.forget()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def store(ctx):
    """The key-value store of this pass."""
    return _kv()
