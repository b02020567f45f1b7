"""RQ queues: enqueue by dotted path (or run in-process without Redis), read what became of a job,
and the two chores RQ's own scheduler did late: enqueue due retries, requeue abandoned jobs."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import clean_registries

from app.redis_guard import guarded

log = logging.getLogger(__name__)

QUEUES = ("default", "scan", "search")
# A job that used up its retries stays in RQ's failed-job registry this long.
FAILURE_TTL = 60 * 60 * 24 * 30
# Only one worker at a time cleans the registries; a holder killed mid-way frees it after this.
MAINTENANCE_LOCK = "am:jobs:maintenance"
MAINTENANCE_LOCK_SECONDS = 30

# RQ statuses of a job that is still on its way (waiting, running or waiting for a retry).
ALIVE = frozenset(
    {
        JobStatus.CREATED,
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.SCHEDULED,
        JobStatus.DEFERRED,
    }
)
# ... and of one that will not run again unless it is enqueued anew.
GAVE_UP = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


def redis_connection() -> Redis | None:
    """The app's Redis connection, or None in the in-process (development) mode."""
    return current_app.extensions.get("redis")


def init_redis(app: Flask) -> None:
    settings = app.config["APP_CONFIG"]
    app.extensions["redis"] = (
        Redis.from_url(settings.redis_url, **settings.redis_client_options())
        if settings.redis_url
        else None
    )


def get_queue(name: str, connection: Redis) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection)


def import_path(path: str) -> Any:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def retry_policy() -> Retry | None:
    """Backoff for a failing job (JOB_RETRY_INTERVALS) before it counts as failed."""
    intervals = list(current_app.config["APP_CONFIG"].job_retry_intervals)
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue(queue: str, func_path: str, *args: Any, job_id: str | None = None) -> str | None:
    """Run ``func_path(*args)`` on ``queue``; call only after the transaction has committed.

    Without Redis the job runs now, in this process, and its errors propagate. With Redis it
    raises RedisError when Redis is down or being skipped (the breaker is open), so the outbox
    can keep the event pending.
    """
    connection = redis_connection()
    if connection is None:
        import_path(func_path)(*args)
        return None
    target = get_queue(queue, connection)
    job = guarded(
        "queue",
        lambda: target.enqueue(
            func_path, *args, job_id=job_id, retry=retry_policy(), failure_ttl=FAILURE_TTL
        ),
    )
    return job.id


@dataclass(frozen=True)
class JobState:
    status: JobStatus | None
    error: str | None = None  # the last line of a failed job's exception


def job_states(job_ids: list[str]) -> dict[str, JobState | None]:
    """What became of each job: its RQ status, or None when Redis has no such job (never
    enqueued, lost with Redis's data, or expired). Raises RedisError when Redis is down."""
    connection = redis_connection()
    if connection is None or not job_ids:
        return {}
    jobs = guarded("queue", lambda: Job.fetch_many(job_ids, connection=connection))
    states: dict[str, JobState | None] = {}
    for job_id, job in zip(job_ids, jobs, strict=True):
        if job is None:
            states[job_id] = None
            continue
        status = job.get_status(refresh=False)
        error = None
        if status in GAVE_UP:
            result = guarded("queue", job.latest_result)
            lines = (result.exc_string or "").strip().splitlines() if result else []
            error = lines[-1][:1000] if lines else f"job {status}"
        states[job_id] = JobState(status, error)
    return states


def discard_job(job_id: str) -> None:
    """Forget a job that gave up (and its place in the failed-job registry) before it is
    enqueued again under the same id."""
    connection = redis_connection()
    if connection is None:
        return
    try:
        job = guarded("queue", lambda: Job.fetch(job_id, connection=connection))
    except NoSuchJobError:
        return
    guarded("queue", job.delete)


def enqueue_due_jobs(connection: Redis, queues: Iterable[str] = QUEUES) -> int:
    """Move scheduled jobs whose time has come (retries) onto their queues; return how many.

    This replaces RQ's scheduler process, which died with every Redis outage and, after a
    worker was killed, waited for the dead scheduler's lock to expire. Any number of workers
    may run this at once: a job id leaves the schedule by one ZREM, and only the process whose
    ZREM removed it enqueues it.
    """
    moved = 0
    for name in queues:
        queue = get_queue(name, connection)
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule():
            if not registry.remove(job_id):
                continue  # another worker took it
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                continue  # expired or deleted since; the outbox re-dispatches its event
            queue.enqueue_job(job)
            moved += 1
    return moved


def requeue_abandoned(connection: Redis, queues: Iterable[str] = QUEUES) -> None:
    """Clean every queue's registries: jobs whose worker stopped sending heartbeats (killed)
    are retried or marked failed, which RQ's worker does only every ten minutes. Skipped while
    another worker holds the maintenance lock."""
    lock = connection.lock(MAINTENANCE_LOCK, timeout=MAINTENANCE_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return
    try:
        for name in queues:
            clean_registries(get_queue(name, connection))
    finally:
        lock.release()
