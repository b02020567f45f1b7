"""Redis calls from web requests: through a circuit breaker, so a hung Redis costs a page little.

Every web-side Redis client has short connect and read timeouts (REDIS_TIMEOUT_SECONDS, no
retries: ``Config.redis_client_options``). After REDIS_BREAKER_FAILURES failures in a row the
breaker opens: for REDIS_BREAKER_SECONDS every guarded call fails at once with
``RedisUnavailable`` (a redis ``ConnectionError``, so ``except RedisError`` still catches it) and
pages answer from the database and in-process fallbacks. Then one call is let through as a
probe: its success closes the breaker, its failure opens it again. The state is per app
(``app.extensions["redis_guard"]``) and thread-safe; a forked work horse starts a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.outages import outages

T = TypeVar("T")

# The kind of line the outage log writes for calls skipped while the breaker is open.
SKIPPED = "Redis (circuit open)"


class RedisUnavailable(RedisConnectionError):
    """Redis is being skipped: the circuit breaker is open after repeated failures."""


class Breaker:
    """Closed (calls go through), open (calls are refused) or half-open (one probe call)."""

    def __init__(
        self, failures: int, open_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = failures
        self.open_seconds = open_seconds
        self.clock = clock
        self._failures = 0
        self._open_until: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None

    def allow(self) -> bool:
        """May a call go to Redis now? While half-open only one caller (the probe) may."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._probing or self.clock() < self._open_until:
                return False
            self._probing = True
            return True

    def succeeded(self) -> bool:
        """Record a call that worked; True if calls had been failing (the breaker may have been
        open): Redis is back."""
        with self._lock:
            recovered = self._failures > 0
            self._failures, self._open_until, self._probing = 0, None, False
            return recovered

    def failed(self) -> bool:
        """Record a call Redis failed; True if that opened the breaker."""
        with self._lock:
            self._failures += 1
            reopen = self._probing or self._open_until is not None
            self._probing = False
            if reopen or self._failures >= self.threshold:
                self._open_until = self.clock() + self.open_seconds
                return not reopen
            return False

    def abandoned(self) -> None:
        """The call failed for a reason that is not Redis's: let the next caller probe."""
        with self._lock:
            self._probing = False


def init_redis_guard(app: Flask) -> None:
    settings = app.config["APP_CONFIG"]
    app.extensions["redis_guard"] = Breaker(
        settings.redis_breaker_failures, settings.redis_breaker_seconds
    )


def breaker() -> Breaker:
    return current_app.extensions["redis_guard"]


def guarded(what: str, call: Callable[[], T]) -> T:
    """``call()`` (a Redis round trip or a pipeline) through the app's breaker.

    Raises RedisUnavailable at once while the breaker is open, and re-raises the RedisError a
    failing call raised; both are noted in the outage log under ``what``.
    """
    guard = breaker()
    if not guard.allow():
        error = RedisUnavailable(f"skipping Redis for {what}: it failed repeatedly")
        outages().failed(SKIPPED, error)
        raise error
    try:
        result = call()
    except RedisError as exc:
        guard.failed()
        outages().failed(f"Redis ({what})", exc)
        raise
    except BaseException:
        guard.abandoned()
        raise
    if guard.succeeded():
        outages().recovered("Redis")
    return result


def redis_or(what: str, call: Callable[[], T], default: T) -> T:
    """``guarded(what, call)``, or ``default`` when Redis is unavailable (noted, not raised)."""
    try:
        return guarded(what, call)
    except RedisError:
        return default
