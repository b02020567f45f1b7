"""Fixtures: the app on a migrated database, real Redis, RQ workers, SMTP, users and clients."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker
from sqlalchemy import text

from app import create_app
from app.accounts.models import User
from app.accounts.services import hash_password
from app.extensions import db, limiter
from app.outages import init_outages
from app.queue import QUEUES, get_queue
from app.redis_guard import init_redis_guard
from app.timeutil import utcnow
from app.vendors.models import VendorProfile
from tests.support.services import ClamdServer, MotoServer, RedisServer, SmtpServer

# The payment providers' fakes: stripe_fake, razorpay_fake (tests/support/payment_fakes.py).
pytest_plugins = ["tests.support.payment_fakes"]

PASSWORD = "correct-horse-battery-9"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    """An S3-compatible server on loopback, with AWS_* set so that boto3's own chain finds
    credentials and a region while it runs."""
    server = MotoServer()
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in MotoServer.ENV.items():
            patch.setenv(name, value)
        yield server
    server.stop()


def start_clamd(**kwargs) -> ClamdServer:
    """A started private clamd (see ClamdServer); skips the test when clamd is missing."""
    try:
        server = ClamdServer(**kwargs)
    except FileNotFoundError:
        pytest.skip("clamd is not installed (make test installs the clamav-daemon package)")
    server.start()
    return server


@pytest.fixture(scope="session")
def clamd_server() -> Iterator[ClamdServer]:
    server = start_clamd()
    yield server
    server.close()


# A Fernet key for tests only (Fernet.generate_key() once).
PAYOUT_TEST_KEY = "yxBYXWgKFBTy1SdxZeq3j7oe3zKOmyB1hVqoPhWwmsI="


def _database_url(tmp: str) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/test.db"


def local_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Settings for an app of its own without Redis (jobs in-process, caches per process), on
    an SQLite file under ``tmp_path``."""
    return {
        "APP_ENV": "test",
        "SECRET_KEY": "k" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def _reset_schema(app: Flask) -> None:
    """Start from nothing, then build the schema by running the migrations."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def app_env(
    redis_server: RedisServer, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The test app's settings: other apps and worker processes on the same database start
    from a copy."""
    tmp = str(tmp_path_factory.mktemp("app"))
    return {
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": _database_url(tmp),
        "REDIS_URL": redis_server.url,
        "SMTP_URL": smtp_server.url,
        "STORAGE_DIR": f"{tmp}/storage",
        "SEARCH_INDEX_DIR": f"{tmp}/search",
        "BASE_URL": "http://localhost",
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOG_LEVEL": "WARNING",
        # Tests stop and start Redis: a short cooldown lets them go on soon after. The machine
        # running them may be busy: a slow answer is not a hung Redis (tests of a hung Redis
        # set the production timeout).
        "REDIS_BREAKER_SECONDS": "0.5",
        "REDIS_TIMEOUT_SECONDS": "2",
        # The sweep looks at a dispatched event's jobs at once; a failing job is retried soon
        # (the intervals are the enqueuing app's, kept with the job).
        "OUTBOX_GRACE_SECONDS": "0",
        "JOB_RETRY_INTERVALS": "1,1",
        # Vendors' bank details are encrypted with it (tests/vendors read them back).
        "PAYOUT_ENCRYPTION_KEY": PAYOUT_TEST_KEY,
    }


@pytest.fixture(scope="session")
def app(app_env: dict[str, str]) -> Iterator[Flask]:
    application = create_app(env=app_env)
    _reset_schema(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with empty tables, an empty Redis and an empty mailbox."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    redis_server = request.getfixturevalue("redis_server")
    smtp_server = request.getfixturevalue("smtp_server")
    yield
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
        limiter.reset()
    if redis_server.process is None:
        redis_server.start()
    app.extensions["redis"].flushall()
    # A test that took Redis away leaves no open breaker or pending outage report behind.
    init_redis_guard(app)
    init_outages(app)
    smtp_server.mailbox.clear()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def mailbox(smtp_server: SmtpServer):
    return smtp_server.mailbox


@pytest.fixture
def run_jobs(app: Flask) -> Callable[[], int]:
    """Run every queued job in a real RQ worker (burst mode); return how many ran."""

    def run() -> int:
        connection = app.extensions["redis"]
        queues = [get_queue(name, connection) for name in QUEUES]
        waiting = sum(queue.count for queue in queues)
        with app.app_context():
            SimpleWorker(queues, connection=connection).work(burst=True)
        for queue in queues:
            # A failing job is retried later (scheduled) or lands in the failed registry.
            stuck = (
                queue.failed_job_registry.get_job_ids() + queue.scheduled_job_registry.get_job_ids()
            )
            assert not stuck, f"jobs failed on {queue.name}: {stuck}"
        return waiting

    return run


@functools.cache
def _hash(password: str) -> str:
    # scrypt is slow by design; tests hash the shared password once.
    return hash_password(password)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    return user_maker(app)


def user_maker(app: Flask) -> Callable[..., User]:
    """Create users straight in ``app``'s database (no events); returned detached."""
    counter = {"n": 0}

    def make(
        role: str = "customer",
        verified: bool = True,
        email: str | None = None,
        password: str = PASSWORD,
        store: bool = True,
        **fields,
    ) -> User:
        counter["n"] += 1
        with app.app_context():
            user = User(
                email=email or f"{role}{counter['n']}@example.com",
                password_hash=_hash(password),
                role=role,
                email_verified_at=utcnow() if verified else None,
                **fields,
            )
            db.session.add(user)
            if role == "vendor" and store:
                # A vendor account comes with its approved store, as after onboarding.
                db.session.flush()
                db.session.add(
                    VendorProfile(
                        user_id=user.id,
                        store_name=f"Store {counter['n']}",
                        slug=f"store-{user.id}",
                        support_email=user.email,
                        country="US",
                        status="approved",
                    )
                )
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a browser would send, read from a real page."""
    body = client.get(path).get_data(as_text=True)
    match = _CSRF.search(body)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, user: User, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def login_as(client: FlaskClient, make_user) -> Callable[[str], User]:
    def as_role(role: str, **kwargs) -> User:
        user = make_user(role, **kwargs)
        response = login(client, user)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return user

    return as_role
