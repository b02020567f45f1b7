"""The transactional outbox: nothing lost when Redis is down, dispatch only after commit, and an
event pending until every handler has run (in this process; tests/jobs/ drives real workers)."""

import time

from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import Event, EventDelivery
from app.outbox.services import (
    SUBSCRIBERS,
    delivery_counts,
    dispatch_committed,
    handler_name,
    record_event,
    sweep_outbox,
)
from app.queue import get_queue, import_path
from tests.catalog.factories import create_product
from tests.conftest import PASSWORD, csrf_token, local_env, login, user_maker
from tests.support.services import SmtpServer, body_text, free_port


def _signup(client, email):
    return client.post(
        "/signup",
        data={
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(client, "/signup"),
        },
    )


def _event(app, name="user.registered"):
    with app.app_context():
        return db.session.scalar(select(Event).where(Event.name == name))


def test_redis_outage_keeps_event_until_redis_is_back(app, client, redis_server, mailbox, run_jobs):
    csrf = csrf_token(client, "/signup")
    redis_server.stop()
    try:
        response = client.post(
            "/signup",
            data={
                "email": "outage@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": csrf,
            },
        )
        assert response.status_code == 303  # the user signed up although Redis is down
        event = _event(app)
        assert event.dispatched_at is None
        assert event.attempts == 1 and "queue unavailable" in event.last_error
        health = app.test_client().get("/healthz")
        assert health.status_code == 503 and health.json["outbox_undelivered"] == 1
    finally:
        redis_server.start()

    time.sleep(0.5)  # REDIS_BREAKER_SECONDS: the breaker lets a call through again
    with app.app_context():
        assert sweep_outbox().dispatched == 1
        assert db.session.get(Event, event.id).dispatched_at is not None
        assert not sweep_outbox()  # queued and alive in Redis: nothing to do
    assert run_jobs() == 1
    [message] = mailbox.to("outage@example.com")
    assert message["Subject"] == "Confirm your email address"
    assert _event(app).delivered_at is not None


def test_an_event_is_pending_until_its_job_has_run(app, client, run_jobs):
    assert _signup(client, "pending@example.com").status_code == 303
    event = _event(app)
    assert event.dispatched_at is not None and event.delivered_at is None  # queued, not run
    with app.app_context():
        assert delivery_counts() == {"undelivered": 1, "failed": 0}
    assert client.get("/healthz").json["outbox_undelivered"] == 1
    assert run_jobs() == 1
    assert _event(app).delivered_at is not None
    with app.app_context():
        assert delivery_counts() == {"undelivered": 0, "failed": 0}
        [row] = db.session.scalars(select(EventDelivery))
        assert row.handler == "send_verification_email" and row.delivered_at is not None


def test_an_event_with_two_handlers_waits_for_both(app, make_user):
    product_id = create_product(app, make_user, "Two handlers")
    with app.app_context():
        record_event("product.approved", product_id=product_id)
        db.session.commit()
        assert dispatch_committed() == 1
    connection = app.extensions["redis"]

    def work(queue):
        with app.app_context():
            SimpleWorker([get_queue(queue, connection)], connection=connection).work(burst=True)

    work("search")
    event = _event(app, "product.approved")
    assert event.delivered_at is None  # the index is updated, the vendor not told yet
    work("default")
    event = _event(app, "product.approved")
    assert event.delivered_at is not None
    with app.app_context():
        handlers = set(db.session.scalars(select(EventDelivery.handler)))
    assert handlers == {"index_product", "notify_listing_decision"}


def test_a_job_lost_with_redis_data_is_sent_again_and_delivered_once(
    app, client, mailbox, run_jobs
):
    assert _signup(client, "lost@example.com").status_code == 303
    app.extensions["redis"].flushall()  # Redis restarted without its data
    assert run_jobs() == 0
    with app.app_context():
        report = sweep_outbox()  # OUTBOX_GRACE_SECONDS is 0 in tests
        assert report.redispatched == 1 and report.dispatched == 0
    assert run_jobs() == 1
    with app.app_context():
        assert not sweep_outbox()
    assert run_jobs() == 0
    assert len(mailbox.to("lost@example.com")) == 1


def test_a_second_run_of_a_delivered_job_does_nothing(app, client, mailbox, run_jobs):
    assert _signup(client, "twice@example.com").status_code == 303
    event = _event(app)
    assert run_jobs() == 1
    with app.app_context():
        run = import_path("jobs.accounts.send_verification_email")
        assert run(event.id) is False
    assert len(mailbox.to("twice@example.com")) == 1


