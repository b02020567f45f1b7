"""Jobs under faults, with real parts: forking RQ workers in processes of their own (`flask
worker`), redis-server killed, flushed and restarted, SMTP refusing or hanging, and PostgreSQL
on the PostgreSQL pass."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from rq.job import Job, JobStatus
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.outbox.models import Event
from app.outbox.services import dispatch_committed, record_event
from app.queue import enqueue, get_queue
from tests.conftest import PASSWORD, csrf_token, login, user_maker
from tests.jobs.runner import WORKER_CONNECTION_KEY
from tests.support.services import RedisServer, SmtpServer, WorkerProcess, free_port, wait_until

pytestmark = pytest.mark.faults


@pytest.fixture
def worker_env(app_env: dict[str, str]) -> dict[str, str]:
    """Worker settings with short intervals, so that each fault shows within seconds."""
    return {
        **app_env,
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_GRACE_SECONDS": "1",
        "JOB_HEARTBEAT_SECONDS": "1",
        "REDIS_BREAKER_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes; every one still running at the end is killed."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str], args: list[str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log", args)
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.kill()


def _signup(client, email: str) -> None:
    response = client.post(
        "/signup",
        data={
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(client, "/signup"),
        },
    )
    assert response.status_code == 303


def _record_signup(app: Flask, email: str) -> str:
    """A new unverified user and its committed, dispatched user.registered event."""
    user = user_maker(app)("customer", verified=False, email=email)
    with app.app_context():
        event = record_event("user.registered", user_id=user.id)
        db.session.commit()
        dispatch_committed()
        return event.id


def _event(app: Flask, event_id: str | None = None) -> Event:
    with app.app_context():
        query = select(Event).where(Event.name == "user.registered")
        return db.session.scalar(query.where(Event.id == event_id) if event_id else query)


def test_sixty_jobs_while_the_sweep_runs_every_second(app, worker_env, workers):
    """Each job runs in its own work horse on a connection of its own: never on the one the
    worker's process (and its sweep) holds."""
    workers(worker_env, ["-m", "tests.jobs.runner"])
    connection = app.extensions["redis"]
    with app.app_context():
        ids = [enqueue("default", "tests.jobs.probe.report_connection", n) for n in range(60)]

    def settled() -> list[Job]:
        jobs = Job.fetch_many(ids, connection=connection)
        busy = {JobStatus.QUEUED, JobStatus.STARTED}
        return jobs if all(job.get_status(refresh=False) not in busy for job in jobs) else []

    jobs = wait_until(settled, 120, "60 jobs ran")
    statuses = {job.id: job.get_status(refresh=False) for job in jobs}
    assert set(statuses.values()) == {JobStatus.FINISHED}, statuses  # no failure, no retry
    worker = json.loads(connection.get(WORKER_CONNECTION_KEY))
    results = [job.return_value() for job in jobs]
    assert sorted(r["n"] for r in results) == list(range(60))
    assert all(r["pid"] != worker["pid"] for r in results)  # each ran in a forked horse
    if worker["backend"] is not None:  # PostgreSQL: the connections themselves
        backends = [r["backend"] for r in results]
        assert worker["backend"] not in backends
        assert len(set(backends)) == 60  # a fresh connection per horse, none passed on


def test_an_event_whose_job_was_lost_with_redis_data_is_delivered_once(
    app, client, worker_env, workers, mailbox
):
    _signup(client, "flushed@example.com")
    event = _event(app)
    assert event.dispatched_at is not None  # queued...
    app.extensions["redis"].flushall()  # ...and gone with Redis's data before a worker ran
    worker = workers(worker_env)
    wait_until(lambda: mailbox.to("flushed@example.com"), 30, "the email was sent")
    time.sleep(2.5)  # more sweeps: none sends it again
    assert len(mailbox.to("flushed@example.com")) == 1
    assert _event(app).delivered_at is not None
    assert client.get("/healthz").json["outbox_undelivered"] == 0
    assert worker.stop() == 0  # SIGTERM: a warm shutdown, not a restart


