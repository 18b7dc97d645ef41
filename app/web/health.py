"""Liveness and readiness for load balancers and the start-up benchmark."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db, kv

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def _check(name: str, probe) -> bool:
    try:
        return bool(probe())
    except Exception as exc:  # a down dependency is an answer here, not an error page
        log.warning("health check: %s unavailable: %s", name, exc)
        return False


@bp.get("/healthz")
def healthz():
    """200 when the database and the key-value store respond, else 503 saying which one does not."""
    database = _check("database", lambda: db.session.execute(text("SELECT 1")).scalar() == 1)
    if not database:
        db.session.rollback()
    store = _check("key-value store", lambda: kv().ping())
    ok = database and store
    return jsonify({"ok": ok, "db": database, "kv": store}), 200 if ok else 503
