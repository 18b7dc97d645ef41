"""Migrations build a fresh database on SQLite and PostgreSQL that matches the models exactly."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.extensions import db

PG_URL = os.environ.get("LINLI_TEST_DATABASE_URL")


def _fresh_postgres_url() -> str:
    """A database of our own, dropped and created anew, so that migrations start from nothing."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS linli_migrations WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE linli_migrations"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/linli_migrations"


def _check_upgrade_matches_models(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LINLI_NLP_PRELOAD": False, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        summary = [f"{d[0]} {getattr(d[1], 'name', '')}" if isinstance(d, tuple) else str(d)[:120] for d in diff]
        assert summary == [], "models and migrations differ; generate a revision with `linli db migrate`"
        assert "rooms" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_migrations_build_an_empty_sqlite_database(tmp_path):
    _check_upgrade_matches_models(f"sqlite:///{tmp_path}/migrated.sqlite3")


@pytest.mark.skipif(not PG_URL or not PG_URL.startswith("postgresql"),
                    reason="LINLI_TEST_DATABASE_URL 未设置：跳过 PostgreSQL 迁移测试")
def test_migrations_build_an_empty_postgresql_database():
    _check_upgrade_matches_models(_fresh_postgres_url())