def test_a_job_that_fails_all_its_retries_is_failed_until_an_admin_sends_it_again(
    app, client, worker_env, workers, make_user
):
    port = free_port()  # the mail server is down: nothing listens there
    workers({**worker_env, "SMTP_URL": f"smtp://127.0.0.1:{port}"})
    _signup(client, "unlucky@example.com")

    def failed() -> bool:
        return client.get("/healthz").json["outbox_failed"] == 1

    wait_until(failed, 30, "the event counted as failed")  # 3 attempts, 1 s apart
    health = client.get("/healthz").json
    assert health["status"] == "degraded" and health["outbox_undelivered"] == 0
    queue = get_queue("default", app.extensions["redis"])
    assert len(queue.failed_job_registry) == 1

    admin_client = app.test_client()
    assert login(admin_client, make_user("admin")).status_code == 303
    page = admin_client.get("/admin/deliveries").get_data(as_text=True)
    assert "user.registered" in page and "send_verification_email" in page
    assert "ConnectionRefusedError" in page
    delivery_id = int(page.split("/admin/deliveries/")[1].split("/retry")[0])

    smtp = SmtpServer(port=port)  # the mail server is back
    smtp.start()
    try:
        response = admin_client.post(
            f"/admin/deliveries/{delivery_id}/retry",
            data={"csrf_token": csrf_token(admin_client, "/admin/deliveries")},
        )
        assert response.status_code == 303
        wait_until(lambda: smtp.mailbox.to("unlucky@example.com"), 30, "the email was sent")
    finally:
        smtp.stop()
    wait_until(lambda: _event(app).delivered_at, 10, "the event was delivered")
    health = client.get("/healthz").json
    assert (health["status"], health["outbox_failed"], health["outbox_undelivered"]) == (
        "ok",
        0,
        0,
    )
    assert len(queue.failed_job_registry) == 0  # RQ forgot the failed run


def test_a_retry_due_while_redis_was_down_runs_soon_after_it_is_back(app, worker_env, workers):
    redis = RedisServer(persistent=True)  # a production Redis keeps its data (AOF)
    redis.start()
    port = free_port()
    env = {
        **worker_env,
        "REDIS_URL": redis.url,
        "SMTP_URL": f"smtp://127.0.0.1:{port}",
        "JOB_RETRY_INTERVALS": "3",
        "OUTBOX_GRACE_SECONDS": "3600",  # only the scheduled retry can deliver it
    }
    local = create_app(env=env)
    smtp = SmtpServer(port=port)
    try:
        workers(env)
        _record_signup(local, "patient@example.com")
        scheduled = get_queue("default", local.extensions["redis"]).scheduled_job_registry
        wait_until(lambda: len(scheduled) == 1, 30, "the failed job was scheduled for a retry")
        redis.kill()  # the retry falls due while Redis is down
        smtp.start()
        time.sleep(10)
        redis.start()
        back = time.monotonic()
        wait_until(lambda: smtp.mailbox.to("patient@example.com"), 30, "the retry ran")
        assert time.monotonic() - back < 30
    finally:
        smtp.stop()
        redis.close()
        with local.app_context():
            db.engine.dispose()


def test_a_job_whose_worker_was_killed_runs_again_on_the_next_worker(app, worker_env, workers):
    smtp = SmtpServer()
    smtp.start()
    smtp.mailbox.hold.set()  # the mail server keeps the job waiting mid-send
    env = {**worker_env, "SMTP_URL": smtp.url, "OUTBOX_GRACE_SECONDS": "3600"}
    try:
        event_id = _record_signup(app, "survivor@example.com")
        first = workers(env)
        wait_until(lambda: smtp.mailbox.mail_commands, 30, "the job started sending")
        first.kill()  # the worker, its horse and all, mid-job
        smtp.mailbox.hold.clear()
        restarted = time.monotonic()
        workers(env)
        wait_until(lambda: smtp.mailbox.to("survivor@example.com"), 60, "the job ran again")
        assert time.monotonic() - restarted < 60
        assert smtp.mailbox.mail_commands == 2 and len(smtp.mailbox.messages) == 1
        wait_until(lambda: _event(app, event_id).delivered_at, 10, "the event was delivered")
    finally:
        smtp.stop()
