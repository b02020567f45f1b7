"""A database connection dropped mid-request: the cleanup after the response fails, is logged,
and the response stands (the server's bare error page never replaces it)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db


def test_a_connection_dropped_mid_request_is_logged_not_served_as_a_bare_error(
    app, app_env, caplog
):
    if not app_env["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("needs a database server that can drop a connection (the PostgreSQL pass)")
    dropping = create_app(env=app_env)
    killer = create_engine(dropping.config["SQLALCHEMY_DATABASE_URI"])

    @dropping.get("/test/dropped-connection")
    def dropped_connection():
        # The request holds a transaction open when its connection goes away (a server
        # restart, a proxy timeout): the session's rollback at teardown then fails.
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
        return "the response"

    client = dropping.test_client()
    try:
        with caplog.at_level(logging.WARNING, logger="app.outages"):
            response = client.get("/test/dropped-connection")
        assert response.status_code == 200 and response.get_data(as_text=True) == "the response"
        [record] = [r for r in caplog.records if "session cleanup" in r.getMessage()]
        assert "OperationalError" in record.getMessage() and record.exc_info is not None
        assert client.get("/healthz").json["database"] == "ok"  # the pool recovered
    finally:
        killer.dispose()
        with dropping.app_context():
            db.engine.dispose()
