"""Thin blueprints: the webhook, resident H5 pages, the admin dashboard and the JSON API."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint; each capability adds its own line here."""
    from app.web import api, auth, dashboard, errors, health
    from app.web.converters import DatabaseId

    app.url_map.converters["int"] = DatabaseId  # before any rule is added: rules bind their converter when added
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    api.init_app(app)
    from app.web import outbox_pages, simulator, wechat

    app.register_blueprint(wechat.bp)
    app.register_blueprint(outbox_pages.bp)
    simulator.init_app(app)
    from app.web import binding_pages, estate_edit, resident

    app.register_blueprint(resident.bp)
    app.register_blueprint(binding_pages.bp)
    app.register_blueprint(estate_edit.bp)
    from app.web import services_h5, services_pages

    app.register_blueprint(services_pages.bp)
    app.register_blueprint(services_h5.bp)
    from app.web import plans_pages, votes_h5

    app.register_blueprint(plans_pages.bp)
    app.register_blueprint(votes_h5.bp)
    from app.web import tickets_h5, tickets_pages

    app.register_blueprint(tickets_pages.bp)
    app.register_blueprint(tickets_h5.bp)
    from app.web import fees_h5, fees_pages

    app.register_blueprint(fees_pages.bp)
    app.register_blueprint(fees_h5.bp)
