"""Home page and the operational health check."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.catalog.pages import home_page
from app.core.health import check_health
from app.htmx import render

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    return render("core/home.html", sections=home_page())


@bp.get("/about")
def about_GET():
    """A static page; benchmarks also use it as the framework's floor."""
    return render("core/about.html")


@bp.get("/healthz")
def healthz():
    """503 when the database or Redis does not answer; ``degraded`` also when events failed."""
    reachable, checks = check_health()
    healthy = reachable and not checks.get("outbox_failed")
    response = jsonify(status="ok" if healthy else "degraded", **checks)
    response.status_code = 200 if reachable else 503
    response.headers["Cache-Control"] = "no-store"
    return response
