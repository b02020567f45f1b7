"""Product page views: noted by the page, written in batches, once per visitor per day."""

from __future__ import annotations

import time
from datetime import date

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from app import create_app
from app.accounts.models import User
from app.catalog import pageviews
from app.catalog.models import Product, ProductView
from app.commands import sweep
from app.extensions import db
from app.vendors.models import VendorProfile
from tests.catalog.factories import create_product, slug_of
from tests.conftest import local_env, login, user_maker

TODAY, TOMORROW = date(2026, 11, 25), date(2026, 11, 26)


def _counts(app, product_id: int) -> tuple[int, int, int]:
    """The product's view counter and popularity, and its stored view rows."""
    with app.app_context():
        product = db.session.get(Product, product_id)
        rows = db.session.scalar(
            select(func.count(ProductView.id)).where(ProductView.product_id == product_id)
        )
        return product.view_count, product.popularity, rows


def test_views_count_once_per_visitor_per_day(app, make_user):
    product_id = create_product(app, make_user)
    visitor = pageviews.visitor_key("secret", "anon:1.2.3.4", TODAY)
    assert visitor != pageviews.visitor_key("secret", "anon:1.2.3.4", TOMORROW)
    assert visitor != pageviews.visitor_key("other-secret", "anon:1.2.3.4", TODAY)
    with app.app_context():
        for who, day in [
            (visitor, TODAY),
            (visitor, TODAY),
            ("someone", TODAY),
            (visitor, TOMORROW),
        ]:
            pageviews.note(product_id, who, day)
        assert pageviews.pending() == 4
        assert _counts(app, product_id) == (0, 0, 0)  # noted, not yet written
        assert pageviews.flush() == 3
        assert pageviews.pending() == 0
        pageviews.note(product_id, visitor, TODAY)  # already counted today
        assert pageviews.flush() == 0
    assert _counts(app, product_id) == (3, 3, 3)


def _owner(app, product_id: int) -> User:
    with app.app_context():
        user = db.session.scalar(
            select(User)
            .join(VendorProfile, VendorProfile.user_id == User.id)
            .join(Product, Product.vendor_id == VendorProfile.id)
            .where(Product.id == product_id)
        )
        db.session.expunge(user)
        return user


