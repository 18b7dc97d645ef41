"""Staff login and logout: hashed passwords, signed session cookies, CSRF-protected forms, attempts throttled per source."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db, login_manager
from app.services import audit, scope
from app.services.errors import DomainError

bp = Blueprint("auth", __name__, template_folder="templates")

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str):
    """Flask-Login's loader: the staff user of a session."""
    from app.models import StaffUser

    return db.session.get(StaffUser, int(user_id))


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=128)])


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token, so another site cannot log a user out."""


def role_required(*roles: str):
    """Login required, and one of `roles` in some scope; 404 otherwise (a page we do not reveal)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not scope.has_role(current_user, *roles):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login would be a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and sign a staff member in."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    status, headers = 200, {}
    if form.validate_on_submit():
        from app.services.login_throttle import LoginThrottled
        from app.services.staff import authenticate

        try:
            # remote_addr is the client's address as ProxyFix derives it under TRUSTED_PROXIES.
            user = authenticate(form.username.data, form.password.data, ip=request.remote_addr or "")
        except LoginThrottled as exc:
            error, status, headers = exc.message, 429, {"Retry-After": str(exc.retry_after)}
        except DomainError as exc:
            error = exc.message
        else:
            login_user(user)
            audit.record_staff(user, "login", "staff_user", user.id, ip=request.remote_addr or "")
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status, headers


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """POST signs out; GET shows a button (a link alone could be triggered by another site)."""
    form = LogoutForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if current_user.is_authenticated:
            audit.record_staff(current_user, "logout", "staff_user", current_user.id)
            db.session.commit()
        logout_user()
        return redirect(url_for("auth.login"))
    return render_template("logout.html", form=form)
