"""A job for tests: which process and which database connection ran it."""

from __future__ import annotations

import os

from sqlalchemy import text

from app.extensions import db
from app.outbox.services import record_event
from jobs import job


def backend_pid() -> int | None:
    """The PostgreSQL backend serving this session's connection (None on SQLite)."""
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.scalar(text("SELECT pg_backend_pid()"))


@job
def report_connection(n: int) -> dict[str, int | None]:
    """Read and write like a real job (an event recorded and committed), then say who ran it."""
    backend = backend_pid()
    record_event("probe.reported", n=n)
    db.session.commit()
    return {"n": n, "pid": os.getpid(), "backend": backend}


@job
def noop() -> None:
    """Nothing but the cost of a job: a fork, an app context, a session opened and closed."""
