"""The search backend interface, its engine-neutral types, and the choice of backend.

Views and services see only ``SearchBackend``: index documents, delete them, rebuild from an
iterator of documents, search with ``SearchParams`` -> ``SearchResult`` (facets, did-you-mean)
and the ids of a product's similar products. ``SEARCH_BACKEND`` picks the engine (Whoosh, the
embedded default, or PostgreSQL full text); the instance lives in ``app.extensions["search"]``.
A search cluster (OpenSearch, Elasticsearch) would be a third class with the same methods.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlencode

from flask import Flask, current_app

from app.catalog.models import PRICE_TYPE_LABELS
from app.config import ConfigError
from app.pagination import Page
from app.search.documents import PRICE_BUCKETS, RATING_BUCKETS
from app.sorting import SORT_LABELS

MAX_QUERY_CHARS = 200
MAX_TERMS = 10
PER_PAGE = 20
MAX_PAGE = 500

TYPES = {
    "ai_agent": "AI agents",
    "n8n_workflow": "n8n workflows",
    "automation_asset": "Automation assets",
}
COMPLEXITIES = {"beginner": "Beginner", "intermediate": "Intermediate", "advanced": "Advanced"}
PRICES = {key: label for key, label, _low, _high in PRICE_BUCKETS}
RATINGS = {bucket: f"{bucket}★ & up" for bucket in RATING_BUCKETS}
SORTS = SORT_LABELS
# Multi-select facets: query-string key -> (document field, allowed values and labels).
FACETS: dict[str, tuple[str, dict[str, str]]] = {
    "type": ("type", TYPES),
    "price_type": ("price_type", PRICE_TYPE_LABELS),
    "price": ("price_bucket", PRICES),
    "complexity": ("complexity", COMPLEXITIES),
}
# How much a word's hit in each field counts (title A, keywords B, body C); a document scores
# its best field per word.
FIELD_WEIGHTS = {"title": 6.0, "keywords": 3.0, "body": 1.0}
# As-you-type: the last word also matches as a prefix once it has this many characters.
MIN_PREFIX = 3
# How many categories the category facet lists.
CATEGORY_FACET_SIZE = 20
_WORD = re.compile(r"\w+", re.UNICODE)

Document = dict[str, Any]  # what app.search.documents.product_document returns
Progress = Callable[[int], Any]


class IndexUnavailable(RuntimeError):
    """The index is missing or cannot be opened; only a rebuild mends it."""


class SearchFailed(RuntimeError):
    """A query could not be answered (an engine error, not a missing index)."""


def query_words(q: str) -> tuple[str, ...]:
    """The words of a query, the first MAX_TERMS of them: all a search ever matches."""
    return tuple(_WORD.findall(q))[:MAX_TERMS]


def default_sort(q: str) -> str:
    return "relevance" if q else "newest"


@dataclass(frozen=True)
class SearchParams:
    """Validated search input: anything unknown has already been dropped."""

    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    category: str | None = None
    rating: str | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def words(self) -> tuple[str, ...]:
        return query_words(self.q)

    @property
    def ranked(self) -> bool:
        """Whether results are ordered by relevance (a query with words, asked to)."""
        return self.sort == "relevance" and bool(self.words)

    @property
    def wanted_ratings(self) -> list[str]:
        """The rating buckets the rating filter lets through ("3" & up: 4 and 3)."""
        return [b for b in RATING_BUCKETS if self.rating and b >= self.rating]

    def active_filters(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: list(v) for k, v in self.filters.items() if v}
        if self.category:
            out["category"] = self.category
        if self.rating:
            out["rating"] = self.rating
        return out

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The query string for this search with ``changes`` applied (for links)."""
        args: dict[str, Any] = {"q": self.q} if self.q else {}
        args.update(self.active_filters())
        if self.sort != default_sort(self.q):
            args["sort"] = self.sort
        for key, value in changes.items():
            if value is None or value == [] or value == "":
                args.pop(key, None)
            else:
                args[key] = value
        if args.get("page") == 1:
            args.pop("page")
        return args

    def cache_key(self) -> str:
        """One string per distinct search (filters in a fixed order, the page included)."""
        args = self.query_args(page=self.page)
        return urlencode(
            sorted((k, sorted(v) if isinstance(v, list) else v) for k, v in args.items()),
            doseq=True,
        )

    def toggled(self, key: str, value: str) -> dict[str, Any]:
        """Link arguments with ``value`` of facet ``key`` switched on or off (back to page 1)."""
        current = list(self.filters.get(key, ()))
        chosen = [v for v in current if v != value] if value in current else [*current, value]
        return self.query_args(**{key: chosen, "page": None})


