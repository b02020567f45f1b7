"""A hung Redis (SIGSTOP) under gunicorn: pages answer from the database within a second, rate
limits still hold (counted in memory), and the log gets a line per kind of failure, not a
traceback per request."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from app.extensions import db
from app.search import services as search
from tests.catalog.factories import create_product, slug_of
from tests.support.services import RedisServer, WorkerProcess, free_port, wait_for_port

pytestmark = pytest.mark.faults

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _get(opener, url: str) -> tuple[int, float, str]:
    started = time.monotonic()
    try:
        with opener.open(url, timeout=30) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read().decode(), error.code
    return status, time.monotonic() - started, body


def _post(opener, url: str, data: dict[str, str]) -> int:
    try:
        with opener.open(url, urllib.parse.urlencode(data).encode(), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def served(app, app_env, make_user, tmp_path):
    """gunicorn (one sync worker) on the test database with a private Redis for queues, the
    fragment cache, page views and rate limits."""
    slug = slug_of(app, create_product(app, make_user, "Hung Redis"))
    with app.app_context():
        search.reindex_all()  # product pages show similar products from the index
    redis = RedisServer()
    redis.start()
    port = free_port()
    env = {
        **app_env,
        "REDIS_URL": redis.url,
        "RATELIMIT_STORAGE_URI": redis.url,
        "REDIS_TIMEOUT_SECONDS": "0.25",  # the production default
    }
    server = WorkerProcess(
        env,
        tmp_path / "gunicorn.log",
        ["-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
    )
    server.start(wait=False)
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}", slug, redis, server
    finally:
        server.kill()
        redis.close()
        with app.app_context():
            db.session.remove()


def test_pages_answer_within_a_second_while_redis_hangs(served):
    base, slug, redis, server = served
    opener = urllib.request.build_opener()
    pages = ["/", "/categories/marketing", f"/products/{slug}"]
    for page in pages:
        assert _get(opener, base + page)[0] == 200  # Redis up: warm
    views_before = redis_client(redis).llen("product-views")

    redis.pause()
    try:
        timings = []
        for _ in range(3):
            for page in pages:
                status, seconds, body = _get(opener, base + page)
                assert status == 200, body[:300]
                timings.append((page, round(seconds, 3)))
        # The first page pays the timeouts that open the breaker (REDIS_BREAKER_FAILURES x
        # REDIS_TIMEOUT_SECONDS, 0.5 s); after it, at most one probe's timeout now and then.
        # Without the breaker every page would wait out several timeouts.
        assert timings[0][1] < 1.5 and all(t < 1.0 for _, t in timings[1:]), timings
        assert "Hung Redis" in _get(opener, base + f"/products/{slug}")[2]

        # Rate limits fall back to memory: the same limits, counted in the process.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = _CSRF.search(_get(browser, base + "/login")[2]).group(1)
        attempt = {
            "email": "nobody@example.com",
            "password": "wrong-password-1",
            "csrf_token": token,
        }
        statuses = [_post(browser, base + "/login", attempt) for _ in range(6)]
        assert statuses == [422] * 5 + [429], statuses
    finally:
        redis.resume()

    time.sleep(0.6)  # REDIS_BREAKER_SECONDS (0.5 in tests): Redis is asked again
    assert _get(opener, base + f"/products/{slug}")[0] == 200
    assert redis_client(redis).llen("product-views") > views_before
    log = server.log()
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert "Traceback" not in log
    assert 1 <= len(warnings) <= 8, warnings  # one per kind of failure, not one per call


def redis_client(redis: RedisServer):
    from redis import Redis

    return Redis.from_url(redis.url)
