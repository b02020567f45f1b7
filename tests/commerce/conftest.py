"""Apps that take payments through the local Stripe and Razorpay fakes (the real libraries),
on the suite's database, with clients, logins and a worker of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker
from sqlalchemy import func, select

from app import create_app
from app.commerce.models import LedgerEntry
from app.extensions import db
from app.queue import QUEUES, get_queue
from app.redis_guard import init_redis_guard
from tests.conftest import login


def _shop(app_env, stripe_fake_server, razorpay_fake_server, provider: str) -> Flask:
    env = {
        **app_env,
        **stripe_fake_server.app_env(),
        **razorpay_fake_server.app_env(),
        "PAYMENT_PROVIDER": provider,
    }
    return create_app(env=env)


@pytest.fixture(scope="session")
def _stripe_shop(app, app_env, stripe_fake_server, razorpay_fake_server) -> Iterator[Flask]:
    shop = _shop(app_env, stripe_fake_server, razorpay_fake_server, "stripe")
    yield shop
    with shop.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def _razorpay_shop(app, app_env, stripe_fake_server, razorpay_fake_server) -> Iterator[Flask]:
    shop = _shop(app_env, stripe_fake_server, razorpay_fake_server, "razorpay")
    yield shop
    with shop.app_context():
        db.engine.dispose()


@pytest.fixture
def shop(_stripe_shop, stripe_fake, razorpay_fake) -> Flask:
    """The app with Stripe taking checkouts (webhooks accepted from Razorpay too)."""
    init_redis_guard(_stripe_shop)
    return _stripe_shop


@pytest.fixture
def rzp_shop(_razorpay_shop, stripe_fake, razorpay_fake) -> Flask:
    init_redis_guard(_razorpay_shop)
    return _razorpay_shop


@pytest.fixture
def shop_client(shop) -> FlaskClient:
    return shop.test_client()


@pytest.fixture
def shop_login(shop_client, make_user) -> Callable[..., object]:
    def as_role(role: str = "customer", **kwargs):
        user = make_user(role, **kwargs)
        assert login(shop_client, user).status_code == 303
        return user

    return as_role


def worker_for(flask_app: Flask) -> Callable[[], int]:
    def run() -> int:
        connection = flask_app.extensions["redis"]
        queues = [get_queue(name, connection) for name in QUEUES]
        waiting = sum(queue.count for queue in queues)
        with flask_app.app_context():
            SimpleWorker(queues, connection=connection).work(burst=True)
        for queue in queues:
            assert not queue.failed_job_registry.get_job_ids(), queue.name
        return waiting

    return run


@pytest.fixture
def run_shop_jobs(shop) -> Callable[[], int]:
    return worker_for(shop)


def assert_ledger_balanced(flask_app: Flask) -> None:
    """Every ledger transaction sums to zero, and so does every currency."""
    with flask_app.app_context():
        unbalanced = db.session.execute(
            select(LedgerEntry.txn, func.sum(LedgerEntry.amount_cents))
            .group_by(LedgerEntry.txn)
            .having(func.sum(LedgerEntry.amount_cents) != 0)
        ).all()
        assert unbalanced == []
        totals = db.session.execute(
            select(LedgerEntry.currency, func.sum(LedgerEntry.amount_cents)).group_by(
                LedgerEntry.currency
            )
        ).all()
        assert all(total == 0 for _, total in totals), totals
