"""Home page and the operational health check."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.catalog.pages import home_page
from app.extensions import db
from app.htmx import render
from app.outbox.services import count_pending
from app.queue import redis_connection

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
    checks: dict[str, object] = {}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["outbox_pending"] = count_pending()
    except Exception as exc:  # a health check reports failures instead of raising them
        healthy = False
        checks["database"] = f"error: {type(exc).__name__}"
    connection = redis_connection()
    if connection is None:
        checks["redis"] = "not configured (jobs run in-process)"
    else:
        try:
            connection.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            healthy = False
            checks["redis"] = f"error: {type(exc).__name__}"
    response = jsonify(status="ok" if healthy else "degraded", **checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
