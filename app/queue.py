"""RQ queues: enqueue by dotted path, or run in-process when no Redis is configured."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue, Retry

log = logging.getLogger(__name__)

QUEUES = ("default", "scan", "search")
# Backoff for a failing job before it lands in the failed-job registry.
RETRY_INTERVALS = [10, 60, 300]


def redis_connection() -> Redis | None:
    """The app's Redis connection, or None in the in-process (development) mode."""
    return current_app.extensions.get("redis")


def init_redis(app: Any) -> None:
    url = app.config["APP_CONFIG"].redis_url
    app.extensions["redis"] = (
        Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) if url else None
    )


def get_queue(name: str, connection: Redis) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection)


def import_path(path: str) -> Any:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def enqueue(queue: str, func_path: str, *args: Any, job_id: str | None = None) -> str | None:
    """Run ``func_path(*args)`` on ``queue``; call only after the transaction has committed.

    Without Redis the job runs now, in this process. Raises redis errors when Redis is down,
    so the outbox can keep the event pending.
    """
    connection = redis_connection()
    if connection is None:
        import_path(func_path)(*args)
        return None
    job = get_queue(queue, connection).enqueue(
        func_path,
        *args,
        job_id=job_id,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        failure_ttl=60 * 60 * 24 * 30,
    )
    return job.id
