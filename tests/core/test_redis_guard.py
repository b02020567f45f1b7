"""The Redis circuit breaker and the outage log: state per app, thread-safe, one line per kind."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from redis.exceptions import RedisError

from app import create_app
from app.extensions import db
from app.outages import OutageLog
from app.redis_guard import Breaker, RedisUnavailable, guarded, redis_or
from tests.support.services import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_repeated_failures_and_lets_one_probe_through():
    clock = Clock()
    breaker = Breaker(failures=3, open_seconds=5, clock=clock)
    assert breaker.allow()
    assert not breaker.failed() and not breaker.failed()  # two failures: still closed
    assert breaker.allow()
    assert breaker.failed()  # the third opens it
    assert breaker.is_open and not breaker.allow()
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()  # half-open: one probe...
    assert not breaker.allow()  # ...and only one
    breaker.failed()  # the probe failed: open again for the full time
    assert not breaker.allow()
    clock.now += 5.1
    assert breaker.allow()
    assert breaker.succeeded()  # the probe worked: closed, and Redis counts as back
    assert not breaker.is_open and breaker.allow() and breaker.allow()
    assert not breaker.succeeded()  # nothing had failed since


def test_a_probe_that_fails_for_another_reason_frees_the_next_probe():
    clock = Clock()
    breaker = Breaker(failures=1, open_seconds=1, clock=clock)
    breaker.failed()
    clock.now += 2
    assert breaker.allow()
    breaker.abandoned()
    assert breaker.allow()


def test_one_probe_among_many_threads():
    clock = Clock()
    breaker = Breaker(failures=1, open_seconds=1, clock=clock)
    breaker.failed()
    clock.now += 2
    start = threading.Barrier(16)
    allowed = []

    def call() -> None:
        start.wait()
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 1


def test_outage_log_writes_one_line_per_kind_per_interval(caplog):
    clock = Clock()
    log = OutageLog(interval=60, logger=logging.getLogger("test.outages"), clock=clock)
    error = ConnectionError("refused")
    with caplog.at_level(logging.INFO, logger="test.outages"):
        for _ in range(100):
            log.failed("Redis (fragment cache)", error)
            log.failed("Redis (page views)", error)
        clock.now += 61
        log.failed("Redis (fragment cache)", error)
        log.recovered("Redis")
        log.failed("Redis (fragment cache)", error)  # a new outage: logged at once
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Redis (fragment cache) unavailable: ConnectionError: refused",
        "Redis (page views) unavailable: ConnectionError: refused",
        "Redis (fragment cache) unavailable: ConnectionError: refused "
        "(99 more since the last report)",
        "Redis (fragment cache) available again",
        "Redis (page views) available again (99 failures since the last report)",
        "Redis (fragment cache) unavailable: ConnectionError: refused",
    ]
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks


@pytest.fixture
def hung_redis_app(app, app_env, tmp_path):
    """An app of its own on the test database, with a private Redis the test can pause."""
    redis = RedisServer()
    redis.start()
    guarded_app = create_app(
        env={
            **app_env,
            "REDIS_URL": redis.url,
            "REDIS_BREAKER_SECONDS": "1",
            "REDIS_TIMEOUT_SECONDS": "0.25",  # the production default
        }
    )
    yield guarded_app, redis
    redis.close()
    with guarded_app.app_context():
        db.engine.dispose()


def test_a_hung_redis_is_skipped_after_two_timeouts(hung_redis_app):
    app, redis = hung_redis_app
    connection = app.extensions["redis"]
    clock = Clock()
    app.extensions["redis_guard"].clock = clock  # the open window ends when the test says
    asked = []

    def get():
        asked.append(1)
        return connection.get("k")

    # A hung Redis costs one socket timeout per call: the web-side client never retries.
    assert connection.get_retry().get_retries() == 0
    with app.test_request_context():
        assert guarded("test", lambda: connection.set("k", "v"))
        redis.pause()
        try:
            for _ in range(2):
                started = time.monotonic()
                with pytest.raises(RedisError) as failure:
                    guarded("test", get)
                assert not isinstance(failure.value, RedisUnavailable)
                assert time.monotonic() - started >= 0.2  # it waited for REDIS_TIMEOUT_SECONDS
            assert len(asked) == 2
            for _ in range(100):
                assert redis_or("test", get, "skipped") == "skipped"
            assert len(asked) == 2  # the breaker is open: Redis not asked at all
        finally:
            redis.resume()
        clock.now += 1.1  # REDIS_BREAKER_SECONDS: one probe goes through and closes the breaker
        assert guarded("test", get) == b"v"
        assert len(asked) == 3
