"""The operational health check: the database, Redis and the outbox, each answered quickly."""

from __future__ import annotations

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.outbox.services import delivery_counts
from app.queue import redis_connection
from app.redis_guard import RedisUnavailable, guarded

# A database that takes longer than this to count the outbox is reported as failing.
STATEMENT_TIMEOUT_MS = 2000


def check_health() -> tuple[bool, dict[str, object]]:
    """(reachable, checks): ``reachable`` is False when the database or Redis does not answer.

    Connecting is bounded by DATABASE_CONNECT_TIMEOUT and REDIS_TIMEOUT_SECONDS; while Redis's
    circuit breaker is open it is reported down without being asked.
    """
    checks: dict[str, object] = {}
    reachable = True
    try:
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        db.session.execute(text("SELECT 1"))
        counts = delivery_counts()
        checks["database"] = "ok"
        checks["outbox_undelivered"] = counts["undelivered"]
        checks["outbox_failed"] = counts["failed"]
    except SQLAlchemyError as exc:
        reachable = False
        checks["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()
    connection = redis_connection()
    if connection is None:
        checks["redis"] = "not configured (jobs run in-process)"
    else:
        try:
            guarded("health check", connection.ping)
            checks["redis"] = "ok"
        except RedisUnavailable:
            reachable = False
            checks["redis"] = "error: skipped for a few seconds after repeated failures"
        except RedisError as exc:
            reachable = False
            checks["redis"] = f"error: {type(exc).__name__}"
    return reachable, checks
