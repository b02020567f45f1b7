"""The `flask worker` process: RQ's forking worker bound to the app, and its chores thread.

- Each job runs in a work horse forked from the worker. The horse drops the database pool it
  inherited (without closing the parent's connections) and the Redis breaker's state, so it
  opens connections of its own: a horse once reused the worker's PostgreSQL connection while
  the sweep used it too, and both failed.
- The chores thread (its own app context and session, so its own connection) replaces RQ's
  scheduler process and RQ's ten-minute maintenance: every second it enqueues due retries,
  every JOB_HEARTBEAT_SECONDS it requeues jobs whose worker died, and every
  OUTBOX_SWEEP_SECONDS it sweeps the outbox, writes noted page views, sweeps product
  versions (stuck scans requeued, orphan files deleted) and sends due digests. Each chore
  outlives any failure of Redis or the database, so retries run on time once Redis is back.
- RQ's worker quits on some Redis failures (a read timeout, a failed heartbeat); it is started
  again until it is asked to stop.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job
from rq.queue import Queue
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.outages import init_outages, outages
from app.queue import enqueue_due_jobs, get_queue, requeue_abandoned
from app.redis_guard import init_redis_guard

log = logging.getLogger(__name__)

# How long the worker waits before starting RQ's worker again after it quit on a Redis failure.
RESTART_SECONDS = 1.0


def prepare_work_horse(app: Flask) -> None:
    """In a process forked from one that used ``app``: forget the parent's connections and
    locks (SQLAlchemy's pool, the Redis breaker, the outage log; the chores thread may have
    held a lock when the worker forked) so that nothing is shared with the parent.

    ``dispose(close=False)`` leaves the parent's connections open for the parent (closing them
    here would end the parent's sessions); psycopg does not close a connection inherited
    across a fork when it is garbage-collected.
    """
    with app.app_context():
        db.engine.dispose(close=False)
    init_redis_guard(app)
    init_outages(app)


class AppWorker(Worker):
    """RQ's forking worker for ``app``: jobs run in an app context, in a horse with its own
    connections; heartbeats are tuned so that a killed worker's job is retried within a
    minute, and a Redis outage during a job does not end the worker."""

    # RQ backs off up to 60 s between reconnection attempts while Redis is away.
    max_connection_wait_time = 5.0

    def __init__(self, queues: list[Queue], *, app: Flask, connection: Redis) -> None:
        super().__init__(
            queues,
            connection=connection,
            job_monitoring_interval=app.config["APP_CONFIG"].job_heartbeat_seconds,
        )
        self.app = app
        self.stop_requested = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)

    def get_heartbeat_ttl(self, job: Job) -> int:
        # RQ adds 60 s to every heartbeat's lifetime, so the job of a killed worker counted as
        # abandoned only 90 s or more later. Two missed heartbeats are slack enough.
        return 3 * self.job_monitoring_interval

    def maintain_heartbeats(self, job: Job) -> None:
        try:
            super().maintain_heartbeats(job)
        except RedisError as exc:
            # RQ would end the worker here; the job goes on and the beats resume with Redis.
            with self.app.app_context():
                outages().failed("Redis (worker heartbeat)", exc)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        prepare_work_horse(self.app)
        with self.app.app_context():
            super().main_work_horse(job, queue)


def worker_connection(app: Flask) -> Redis:
    """The RQ worker's own Redis client: RQ sets its read timeout to outlast a blocking
    dequeue, which the web client's short timeouts would break."""
    return Redis.from_url(app.config["APP_CONFIG"].redis_url, socket_connect_timeout=5)


@dataclass
class Chore:
    name: str
    every: float
    run: Callable[[], object]
    next_at: float = 0.0


class Chores:
    """The worker's periodic chores, run by one thread in its own app context (so its own
    database session and connection)."""

    def __init__(self, app: Flask) -> None:
        from app.assets.services import sweep_versions
        from app.catalog import pageviews
        from app.notifications.services import send_due_digests
        from app.outbox.services import sweep_outbox

        settings = app.config["APP_CONFIG"]
        connection = app.extensions["redis"]
        self.app = app
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.chores = [
            Chore("outbox", float(settings.outbox_sweep_seconds), sweep_outbox),
            Chore("page views", float(settings.outbox_sweep_seconds), pageviews.flush),
            Chore("versions", float(settings.outbox_sweep_seconds), sweep_versions),
            # An SMTP failure leaves the digest queued: the chore sends it on a later round.
            Chore("daily digests", float(settings.outbox_sweep_seconds), send_due_digests),
        ]
        if connection is not None:  # without Redis there is no queue to look after
            self.chores[:0] = [
                Chore("scheduled jobs", 1.0, lambda: enqueue_due_jobs(connection)),
                Chore(
                    "abandoned jobs",
                    float(settings.job_heartbeat_seconds),
                    lambda: requeue_abandoned(connection),
                ),
            ]

    def run_once(self) -> None:
        """Run every chore now (before taking jobs; a burst run's only round)."""
        with self.app.app_context():
            for chore in self.chores:
                self._run(chore)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="worker-chores", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)

    def _loop(self) -> None:
        for chore in self.chores:  # run_once has just run them all
            chore.next_at = time.monotonic() + chore.every
        while not self.stop.wait(max(0.05, min(c.next_at for c in self.chores) - time.monotonic())):
            with self.app.app_context():
                for chore in self.chores:
                    if time.monotonic() >= chore.next_at:
                        chore.next_at = time.monotonic() + chore.every
                        self._run(chore)

    def _run(self, chore: Chore) -> None:
        kind = f"worker chore: {chore.name}"
        try:
            result = chore.run()
        except (RedisError, SQLAlchemyError, OSError) as exc:
            db.session.rollback()  # the next chore starts on a clean session
            outages().failed(kind, exc)
            return
        except Exception as exc:  # noqa: BLE001 - a bug: logged with its traceback; the loop lives on
            db.session.rollback()
            outages().failed(kind, exc, traceback=True)
            return
        if outages().is_failing(kind):
            outages().recovered(kind)
        if result:
            log.info("%s: %s", kind, result)


def run_worker(app: Flask, queues: list[str], burst: bool = False) -> None:
    """Work ``queues`` until asked to stop (SIGTERM, SIGINT) or, with ``burst``, until empty."""
    connection = worker_connection(app)
    rq_queues = [get_queue(name, connection) for name in queues]
    chores = Chores(app)
    chores.run_once()
    if not burst:
        chores.start()
    try:
        while not chores.stop.is_set():
            worker: AppWorker | None = None
            try:
                worker = AppWorker(rq_queues, app=app, connection=connection)
                worker.work(burst=burst, logging_level=app.config["APP_CONFIG"].log_level)
            except RedisError as exc:  # RQ could not start, or its teardown failed: Redis is away
                with app.app_context():
                    outages().failed("Redis (worker)", exc)
            if burst or (worker is not None and worker.stop_requested):
                return
            if worker is not None:
                with app.app_context():
                    outages().failed("Redis (worker)", RuntimeError("RQ's worker quit"))
            _wait_before_restart(chores.stop)
    finally:
        chores.close()


def _wait_before_restart(stop: threading.Event) -> None:
    """Between two RQ workers RQ's signal handlers are stale: a stop request ends the loop."""

    def request_stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    stop.wait(RESTART_SECONDS)
