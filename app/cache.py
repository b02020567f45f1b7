"""Rendered fragments every visitor shares, dropped whenever the catalog's content changes.

A fragment's key carries the catalog version; bumping the version (after a commit that
changed listings, categories or stores) makes every older fragment unreachable at once, and
the cache's timeout bounds how stale counters such as views may get. With Redis, processes
share fragments and the version; without it each process has its own, so another process
may show a change up to FRAGMENT_SECONDS late.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from flask import g
from markupsafe import Markup

from app.extensions import cache
from app.queue import redis_connection

log = logging.getLogger(__name__)

VERSION_KEY = "catalog-version"
FRAGMENT_SECONDS = 60
# Without Redis the cache lives in each process, and so does the version. It is kept out of
# the cache itself: evicting it there would silently drop every fragment at once.
_local = {"version": secrets.token_hex(6)}


def catalog_version() -> str:
    """The current version, read once per request or job (a page may hold several fragments)."""
    if "catalog_version" not in g:
        connection = redis_connection()
        stored = connection.get(VERSION_KEY) if connection is not None else None
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
        connection.set(VERSION_KEY, version)
    g.catalog_version = version
    return version


def fragment(key: str, build: Callable[[], str], timeout: int = FRAGMENT_SECONDS) -> Markup:
    """The HTML ``build()`` renders for ``key``, from the cache while the catalog is unchanged.

    ``build`` must return a rendered template (escaped by Jinja). A cache outage costs speed,
    never the page: the fragment is then rendered every time.
    """
    html, full_key = None, None
    try:
        full_key = f"fragment:{catalog_version()}:{key}"
        html = cache.get(full_key)
    except Exception:  # noqa: BLE001 - an unreachable cache is reported, not raised
        log.warning("fragment cache unavailable", exc_info=True)
    if html is None:
        html = build()
        try:
            if full_key is not None:
                cache.set(full_key, html, timeout=timeout)
        except Exception:  # noqa: BLE001 - as above
            log.warning("fragment cache unavailable", exc_info=True)
    return Markup(html)  # noqa: S704 - rendered template output, escaped when it was built
