"""Rendered fragments every visitor shares, dropped whenever the catalog's content changes.

A fragment's key carries the catalog version; bumping the version (after a commit that
changed listings, categories or stores) makes every older fragment unreachable at once, and
the cache's timeout bounds how stale counters such as views may get. With Redis, processes
share fragments and the version; without it each process has its own, so another process
may show a change up to FRAGMENT_SECONDS late.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import TLRUCache
from flask import Flask, g
from flask_caching.backends.base import BaseCache
from markupsafe import Markup
from redis.exceptions import RedisError

from app.extensions import cache
from app.queue import redis_connection
from app.redis_guard import guarded, redis_or

log = logging.getLogger(__name__)
T = TypeVar("T")

VERSION_KEY = "catalog-version"
FRAGMENT_SECONDS = 60
# Without Redis the cache lives in each process, and so does the version. It is kept out of
# the cache itself: evicting it there would silently drop every fragment at once.
_local = {"version": secrets.token_hex(6)}


class LocalCache(BaseCache):
    """The fragment cache of one process (CACHE_TYPE without Redis): cachetools' TLRU cache.

    Each entry expires at its own time, and when the cache is full the least recently used
    entry goes, in constant time. (flask-caching's SimpleCache scans and sorts every entry
    on each set once it is full: 0.6 ms per page at 3,000 fragments.) Values are kept as
    they are, not pickled: fragments are immutable strings.
    """

    def __init__(
        self,
        threshold: int = 500,
        default_timeout: int = 300,
        timer: Callable[[], float] = time.monotonic,
        **options: Any,
    ):
        super().__init__(default_timeout=default_timeout, **options)
        self._entries: TLRUCache[str, tuple[float, Any]] = TLRUCache(
            maxsize=threshold, ttu=lambda _key, entry, now: now + entry[0], timer=timer
        )
        self._lock = threading.RLock()

    @classmethod
    def factory(
        cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> LocalCache:
        return cls(*args, threshold=config["CACHE_THRESHOLD"], **kwargs)

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        seconds = self._normalize_timeout(timeout)
        with self._lock:
            self._entries[key] = (seconds if seconds > 0 else math.inf, value)
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        with self._lock:
            if key in self._entries:
                return False
            return self.set(key, value, timeout)

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def has(self, key: str) -> bool:
        with self._lock:
            return key in self._entries

    def clear(self) -> bool:
        with self._lock:
            self._entries.clear()
        return True


def catalog_version() -> str:
    """The current version, read once per request or job (a page may hold several fragments)."""
    if "catalog_version" not in g:
        connection = redis_connection()
        stored = (
            guarded("catalog version", lambda: connection.get(VERSION_KEY))
            if connection is not None
            else None
        )
        if connection is None:
            g.catalog_version = _local["version"]
        elif stored is None:
            return bump_catalog_version()
        else:
            g.catalog_version = stored.decode()
    return g.catalog_version


def bump_catalog_version() -> str:
    version = secrets.token_hex(6)
    connection = redis_connection()
    if connection is None:
        _local["version"] = version
    else:
        guarded("catalog version", lambda: connection.set(VERSION_KEY, version))
    g.catalog_version = version
    return version


def fragment(key: str, build: Callable[[], str], timeout: int = FRAGMENT_SECONDS) -> Markup:
    """The HTML ``build()`` renders for ``key``, from the cache while the catalog is unchanged.

    ``build`` must return a rendered template (escaped by Jinja). A cache outage costs speed,
    never the page: the fragment is then rendered every time.
    """
    html, full_key = None, None
    with contextlib.suppress(RedisError):  # noted by the outage log (app/redis_guard.py)
        full_key = f"fragment:{catalog_version()}:{key}"
    if full_key is not None:
        html = redis_or("fragment cache", lambda: cache.get(full_key), None)
    if html is None:
        html = build()
        if full_key is not None:
            redis_or("fragment cache", lambda: cache.set(full_key, html, timeout=timeout), False)
    return Markup(html)  # noqa: S704 - rendered template output, escaped when it was built


# Small immutable facts many pages repeat (a store's name, a category's trail), per process and
# catalog version: a dict lookup, not a cache round trip, even with Redis. Like fragments they
# live FRAGMENT_SECONDS at most (without Redis another process's change bumps no version here).
_facts = LocalCache(threshold=4096, default_timeout=FRAGMENT_SECONDS)


def catalog_fact(key: str, build: Callable[[], T]) -> T:
    """``build()``'s value (immutable, small) while the catalog version stands."""
    try:
        full_key = f"{catalog_version()}:{key}"
    except RedisError:  # no version to key on (noted by the outage log): build every time
        return build()
    value = _facts.get(full_key)
    if value is None:
        value = build()
        _facts.set(full_key, value)
    return value
