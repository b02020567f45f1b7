"""Search services: parse queries, search through the backend, similar products, analytics,
index upkeep (the ``search`` queue is the only writer)."""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Product, ProductStatus
from app.errors import DomainError, NotFound
from app.extensions import db
from app.queue import enqueue, import_path, redis_connection
from app.search.backend import (
    FACETS,
    MAX_PAGE,
    MAX_QUERY_CHARS,
    RATINGS,
    SORTS,
    Hit,
    IndexUnavailable,
    SearchParams,
    SearchResult,
    default_sort,
    search_backend,
)
from app.search.documents import CARD_COLUMNS, card, product_document
from app.search.models import SearchClick, SearchQuery, SimilarProduct
from app.timeutil import utcnow
from app.vendors.models import VendorProfile

log = logging.getLogger(__name__)

# PostgreSQL's integer: ids and positions from a query string beyond it are absent.
MAX_DB_INT = 2**31 - 1
# Similar products kept per product (a page shows fewer).
SIMILAR_KEPT = 8
REBUILD_REQUESTED = "search:rebuild-requested"
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class SearchFailed(DomainError):
    """A query the engine could not answer: logged with the request id, shown plainly."""

    status = 500
    message = "Search could not answer this query. The error has been logged; please try again."


def normalise_query(raw: str | None) -> str:
    """NFKC, no control characters, collapsed spaces, lower case, at most 200 characters."""
    text = unicodedata.normalize("NFKC", (raw or "")[: MAX_QUERY_CHARS * 4])
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split()).lower()[:MAX_QUERY_CHARS].strip()


def _is_slug(value: str) -> bool:
    return 0 < len(value) <= 80 and value[0] != "-" and set(value) <= _SLUG_CHARS


def parse_params(args: Mapping[str, Any], per_page: int | None = None) -> SearchParams:
    """Validate a query string (a werkzeug MultiDict or a dict of lists); never raises."""

    def get_list(key: str) -> list[str]:
        if hasattr(args, "getlist"):
            values = args.getlist(key)
        else:
            raw = args.get(key, [])
            values = raw if isinstance(raw, list | tuple) else [raw]
        # No length cut: each value meets an allow-list, a pattern or int(); normalise_query
        # caps the query at MAX_QUERY_CHARS.
        return [str(v) for v in values[:20]]

    def get_one(key: str) -> str:
        values = get_list(key)
        return values[0].strip() if values else ""

    q = normalise_query(get_one("q"))
    filters = {}
    for key, (_field, allowed) in FACETS.items():
        chosen = tuple(dict.fromkeys(v for v in get_list(key) if v in allowed))
        if chosen:
            filters[key] = chosen
    category = get_one("category").lower()
    rating = get_one("rating")
    sort = get_one("sort")
    page_text = get_one("page")
    page = int(page_text) if page_text.isdigit() and len(page_text) < 6 else 1
    extra = {"per_page": per_page} if per_page else {}
    return SearchParams(
        q=q,
        filters=filters,
        category=category if _is_slug(category) else None,
        rating=rating if rating in RATINGS else None,
        sort=sort if sort in SORTS else default_sort(q),
        page=min(max(page, 1), MAX_PAGE),
        **extra,
    )


def db_int(value: str | None) -> int | None:
    """A query-string id or position as a database integer; None if absent or out of range."""
    if not value or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_DB_INT else None


def search(params: SearchParams) -> SearchResult:
    """Run a search. A missing or corrupt index gives an ``unavailable`` result and asks for
    a rebuild in the background; any other failure is logged and raises SearchFailed."""
    try:
        return search_backend().search(params)
    except IndexUnavailable as exc:
        log.warning("search unavailable, rebuild requested: %s", exc)
    except Exception as exc:
        # Logged with the request id (app.security's filter); the page says what happened.
        log.exception("search failed for %r", params.cache_key())
        raise SearchFailed() from exc
    request_rebuild()
    return SearchResult(items=[], page=1, pages=1, total=0, params=params, unavailable=True)


def search_page(params: SearchParams, settled: bool) -> SearchResult:
    """Search, and log the search when it is settled (see record_search). The caller commits."""
    result = search(params)
    if settled:
        record_search(result)
    return result


# Built once, run with bound values: on a product page, building this select and its cache
# key cost more than running it.
_SIMILAR_CARDS = (
    select(
        *(getattr(Product, name) for name in CARD_COLUMNS),
        VendorProfile.store_name,
        Category.name.label("category_name"),
    )
    .join(SimilarProduct, SimilarProduct.similar_id == Product.id)
    .outerjoin(VendorProfile, VendorProfile.id == Product.vendor_id)
    .outerjoin(Category, Category.id == Product.category_id)
    .where(
        SimilarProduct.product_id == bindparam("product_id"),
        Product.status == ProductStatus.APPROVED,
    )
    .order_by(SimilarProduct.position)
    .limit(bindparam("limit"))
)


