"""Linli (邻里): the app factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    """Build the Flask app from the environment; tests may pass config overrides."""
    from app import config, models, privacy  # noqa: F401  (models: every table registered on the metadata)
    from app.services import register_cache  # noqa: F401  (its session listeners bump the register generation)
    from app.extensions import csrf, db, init_kv, login_manager, migrate
    from app.web import register_blueprints, security_headers
    from app.web.uploads import apply_upload_limit

    config.load_dotenv_file()
    app = Flask(__name__, instance_relative_config=True, instance_path=str(Path.cwd() / "instance"))
    app.config.update(config.from_environment(app.instance_path))
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    privacy.configure(app.config["SECRET_KEY"])
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    init_kv(app)
    register_blueprints(app)
    security_headers.init_app(app)
    from app.web.wechat import WebhookMiddleware

    app.wsgi_app = WebhookMiddleware(app, app.wsgi_app)  # WeChat's pushes skip Flask's request machinery
    app.url_value_preprocessor(apply_upload_limit)
    _enable_sqlite_pragmas(app)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind nginx every request comes from the proxy; rate limits and audit need the resident's address.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config.get("LINLI_NLP_PRELOAD"):
        from app.nlp import warm_up

        warm_up()
    return app


def _enable_sqlite_pragmas(app: Flask) -> None:
    # WAL + a busy timeout let the webhook, the scheduler and the CLI share one SQLite file.
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            if ":memory:" not in app.config["SQLALCHEMY_DATABASE_URI"]:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
