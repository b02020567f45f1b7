"""Product page views: one per visitor per day, counted without a database write per page.

Who counts (``visitor_identity``, ``address_of``): a signed-in shopper once per account, an
anonymous visitor once per network address (an IPv4 address, an IPv6 /64), whatever browser
or User-Agent they send; and one address adds at most VIEWS_PER_ADDRESS views to a product a
day, however many accounts sign in from it. Both are keyed daily hashes, never the IP.

A page that wrote its own view would make every product page a write: under load the pages
queue for SQLite's single writer or for the product's row lock in PostgreSQL. Instead the
page *notes* the view and ``flush()`` writes a batch: one INSERT ... ON CONFLICT DO NOTHING
for the per-visitor-per-day rows, then one counter UPDATE per product for the rows that were
new. Replaying a batch therefore counts nothing twice: the unique constraint drops rows
already stored, and the counters move only by the rows inserted, in the same transaction.

- With Redis the noted views wait in one Redis list that every process shares, and the
  worker's sweep flushes it (``flask worker``, every OUTBOX_SWEEP_SECONDS). A batch leaves
  the list only after its commit, so a crash in between replays it harmlessly.
- Without Redis each process keeps its own list, and a writer thread in that process writes
  it every VIEW_FLUSH_SECONDS, or as soon as it holds VIEW_FLUSH_SIZE views; what is left is
  written when the process exits. A page never waits for a batch (one takes tens of
  milliseconds), and a process that is killed loses its unwritten views.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import threading
import weakref
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from app.catalog.models import Product, ProductView
from app.extensions import db
from app.queue import redis_connection
from app.redis_guard import redis_or

log = logging.getLogger(__name__)

REDIS_KEY = "product-views"
LOCK_KEY = "product-views:flush"
BATCH = 1000
# Without Redis a process whose database keeps failing holds at most this many views.
LOCAL_LIMIT = 50_000

# One address (a household, an office, a phone network's NAT, or one person with many
# accounts) adds at most this many views to one product per day.
VIEWS_PER_ADDRESS = 3

# product id, day, visitor key, address key ("" or absent: the view is its own address),
# referrer host ("" or absent: none)
View = tuple[int, date, str, str] | tuple[int, date, str, str, str]


def visitor_key(secret: str, identity: str, day: date) -> str:
    """A keyed daily hash of who is looking: counts unique visitors without storing an IP."""
    message = f"{day.isoformat()}|{identity}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def address_of(remote_addr: str | None) -> str:
    """The network a request came from: the IPv4 address, or the IPv6 /64 (one subscriber
    line gets a whole /64, so single IPv6 addresses cost nothing to change)."""
    try:
        ip = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def visitor_identity(user_id: int | None, address: str) -> str:
    """Who a view is from: the account when signed in, else the network address alone (not the
    User-Agent, which a visitor can change on every request)."""
    return f"user:{user_id}" if user_id is not None else f"anon:{address}"


def referrer_host(referrer: str | None, own_host: str) -> str:
    """The host name a view was referred from, lower case and without its port; "" for none,
    for this site itself or for anything that is not an http(s) URL."""
    try:
        parts = urlsplit(referrer or "")
        host = (parts.hostname or "") if parts.scheme in ("http", "https") else ""
    except ValueError:
        return ""
    own = (own_host or "").split(":", 1)[0].lower()
    return "" if host == own else host[:100]


def note(product_id: int, visitor: str, day: date, address: str = "", referrer: str = "") -> None:
    """Note one view for the next flush; ``address`` is the keyed hash of its network ("" for
    none), ``referrer`` the referring host ("" for none). Never raises: a lost view must not
    cost the page."""
    referrer = referrer.replace(":", "")[:100]
    connection = redis_connection()
    if connection is not None:
        # Lost while Redis is unavailable (noted once per interval by the outage log).
        entry = f"{product_id}:{day.isoformat()}:{visitor}:{address}:{referrer}"
        redis_or("page views", lambda: connection.rpush(REDIS_KEY, entry), None)
        return
    _local_buffer().add((product_id, day, visitor, address, referrer))


def flush() -> int:
    """Write every noted view; return how many were new (not yet counted for that day)."""
    connection = redis_connection()
    if connection is None:
        return _local_buffer().flush()
    lock = connection.lock(LOCK_KEY, timeout=300)
    if not lock.acquire(blocking=False):
        return 0  # another process is flushing; trimming twice would drop views
    try:
        added = 0
        while raw := connection.lrange(REDIS_KEY, 0, BATCH - 1):
            try:
                added += write(_decoded(raw))
            except SQLAlchemyError:
                db.session.rollback()
                raise  # the batch stays in the list for the next sweep
            connection.ltrim(REDIS_KEY, len(raw), -1)
        return added
    finally:
        lock.release()


def pending() -> int:
    """How many views wait to be written (this process's, without Redis)."""
    connection = redis_connection()
    if connection is None:
        return len(_local_buffer().views)
    return int(connection.llen(REDIS_KEY))


def write(views: list[View] | list[tuple[int, date, str]]) -> int:
    """Store a batch and move the counters by its new views; commit; return the new count.

    A view counts if its visitor has none for that product and day yet, and its address has
    added fewer than VIEWS_PER_ADDRESS. Views without an address count as their own address.
    """
    batch: dict[tuple[int, date, str], str] = {}
    referrers: dict[tuple[int, date, str], str] = {}
    for product_id, day, visitor, *rest in views:
        batch.setdefault((product_id, day, visitor), (rest[0] if rest else "") or visitor)
        referrers.setdefault((product_id, day, visitor), rest[1] if len(rest) > 1 else "")
    if not batch:
        return 0
    ids = {product_id for product_id, _, _ in batch}
    existing = set(db.session.scalars(select(Product.id).where(Product.id.in_(ids))))
    seen, per_address = _stored(batch, existing)
    rows = []
    for (product_id, day, visitor), address in batch.items():
        if product_id not in existing:
            continue  # a product deleted since: its views go with it
        if (product_id, day, visitor) in seen or per_address[product_id, day, address] >= (
            VIEWS_PER_ADDRESS
        ):
            continue
        seen.add((product_id, day, visitor))
        per_address[product_id, day, address] += 1
        rows.append(
            {
                "product_id": product_id,
                "day": day,
                "visitor": visitor,
                "address": address,
                "referrer": referrers[product_id, day, visitor],
            }
        )
    connection = db.session.connection()
    inserted = (
        connection.execute(_insert(connection.dialect.name), rows).scalars().all() if rows else []
    )
    counts = Counter(inserted)
    if counts:
        connection.execute(
            _bump_counters(), [{"pid": pid, "n": n} for pid, n in sorted(counts.items())]
        )
    db.session.commit()
    return len(inserted)


def _stored(
    batch: dict[tuple[int, date, str], str], products: set[int]
) -> tuple[set[tuple[int, date, str]], Counter[tuple[int, date, str]]]:
    """The batch's visitors already counted, and how many views each of its addresses added,
    for its products and days."""
    if not products:
        return set(), Counter()
    table = ProductView.__table__
    days = {day for _, day, _ in batch}
    visitors = {visitor for _, _, visitor in batch}
    addresses = set(batch.values())
    rows = db.session.execute(
        select(table.c.product_id, table.c.day, table.c.visitor, table.c.address).where(
            table.c.product_id.in_(products),
            table.c.day.in_(days),
            table.c.visitor.in_(visitors) | table.c.address.in_(addresses),
        )
    ).all()
    seen = {(row.product_id, row.day, row.visitor) for row in rows}
    per_address = Counter((row.product_id, row.day, row.address or row.visitor) for row in rows)
    return seen, per_address


@functools.cache
def _insert(dialect: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        insert(ProductView.__table__)
        .on_conflict_do_nothing(index_elements=["product_id", "day", "visitor"])
        .returning(ProductView.__table__.c.product_id)
    )


@functools.cache
def _bump_counters() -> Any:
    table = Product.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("pid"))
        .values(
            view_count=table.c.view_count + bindparam("n"),
            popularity=table.c.popularity + bindparam("n"),
        )
    )


