"""Flask extensions, created unbound and bound in create_app()."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.kv import KeyValueStore, make_store

# Stable constraint names so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


def init_kv(app) -> None:
    """Attach the key-value store chosen by REDIS_URL to the app."""
    app.extensions["linli_kv"] = make_store(app.config.get("REDIS_URL"), app.config.get("REDIS_PREFIX", "linli:"))


def kv(app: Flask | None = None) -> KeyValueStore:
    """The key-value store of `app`, or of the current app."""
    return (app or current_app).extensions["linli_kv"]