def test_every_subscriber_is_a_job_named_as_its_handler():
    for subscribers in SUBSCRIBERS.values():
        for _queue, path in subscribers:
            assert import_path(path).__name__ == handler_name(path), path


def test_rolled_back_events_are_never_dispatched(app, run_jobs):
    with app.app_context():
        record_event("user.registered", user_id=999)
        db.session.flush()
        db.session.rollback()
        assert dispatch_committed() == 0
        assert db.session.scalar(select(db.func.count()).select_from(Event)) == 0
    assert run_jobs() == 0


def test_nothing_is_enqueued_before_commit(app, run_jobs):
    with app.app_context():
        record_event("password.changed", user_id=1)
        db.session.flush()
        assert run_jobs() == 0  # flushed, not committed: not on the queue
        db.session.commit()
        assert dispatch_committed() == 1
    assert app.extensions["redis"].llen("rq:queue:default") == 1


def test_an_event_without_subscribers_is_delivered_when_dispatched(app):
    with app.app_context():
        record_event("nobody.listens", n=1)
        db.session.commit()
        dispatch_committed()
    assert _event(app, "nobody.listens").delivered_at is not None


def test_healthz_reports_parts(client):
    body = client.get("/healthz").json
    assert body == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "outbox_undelivered": 0,
        "outbox_failed": 0,
    }


def _local_app(tmp_path, **env):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(env=local_env(tmp_path, **env))
    with app.app_context():
        upgrade()
    return app


def test_in_process_mode_without_redis(tmp_path, smtp_server):
    """Without REDIS_URL the same jobs run in-process right after the commit."""
    app = _local_app(tmp_path, SMTP_URL=smtp_server.url)
    client = app.test_client()
    assert _signup(client, "inproc@example.com").status_code == 303
    [message] = smtp_server.mailbox.to("inproc@example.com")
    assert "/verify/" in body_text(message)
    smtp_server.mailbox.clear()
    assert _event(app).delivered_at is not None
    with app.app_context():
        assert not sweep_outbox()  # delivered already
    body = client.get("/healthz").json
    assert body["redis"].startswith("not configured")
    assert (body["outbox_undelivered"], body["outbox_failed"]) == (0, 0)
    with app.app_context():
        db.engine.dispose()


def test_in_process_failure_is_marked_failed_and_an_admin_sends_it_again(tmp_path):
    """Without Redis there are no retries: a handler that fails is failed at once, shown to
    admins, and their retry runs it again in their request."""
    port = free_port()  # nothing listens there yet: the mail cannot be sent
    app = _local_app(tmp_path, SMTP_URL=f"smtp://127.0.0.1:{port}")
    client = app.test_client()
    assert _signup(client, "later@example.com").status_code == 303
    event = _event(app)
    assert event.delivered_at is None
    health = client.get("/healthz")
    assert health.status_code == 200  # the app itself is fine...
    assert health.json["status"] == "degraded" and health.json["outbox_failed"] == 1

    admin = user_maker(app)("admin")
    admin_client = app.test_client()
    assert login(admin_client, admin).status_code == 303
    page = admin_client.get("/admin/deliveries").get_data(as_text=True)
    assert "user.registered" in page and "send_verification_email" in page
    assert "Connection refused" in page
    with app.app_context():
        delivery_id = db.session.scalar(select(EventDelivery.id))

    smtp = SmtpServer(port=port)  # the mail server is back
    smtp.start()
    try:
        response = admin_client.post(
            f"/admin/deliveries/{delivery_id}/retry",
            data={"csrf_token": csrf_token(admin_client, "/admin/deliveries")},
        )
        assert response.status_code == 303
        assert len(smtp.mailbox.to("later@example.com")) == 1
    finally:
        smtp.stop()
    assert _event(app).delivered_at is not None
    assert "Nothing has failed" in admin_client.get("/admin/deliveries").get_data(as_text=True)
    again = admin_client.post(
        f"/admin/deliveries/{delivery_id}/retry",
        data={"csrf_token": csrf_token(admin_client, "/admin/deliveries")},
    )
    assert again.status_code == 409  # delivered: nothing to send again
    with app.app_context():
        db.engine.dispose()