@dataclass
class Hit:
    """A result card: what a results list shows, with the fields ``price_label`` reads."""

    id: int
    slug: str
    title: str
    summary: str
    type: str
    price_type: str
    price_cents: int
    monthly_price_cents: int | None
    yearly_price_cents: int | None
    currency: str
    rating_avg: float
    rating_count: int
    vendor_name: str
    category_name: str
    position: int = 0

    @classmethod
    def from_card(cls, card: Mapping[str, Any], position: int) -> Hit:
        return cls(**card, position=position)


@dataclass
class FacetValue:
    key: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult(Page):
    """A page of hits (``items``, also ``hits``) with the facets of everything matched."""

    params: SearchParams = field(default_factory=SearchParams)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    unavailable: bool = False  # the index is being rebuilt
    # Set on a result the backend keeps (see ``to_keep``): the same token for as long as it
    # hands out this result, so the page renders it once (app/search/views.py).
    token: str | None = None

    @property
    def hits(self) -> list[Hit]:
        return self.items


def to_keep(result: SearchResult) -> SearchResult:
    """``result`` with a token of its own, for a backend to keep and hand out again until
    the index changes: a new answer is a new token, so nothing rendered from it outlives it."""
    return replace(result, token=secrets.token_hex(8))


@dataclass
class FacetCounts:
    """What a backend counts for the facets; ``facet_values`` turns it into labelled lists."""

    values: dict[str, dict[str, int]]  # facet key -> value -> count
    ratings: dict[str, int]  # rating bucket -> count (that bucket alone)
    categories: dict[str, tuple[str, int]]  # slug -> (name, count)


def facet_values(params: SearchParams, counts: FacetCounts) -> dict[str, list[FacetValue]]:
    """Labelled facet lists in display order, the same for every backend."""
    facets: dict[str, list[FacetValue]] = {}
    for key, (_field, allowed) in FACETS.items():
        chosen = params.filters.get(key, ())
        got = counts.values.get(key, {})
        facets[key] = [
            FacetValue(value, label, got.get(value, 0), value in chosen)
            for value, label in allowed.items()
        ]
    running, ratings = 0, []
    for bucket in RATING_BUCKETS:  # highest first, so each count includes those above
        running += counts.ratings.get(bucket, 0)
        ratings.append(FacetValue(bucket, RATINGS[bucket], running, bucket == params.rating))
    facets["rating"] = ratings
    categories = [
        FacetValue(slug, name, count, slug == params.category)
        for slug, (name, count) in counts.categories.items()
        if count or slug == params.category
    ]
    categories.sort(key=lambda c: (-c.count, c.label))
    facets["category"] = categories[:CATEGORY_FACET_SIZE]
    return facets


def page_bounds(params: SearchParams, total: int) -> tuple[int, int, int, int]:
    """(page, pages, start, end) for ``total`` results: the page clamped to the last one."""
    pages = max(1, -(-total // params.per_page))
    page = min(params.page, pages)
    start = (page - 1) * params.per_page
    return page, pages, start, start + params.per_page


class SearchBackend(Protocol):
    """What every search engine provides. Writes come from the ``search`` queue only."""

    name: str

    def index(self, documents: Iterable[Document]) -> None:
        """Add or replace these documents (keyed by ``id``). Raises IndexUnavailable."""

    def delete(self, product_ids: Iterable[int]) -> None:
        """Remove these products from the index (absent ones are ignored)."""

    def rebuild(self, documents: Iterable[Document], progress: Progress | None = None) -> int:
        """Replace the whole index with ``documents``; return how many were written.

        Readers keep the old index until the new one is complete; ``progress`` is called
        with 1 per document written."""

    def search(self, params: SearchParams) -> SearchResult:
        """One page of results with facets and a suggestion when nothing matched.

        Raises IndexUnavailable (missing or corrupt index) or SearchFailed."""

    def similar_ids(self, product_id: int, limit: int) -> list[int]:
        """Up to ``limit`` products most like ``product_id``, best first ([] if unknown)."""

    def check(self) -> None:
        """Raise IndexUnavailable unless the index can be opened."""


def init_app(app: Flask) -> None:
    """Build the configured backend into ``app.extensions["search"]`` (Config has refused
    unknown names and PostgreSQL search without a PostgreSQL database)."""
    config = app.config["APP_CONFIG"]
    if config.search_backend == "postgres":
        from app.search.postgres_backend import PostgresBackend

        backend: SearchBackend = PostgresBackend(refresh_seconds=config.search_refresh_seconds)
    elif config.search_backend == "whoosh":
        from app.search.whoosh_backend import WhooshBackend

        backend = WhooshBackend(
            config.search_index_dir, refresh_seconds=config.search_refresh_seconds
        )
    else:
        raise ConfigError(f"no search backend named {config.search_backend!r}")
    app.extensions["search"] = backend


def search_backend() -> SearchBackend:
    """The current app's search backend."""
    return current_app.extensions["search"]