def more_like_this(product_id: int, limit: int = 6) -> list[Hit]:
    """The products similar to ``product_id`` worked out when it was indexed, as result cards,
    best first; products no longer on sale are left out. [] if none are known."""
    # The card's columns only: loading four products, their stores and categories through
    # the ORM cost more than the rest of a product page's queries together.
    rows = db.session.execute(_SIMILAR_CARDS, {"product_id": product_id, "limit": limit}).all()
    return [
        Hit.from_card(card(row, row.store_name, row.category_name), position)
        for position, row in enumerate(rows, start=1)
    ]


# Analytics ------------------------------------------------------------------------------


# Built once, and a table insert: an ORM object and its flush cost nearly three times as much.
_LOG_SEARCH = insert(SearchQuery.__table__)
# A click on a settled search's results counts for the latest logged search of its text
# within this time (the same visitor's, as a rule; the reports group by text in any case).
CLICK_WINDOW = timedelta(hours=1)
_LATEST_SEARCH = (
    select(SearchQuery)
    .where(SearchQuery.query == bindparam("query"), SearchQuery.created_at >= bindparam("since"))
    .order_by(SearchQuery.created_at.desc(), SearchQuery.id.desc())
    .limit(1)
)


def record_search(result: SearchResult) -> None:
    """Log a search (normalised text, result count, filters); not empty queries, later pages
    or an unavailable index. The caller commits.

    Call it for settled searches only: a submitted form, a filter or sort change, a page
    loaded from a link; not each as-you-type request (a click logs those, see record_click).
    """
    params = result.params
    if not params.q or result.unavailable or params.page > 1:
        return
    db.session.execute(
        _LOG_SEARCH,
        {
            "query": params.q,
            "result_count": result.total,
            "filters": params.active_filters(),
            "sort": params.sort,
        },
    )


def record_click(product_id: int, position: int | None, query: str | None, typed: bool) -> str:
    """Record a result click and return the product's slug; raise NotFound if not public.

    The link carries the query its results came from, the same for every visitor (a results
    page is rendered once and shared). A click on a settled search's results counts for the
    latest logged search of that text (CLICK_WINDOW); as-you-type results were not logged,
    so that search is settled now and logged with the click. The caller commits."""
    product = db.session.get(Product, product_id) if 0 < product_id <= MAX_DB_INT else None
    if product is None or product.status != ProductStatus.APPROVED:
        raise NotFound()
    text = normalise_query(query)
    logged: SearchQuery | None = None
    if text and typed:
        logged = SearchQuery(query=text, result_count=1, filters={})
        db.session.add(logged)
        db.session.flush()
    elif text:
        logged = db.session.scalar(
            _LATEST_SEARCH, {"query": text, "since": utcnow() - CLICK_WINDOW}
        )
    db.session.add(
        SearchClick(
            product_id=product.id,
            search_query_id=logged.id if logged is not None else None,
            position=min(position, 10_000) if position else None,
        )
    )
    return product.slug


@dataclass
class SearchReport:
    top: list[tuple[str, int, int]]  # query, searches, clicks
    zero: list[tuple[str, int]]
    searches: int
    clicks: int

    @property
    def click_through(self) -> float:
        return self.clicks / self.searches if self.searches else 0.0


def search_report(since: Any, limit: int = 25) -> SearchReport:
    """Top queries with clicks, zero-result queries and overall click-through since ``since``."""
    clicks_per_query = (
        select(SearchQuery.query, func.count(SearchClick.id).label("clicks"))
        .join(SearchClick, SearchClick.search_query_id == SearchQuery.id)
        .where(SearchQuery.created_at >= since)
        .group_by(SearchQuery.query)
    )
    clicks = dict(db.session.execute(clicks_per_query).tuples().all())
    top = db.session.execute(
        select(SearchQuery.query, func.count(SearchQuery.id).label("n"))
        .where(SearchQuery.created_at >= since)
        .group_by(SearchQuery.query)
        .order_by(func.count(SearchQuery.id).desc(), SearchQuery.query)
        .limit(limit)
    ).tuples()
    zero = db.session.execute(
        select(SearchQuery.query, func.count(SearchQuery.id))
        .where(SearchQuery.created_at >= since, SearchQuery.result_count == 0)
        .group_by(SearchQuery.query)
        .order_by(func.count(SearchQuery.id).desc(), SearchQuery.query)
        .limit(limit)
    ).tuples()
    searches = db.session.scalar(
        select(func.count(SearchQuery.id)).where(SearchQuery.created_at >= since)
    )
    total_clicks = db.session.scalar(
        select(func.count(SearchClick.id)).where(SearchClick.created_at >= since)
    )
    return SearchReport(
        top=[(q, n, clicks.get(q, 0)) for q, n in top],
        zero=list(zero),
        searches=searches or 0,
        clicks=total_clicks or 0,
    )


