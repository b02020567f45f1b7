"""Command-line tools: create-admin, seed, outbox sweep, worker."""

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.outbox.models import Event
from tests.support.services import WorkerProcess, body_text

FLASK_WORKER = ["-m", "flask", "--app", "wsgi", "worker"]


def test_create_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "boss@example.com", "--password", "a-very-good-one"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
        assert user.is_admin and user.is_verified


def test_create_admin_refuses_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "boss@example.com", "--password", "password"]
    )
    assert result.exit_code != 0 and "too common" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_create_admin_promotes_existing_user(app, make_user):
    user = make_user("customer")
    result = app.test_cli_runner().invoke(
        args=["create-admin", user.email, "--password", "ignored-1234"]
    )
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.get(User, user.id).is_admin


def test_seed_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        count = db.session.scalar(select(db.func.count()).select_from(User))
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0 and "exists: admin@demo.autopilot.monster" in second.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == count
        roles = set(db.session.scalars(select(User.role)))
        assert {"admin", "vendor", "customer"} <= roles


def test_worker_command_runs_jobs(app, app_env, client, mailbox, tmp_path):
    """`flask worker --burst` in a process of its own: a forking RQ worker that stops when the
    queues are empty."""
    from tests.conftest import PASSWORD, csrf_token

    client.post(
        "/signup",
        data={
            "email": "w@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(client, "/signup"),
        },
    )
    worker = WorkerProcess(app_env, tmp_path / "worker.log", [*FLASK_WORKER, "--burst"])
    worker.start(wait=False)
    assert worker.process.wait(timeout=60) == 0, worker.log()
    [message] = mailbox.to("w@example.com")
    assert "/verify/" in body_text(message)
    with app.app_context():
        assert db.session.scalar(select(Event)).delivered_at is not None


def test_worker_command_refuses_unknown_queues(app):
    result = app.test_cli_runner().invoke(args=["worker", "--queues", "default,emails"])
    assert result.exit_code != 0 and "unknown queue(s) emails" in result.output


def test_outbox_sweep_command(app):
    from app.outbox.services import record_event

    with app.app_context():
        record_event("user.verified", user_id=12345)
        db.session.commit()  # committed but never dispatched (no request, no dispatch call)
    result = app.test_cli_runner().invoke(args=["outbox", "sweep"])
    assert result.exit_code == 0 and "dispatched 1 event(s)" in result.output
    with app.app_context():
        assert db.session.scalar(select(Event)).dispatched_at is not None
