"""The one cache: page fragments and page data every visitor shares, under the catalog version.

A key carries the catalog version; bumping the version (after a commit that changed listings,
categories or stores) makes every older entry unreachable at once, and one timeout,
FRAGMENT_SECONDS, bounds how stale counters such as views may get. With Redis, processes
share entries and the version; without it each app keeps its own in-process cache and
version, so another process may show a change up to FRAGMENT_SECONDS late. The state lives in
``app.extensions["fragments"]``: two apps in one process (tests) share nothing.
"""

from __future__ import annotations

import logging
import pickle
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import TTLCache
from flask import Flask, current_app, g
from redis import Redis

from app.queue import redis_connection
from app.redis_guard import redis_or

log = logging.getLogger(__name__)
T = TypeVar("T")

FRAGMENT_SECONDS = 60
LOCAL_SIZE = 3000  # in-process entries at most (least recently used out)
VERSION_KEY = "catalog-version"
# Entries are pickled page types (app/catalog/pages.py): bump the number when one of them
# changes shape, so processes of the new release never read the old release's entries.
PREFIX = "fragment:1"
_MISSING = object()


class FragmentCache:
    """Values built once per catalog version: in Redis when the app has it, else in-process.

    Values must be immutable (strings, rendered Markup, frozen dataclasses, tuples) and, for
    Redis, picklable. Thread-safe: the in-process cache and version sit behind one lock.
    """

    def __init__(
        self,
        seconds: int = FRAGMENT_SECONDS,
        size: int = LOCAL_SIZE,
        timer: Callable[[], float] = time.monotonic,
    ):
        self.seconds = seconds
        self._local: TTLCache[str, Any] = TTLCache(maxsize=size, ttl=seconds, timer=timer)
        self._local_version = secrets.token_hex(6)
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        """``build()``'s value for ``key`` while the catalog version stands.

        A Redis outage costs speed, never the page: the value is then built every time.
        """
        redis = redis_connection()
        full_key = f"{PREFIX}:{self.version()}:{key}"
        if redis is None:
            with self._lock:
                value = self._local.get(full_key, _MISSING)
            if value is _MISSING:
                value = build()
                with self._lock:
                    self._local[full_key] = value
            return value
        value = _redis_get(redis, full_key)
        if value is _MISSING:
            value = build()
            _redis_set(redis, full_key, value, self.seconds)
        return value

    def version(self) -> str:
        """The current version, read once per app context (a page may hold several entries)."""
        if "catalog_version" not in g:
            redis = redis_connection()
            if redis is None:
                with self._lock:
                    g.catalog_version = self._local_version
            else:
                g.catalog_version = _redis_version(redis)
        return g.catalog_version

    def bump(self) -> str:
        """A new version: every entry built before is unreachable from now on."""
        version = secrets.token_hex(6)
        redis = redis_connection()
        if redis is None:
            with self._lock:
                self._local_version = version
                self._local.clear()  # unreachable anyway; free the memory now
        else:
            _redis_set_version(redis, version)
        g.catalog_version = version
        return version


# --- the Redis calls: through the app's circuit breaker (app/redis_guard.py), which notes an
# outage once per interval in the outage log; a failure costs the cache, never the page --------


def _redis_get(redis: Redis, key: str) -> Any:
    data = redis_or("fragment cache", lambda: redis.get(key), None)
    # S301: the app's own Redis, which RQ already trusts with pickled jobs.
    return _MISSING if data is None else pickle.loads(data)  # noqa: S301


def _redis_set(redis: Redis, key: str, value: Any, seconds: int) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    redis_or("fragment cache", lambda: redis.set(key, data, ex=seconds), None)


def _redis_version(redis: Redis) -> str:
    """The shared version, created if none is set; a random one (no entry reachable) when
    Redis is unavailable."""

    def read() -> bytes | None:
        stored = redis.get(VERSION_KEY)
        if stored is None:
            redis.set(VERSION_KEY, secrets.token_hex(6), nx=True)
            stored = redis.get(VERSION_KEY)
        return stored

    stored = redis_or("catalog version", read, None)
    return stored.decode() if stored is not None else "unavailable-" + secrets.token_hex(6)


def _redis_set_version(redis: Redis, version: str) -> None:
    # Unavailable: entries expire by their timeout instead.
    redis_or("catalog version", lambda: redis.set(VERSION_KEY, version), None)


# --- the app's cache -------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    app.extensions["fragments"] = FragmentCache()


def cached(key: str, build: Callable[[], T]) -> T:
    """``build()``'s value for ``key`` from the current app's cache (see FragmentCache.get)."""
    return current_app.extensions["fragments"].get(key, build)


def catalog_version() -> str:
    return current_app.extensions["fragments"].version()


def bump_catalog_version() -> str:
    return current_app.extensions["fragments"].bump()