# Index upkeep (the search queue is the only writer) ---------------------------------------


def _public_products() -> Any:
    return (
        select(Product)
        .where(Product.status == ProductStatus.APPROVED)
        .options(
            selectinload(Product.vendor),
            selectinload(Product.tags),
            selectinload(Product.category).selectinload(Category.parent),
        )
        .order_by(Product.id)
    )


def count_public_products() -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Product)
            .where(Product.status == ProductStatus.APPROVED)
        )
        or 0
    )


def public_documents() -> Iterator[dict[str, Any]]:
    """The index document of every product on sale, read in batches."""
    for product in db.session.scalars(_public_products().execution_options(yield_per=500)):
        yield product_document(product)


def reindex_all(progress: Any = None) -> int:
    """Rebuild the whole index from the database, then every product's similar products.

    ``progress`` is called with each indexed product (e.g. a click progress bar's update).
    Returns the number of products indexed. The caller's session is committed."""
    count = search_backend().rebuild(public_documents(), progress=progress)
    refresh_similar(
        db.session.scalars(
            select(Product.id).where(Product.status == ProductStatus.APPROVED).order_by(Product.id)
        )
    )
    return count


def sync_product(product_id: int) -> bool:
    """Index ``product_id`` if it is approved, else remove it; True if it is now indexed.

    Reads the current database state, so running it twice (or out of order) is harmless.
    Its similar products are worked out again, and so are those of its neighbours (so a new
    product shows up in theirs). A missing or unreadable index is rebuilt instead."""
    backend = search_backend()
    product = db.session.scalar(_public_products().where(Product.id == product_id).limit(1))
    before = _similar_of([product_id])
    try:
        if product is None:
            backend.delete([product_id])
        else:
            backend.index([product_document(product)])
    except IndexUnavailable:
        reindex_all()
        return product is not None
    refresh_similar([product_id, *before])
    if product is not None:
        refresh_similar(_similar_of([product_id]) - {product_id})
    return product is not None


def _similar_of(product_ids: Iterable[int]) -> set[int]:
    return set(
        db.session.scalars(
            select(SimilarProduct.similar_id).where(
                SimilarProduct.product_id.in_(list(product_ids))
            )
        )
    )


def refresh_similar(product_ids: Iterable[int], batch: int = 500) -> int:
    """Work out and store the similar products of ``product_ids``; commit per batch."""
    backend = search_backend()
    done = 0
    chunk: list[int] = []
    for product_id in [*product_ids, None]:
        if product_id is not None:
            chunk.append(product_id)
            if len(chunk) < batch:
                continue
        if not chunk:
            break
        rows = [
            {"product_id": pid, "position": position, "similar_id": similar}
            for pid in chunk
            for position, similar in enumerate(backend.similar_ids(pid, SIMILAR_KEPT), start=1)
        ]
        db.session.execute(delete(SimilarProduct).where(SimilarProduct.product_id.in_(chunk)))
        if rows:
            db.session.execute(insert(SimilarProduct), rows)
        db.session.commit()
        done += len(chunk)
        chunk = []
    return done


class _Rebuilder:
    """Without Redis: at most one background rebuild thread per app (never in a request)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, app: Flask) -> bool:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(
                target=self._run, args=(app,), name="search-rebuild", daemon=True
            )
            self._thread.start()
            return True

    def join(self, timeout: float | None = None) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @staticmethod
    def _run(app: Flask) -> None:
        with app.app_context():
            try:
                import_path("jobs.search.rebuild_index")()
            except Exception:  # a thread's error has nobody to go to but the log
                log.exception("background search rebuild failed")


def init_app(app: Flask) -> None:
    app.extensions["search_rebuilder"] = _Rebuilder()


def request_rebuild() -> None:
    """Ask for one rebuild of the index: the search queue's job (deduplicated for two
    minutes), or without Redis a background thread of this process."""
    connection = redis_connection()
    if connection is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        app.extensions["search_rebuilder"].start(app)
        return
    try:
        if connection.set(REBUILD_REQUESTED, "1", nx=True, ex=120):
            enqueue("search", "jobs.search.rebuild_index")
    except RedisError:  # the page still says "being rebuilt"; the next search asks again
        log.warning("could not request a search rebuild", exc_info=True)


def rebuild_index() -> int:
    """Rebuild the whole index (the search queue's job), then accept new rebuild requests."""
    count = reindex_all()
    connection = redis_connection()
    if connection is not None:
        connection.delete(REBUILD_REQUESTED)
    return count
