"""The transactional outbox: nothing lost when Redis is down; dispatch only after commit."""

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import Event
from app.outbox.services import dispatch_committed, dispatch_pending, record_event
from tests.conftest import PASSWORD, csrf_token, local_env
from tests.support.services import body_text


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


def test_redis_outage_keeps_event_until_redis_is_back(app, client, redis_server, mailbox, run_jobs):
    token_client = client
    csrf = csrf_token(token_client, "/signup")
    redis_server.stop()
    try:
        response = token_client.post(
            "/signup",
            data={
                "email": "outage@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": csrf,
            },
        )
        assert response.status_code == 303  # the user signed up although Redis is down
        with app.app_context():
            event = db.session.scalar(select(Event).where(Event.name == "user.registered"))
            assert event.dispatched_at is None
            assert event.attempts == 1 and "queue unavailable" in event.last_error
            health = app.test_client().get("/healthz")
            assert health.status_code == 503 and health.json["outbox_pending"] == 1
    finally:
        redis_server.start()

    with app.app_context():
        assert dispatch_pending() == 1
        assert db.session.get(Event, event.id).dispatched_at is not None
        assert dispatch_pending() == 0
    assert run_jobs() == 1
    [message] = mailbox.to("outage@example.com")
    assert message["Subject"] == "Confirm your email address"


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


def test_healthz_reports_parts(client):
    body = client.get("/healthz").json
    assert body == {"status": "ok", "database": "ok", "redis": "ok", "outbox_pending": 0}


def test_in_process_mode_without_redis(tmp_path, smtp_server):
    """Without REDIS_URL the same jobs run in-process right after the commit."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(env=local_env(tmp_path, SMTP_URL=smtp_server.url))
    with app.app_context():
        upgrade()
    client = app.test_client()
    assert _signup(client, "inproc@example.com").status_code == 303
    [message] = smtp_server.mailbox.to("inproc@example.com")
    assert "/verify/" in body_text(message)
    smtp_server.mailbox.clear()
    with app.app_context():
        assert dispatch_pending() == 0  # delivered already
        db.engine.dispose()
    assert client.get("/healthz").json["redis"].startswith("not configured")
