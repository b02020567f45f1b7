"""While a dependency is down: one warning line per kind of failure per interval, with a count.

A hung or stopped Redis fails every request, often several times per request; a warning with a
traceback each time buried everything else in the log (208k lines in 13 s of load). Each kind
of failure ("Redis (fragment cache)", "sweep: page views") is logged when it first happens and
then at most once per OUTAGE_LOG_SECONDS, saying how many were not logged in between; when the
dependency answers again one line says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

log = logging.getLogger(__name__)


@dataclass
class _Kind:
    logged_at: float
    unlogged: int = 0


class OutageLog:
    """Thread-safe; one per app (``app.extensions["outages"]``)."""

    def __init__(
        self,
        interval: float,
        logger: logging.Logger = log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.logger = logger
        self.clock = clock
        self._kinds: dict[str, _Kind] = {}
        self._lock = threading.Lock()

    def failed(self, kind: str, error: BaseException, traceback: bool = False) -> None:
        """Note one failure of ``kind``; log it unless one was logged in the last interval.

        ``traceback`` is for failures nobody expected (a bug): the logged line carries it.
        """
        now = self.clock()
        with self._lock:
            seen = self._kinds.get(kind)
            if seen is not None and now - seen.logged_at < self.interval:
                seen.unlogged += 1
                return
            unlogged = seen.unlogged if seen is not None else 0
            self._kinds[kind] = _Kind(logged_at=now)
        more = f" ({unlogged} more since the last report)" if unlogged else ""
        self.logger.warning(
            "%s unavailable: %s: %s%s",
            kind,
            type(error).__name__,
            error,
            more,
            exc_info=error if traceback else None,
        )

    def recovered(self, prefix: str = "") -> None:
        """The dependency answers again: say so once for each kind starting with ``prefix``."""
        with self._lock:
            gone = {k: v for k, v in self._kinds.items() if k.startswith(prefix)}
            for kind in gone:
                del self._kinds[kind]
        for kind, seen in sorted(gone.items()):
            more = f" ({seen.unlogged} failures since the last report)" if seen.unlogged else ""
            self.logger.info("%s available again%s", kind, more)

    def is_failing(self, kind: str) -> bool:
        with self._lock:
            return kind in self._kinds


def init_outages(app: Flask) -> None:
    app.extensions["outages"] = OutageLog(app.config["APP_CONFIG"].outage_log_seconds)


def outages() -> OutageLog:
    """The current app's outage log."""
    return current_app.extensions["outages"]