def _decoded(raw: list[bytes]) -> list[View]:
    views = []
    for item in raw:
        try:
            # Entries noted before addresses (referrers) were kept have three (four) parts.
            product_id, day, visitor, *rest = item.decode().split(":", 4)
            address = rest[0] if rest else ""
            referrer = rest[1] if len(rest) > 1 else ""
            views.append(
                (int(product_id), date.fromisoformat(day), visitor[:32], address[:32], referrer)
            )
        except (UnicodeDecodeError, ValueError):
            log.warning("dropping a malformed page view entry: %r", item[:80])
    return views


# --- without Redis: a buffer per process ----------------------------------------------------


class _LocalBuffer:
    def __init__(self, app: Flask) -> None:
        settings = app.config["APP_CONFIG"]
        self.app = app
        self.size = max(1, settings.view_flush_size)
        self.seconds = max(0.05, settings.view_flush_seconds)
        self.views: list[View] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.writer: threading.Thread | None = None
        self.writer_pid = 0
        _buffers.add(self)

    def add(self, view: View) -> None:
        with self.lock:
            self.views.append(view)
            full = len(self.views) >= self.size
            if self.writer is None or self.writer_pid != os.getpid() or not self.writer.is_alive():
                # Started by the first view, so in the process that serves (after a fork).
                self.writer_pid = os.getpid()
                self.writer = threading.Thread(
                    target=_write_behind, args=(weakref.ref(self),), name="pageviews", daemon=True
                )
                self.writer.start()
        if full:
            self.wake.set()

    def flush(self) -> int:
        with self.lock:
            views, self.views = self.views, []
        if not views:
            return 0
        try:
            return write(views)
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("page views not written; keeping them for the next try", exc_info=True)
            with self.lock:
                self.views[:0] = views
                del self.views[:-LOCAL_LIMIT]
            return 0


def _write_behind(ref: weakref.ref[_LocalBuffer]) -> None:
    """The process's writer: every VIEW_FLUSH_SECONDS, or sooner when the buffer is full.
    Holds the buffer only while writing, so an app that is gone (tests) ends the thread."""
    while (buffer := ref()) is not None:
        wake, seconds = buffer.wake, buffer.seconds
        del buffer
        wake.wait(seconds)
        wake.clear()
        if (buffer := ref()) is None:
            return
        try:
            with buffer.app.app_context():
                buffer.flush()
        except Exception:  # noqa: BLE001 - the writer must outlive any one failure
            log.exception("page view writer failed")
        del buffer


_buffers: weakref.WeakSet[_LocalBuffer] = weakref.WeakSet()
_create_lock = threading.Lock()


def _local_buffer() -> _LocalBuffer:
    """This app's buffer in this process, made on first use."""
    app = current_app._get_current_object()
    buffer = app.extensions.get("pageviews")
    if buffer is None:
        with _create_lock:
            buffer = app.extensions.get("pageviews")
            if buffer is None:
                buffer = app.extensions["pageviews"] = _LocalBuffer(app)
    return buffer


@atexit.register
def _flush_at_exit() -> None:
    for buffer in list(_buffers):
        if buffer.views:
            try:
                with buffer.app.app_context():
                    buffer.flush()
            except Exception:  # noqa: BLE001 - exiting anyway; say what was lost
                log.warning("%d page views lost at exit", len(buffer.views), exc_info=True)