def test_the_page_notes_views_and_the_worker_sweep_writes_them(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    for agent in ("Firefox", "Firefox", "Googlebot/2.1", "Mozilla/5.0 (compatible; bingbot)"):
        assert client.get(f"/products/{slug}", headers={"User-Agent": agent}).status_code == 200
    with app.app_context():
        assert pageviews.pending() == 2  # one visitor, twice; crawlers are not noted
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert _counts(app, product_id) == (1, 1, 1)
    # Signed in, a shopper counts once whatever the browser; the vendor's own visits never.
    login(client, make_user())
    client.get(f"/products/{slug}")
    client.get(f"/products/{slug}", headers={"User-Agent": "another browser"})
    vendor_client = app.test_client()
    login(vendor_client, _owner(app, product_id))
    vendor_client.get(f"/products/{slug}")
    with app.app_context():
        assert pageviews.pending() == 2
        sweep()
    assert _counts(app, product_id) == (2, 2, 2)


def test_a_replayed_batch_counts_nothing_twice(app, make_user):
    """The worker commits a batch and only then trims it from Redis: a crash in between
    replays it, and the replay must not count again."""
    product_id = create_product(app, make_user)
    batch = [(product_id, TODAY, "a"), (product_id, TODAY, "b"), (product_id, TODAY, "a")]
    with app.app_context():
        assert pageviews.write(batch) == 2
        assert pageviews.write(batch) == 0
        assert pageviews.write([(product_id, TODAY, "c"), (999_999, TODAY, "a")]) == 1
    assert _counts(app, product_id) == (3, 3, 3)  # a deleted product's views are dropped


def test_malformed_entries_are_dropped_and_the_rest_written(app, make_user):
    product_id = create_product(app, make_user)
    connection = app.extensions["redis"]
    connection.rpush(pageviews.REDIS_KEY, b"\xff\xfe", b"nonsense", b"1:not-a-day:x")
    connection.rpush(pageviews.REDIS_KEY, f"{product_id}:{TODAY.isoformat()}:v1")
    with app.app_context():
        assert pageviews.flush() == 1
    assert connection.llen(pageviews.REDIS_KEY) == 0
    assert _counts(app, product_id) == (1, 1, 1)


def test_one_flush_at_a_time(app, make_user):
    """Two flushers would trim the same head of the list twice and drop views."""
    product_id = create_product(app, make_user)
    connection = app.extensions["redis"]
    with app.app_context():
        pageviews.note(product_id, "v", TODAY)
        lock = connection.lock(pageviews.LOCK_KEY, timeout=30)
        assert lock.acquire(blocking=False)
        assert pageviews.flush() == 0
        assert pageviews.pending() == 1
        lock.release()
        assert pageviews.flush() == 1


# --- without Redis: each process buffers its own views --------------------------------------


@pytest.fixture
def make_local_app(tmp_path):
    """An app without Redis (each process buffers its views) on its own SQLite file."""
    made = []

    def make(flush_seconds: int = 3600):
        application = create_app(
            env=local_env(
                tmp_path,
                VIEW_FLUSH_SIZE="3",
                VIEW_FLUSH_SECONDS=str(flush_seconds),
                LOG_LEVEL="ERROR",
            )
        )
        with application.app_context():
            upgrade()
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def local_app(make_local_app):
    return make_local_app()


def _eventually(check, timeout: float = 10.0) -> None:
    """Wait for the writer thread: ``check()`` must come true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the page view writer did not write in time"
        time.sleep(0.02)


def _local_product(app) -> int:
    return create_product(app, user_maker(app))


def test_without_redis_a_full_buffer_wakes_the_writer(local_app):
    product_id = _local_product(local_app)
    slug = slug_of(local_app, product_id)
    client = local_app.test_client()
    for address in ("10.0.0.1", "10.0.0.2"):
        client.get(f"/products/{slug}", environ_base={"REMOTE_ADDR": address})
    with local_app.app_context():
        assert pageviews.pending() == 2
    assert _counts(local_app, product_id) == (0, 0, 0)  # the writer waits for a full buffer
    client.get(f"/products/{slug}", environ_base={"REMOTE_ADDR": "10.0.0.3"})  # fills it
    _eventually(lambda: _counts(local_app, product_id) == (3, 3, 3))
    client.get(f"/products/{slug}", environ_base={"REMOTE_ADDR": "10.0.0.4"})
    with local_app.app_context():
        assert pageviews.pending() == 1
    pageviews._flush_at_exit()  # what the interpreter runs when the process ends
    assert _counts(local_app, product_id) == (4, 4, 4)


def test_without_redis_the_writer_writes_every_few_seconds(make_local_app):
    app = make_local_app(flush_seconds=1)
    product_id = _local_product(app)
    app.test_client().get(f"/products/{slug_of(app, product_id)}")
    _eventually(lambda: _counts(app, product_id) == (1, 1, 1), timeout=5)


def test_without_redis_a_failed_write_keeps_the_views(local_app):
    product_id = _local_product(local_app)
    with local_app.app_context():
        pageviews.note(product_id, "a", TODAY)
        pageviews.note(product_id, "b", TODAY)
        db.session.execute(text("ALTER TABLE product_views RENAME TO product_views_away"))
        db.session.commit()
        assert pageviews.flush() == 0  # the write fails: nothing is lost
        assert pageviews.pending() == 2
        db.session.execute(text("ALTER TABLE product_views_away RENAME TO product_views"))
        db.session.commit()
        assert pageviews.flush() == 2
    assert _counts(local_app, product_id) == (2, 2, 2)
