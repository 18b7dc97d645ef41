"""Placeholder blueprint (auth), filled in by the dashboard work."""

from flask import Blueprint

from app.extensions import db, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    from app.models import StaffUser

    return db.session.get(StaffUser, int(user_id))
