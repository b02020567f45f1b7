"""Product search: one backend interface (backend.py), Whoosh or PostgreSQL full text."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind the configured search backend and the background rebuilder to ``app``."""
    from app.search import backend, services

    backend.init_app(app)
    services.init_app(app)
