"""Placeholder for the JSON API (filled in by the dashboard work)."""


def init_app(app) -> None:
    """Register the API blueprints."""
