"""Liveness and readiness for load balancers and the start-up benchmark."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db, kv

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database and the key-value store respond."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"ok": True, "kv": kv().ping()})
