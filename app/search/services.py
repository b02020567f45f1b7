"""Search: safe query building, filters, facets, sorts, suggestions, analytics, index upkeep."""

from __future__ import annotations

import heapq
import logging
import math
import re
import struct
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.columns import NumericColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader, TermNotFound
from whoosh.searching import Searcher

from app.catalog.models import PRICE_TYPE_LABELS, Category, Product, ProductStatus
from app.errors import NotFound
from app.extensions import db
from app.pagination import Page
from app.queue import enqueue, redis_connection
from app.search import index as search_index
from app.search.documents import PRICE_BUCKETS, RATING_BUCKETS, product_document
from app.search.index import IndexUnavailable
from app.search.models import SearchClick, SearchQuery
from app.sorting import SORT_LABELS

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_QUERY_CHARS = 200
MAX_TERMS = 10
PER_PAGE = 20
MAX_PAGE = 500
# How much a hit in each field counts; a title hit must outrank a body hit.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 6.0,
    "tags": 3.0,
    "category": 2.0,
    "vendor": 2.0,
    "nodes": 1.5,
    "services": 1.5,
    "summary": 1.5,
    "description": 1.0,
}

TYPES = {
    "ai_agent": "AI agents",
    "n8n_workflow": "n8n workflows",
    "automation_asset": "Automation assets",
}
COMPLEXITIES = {"beginner": "Beginner", "intermediate": "Intermediate", "advanced": "Advanced"}
PRICES = {key: label for key, label, _low, _high in PRICE_BUCKETS}
RATINGS = {bucket: f"{bucket}★ & up" for bucket in RATING_BUCKETS}
SORTS = SORT_LABELS
# Multi-select facets: query-string key -> (index field, allowed values and labels).
FACETS: dict[str, tuple[str, dict[str, str]]] = {
    "type": ("type", TYPES),
    "price_type": ("price_type", PRICE_TYPE_LABELS),
    "price": ("price_bucket", PRICES),
    "complexity": ("complexity", COMPLEXITIES),
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_WORD = re.compile(r"\w+", re.UNICODE)


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
        """The query's words, the first MAX_TERMS of them: all a search ever matches."""
        return tuple(_WORD.findall(self.q))[:MAX_TERMS]

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
    id: int
    slug: str
    title: str
    summary: str
    type: str
    price: int
    currency: str
    price_type: str
    rating_avg: float
    rating_count: int
    vendor_name: str
    category_name: str
    position: int


@dataclass
class FacetValue:
    key: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult(Page):
    """A page of hits (``items``, also ``hits``) with the facets of everything matched."""

    params: SearchParams
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    unavailable: bool = False

    @property
    def hits(self) -> list[Hit]:
        return self.items


def normalise_query(raw: str | None) -> str:
    """NFKC, no control characters, collapsed spaces, lower case, at most 200 characters."""
    text = unicodedata.normalize("NFKC", (raw or "")[: MAX_QUERY_CHARS * 4])
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split()).lower()[:MAX_QUERY_CHARS].strip()


def default_sort(q: str) -> str:
    return "relevance" if q else "newest"


def parse_params(args: Mapping[str, Any]) -> SearchParams:
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
    try:
        page = int(get_one("page") or 1)
    except ValueError:
        page = 1
    return SearchParams(
        q=q,
        filters=filters,
        category=category if _SLUG.match(category) else None,
        rating=rating if rating in RATINGS else None,
        sort=sort if sort in SORTS else default_sort(q),
        page=min(max(page, 1), MAX_PAGE),
    )


# Matching and ranking run on cached per-term doc sets rather than Whoosh's matchers: set
# algebra is C-speed, and facet counting needs the full matched set anyway. A word scores
# its best field's weight times its idf (title beats tags beats body); ties go to popularity.
_TERM_CACHE_SIZE = 1024
PREFIX_WEIGHT = 2.0
MAX_PREFIX_TERMS = 50


def _posting_ids(reader: IndexReader, fieldname: str, text: str | bytes) -> set[int]:
    """The documents holding a term; raises TermNotFound when no segment has it.

    Whoosh's ``all_ids()`` costs a Python call per posting: most of a search's time right
    after the index changed, at 100k products. A posting block of its W3 codec holds the
    ids delta-coded, which ``accumulate`` decodes in C. Another codec or matcher falls back
    to ``all_ids()``.
    """
    ids: set[int] = set()
    found = False
    for leaf, base in reader.leaf_readers():
        try:
            matcher = leaf.postings(fieldname, text)
        except TermNotFound:
            continue
        found = True
        deleted: Collection[int] = ()
        if type(matcher) is FilterMatcher and matcher._exclude:
            deleted, matcher = matcher._ids, matcher.child
            matcher.reset()  # the filter has stepped it already
        if type(matcher) is W3LeafMatcher and not matcher._byteids:
            local: set[int] = set()
            while matcher.is_active():
                matcher._read_data()
                local.update(accumulate(matcher._data[0]))
                matcher._next_block()
            local.difference_update(deleted)
            ids.update(map(base.__add__, local) if base else local)
        else:
            ids.update(base + docnum for docnum in matcher.all_ids() if docnum not in deleted)
    if not found:
        raise TermNotFound(f"{fieldname}:{text!r}")
    return ids


def _term_docs(searcher: Searcher, cache: dict[str, Any], name: str, token: str) -> set[int]:
    def build() -> set[int]:
        try:
            return _posting_ids(searcher.reader(), name, token)
        except TermNotFound:
            return set()

    return _memo(cache, "terms", _TERM_CACHE_SIZE, (name, token), build)


def _word_fields(
    searcher: Searcher, cache: dict[str, Any], word: str, is_last: bool
) -> list[tuple[float, set[int]]] | None:
    """(weight, docs) per field the word can match, best weight first; None for a word no
    field analyses into a term (a stop word such as "and" or "the": it narrows nothing)."""
    fields: list[tuple[float, set[int]]] = []
    analysable = False
    for name, weight in FIELD_WEIGHTS.items():
        analysable = analysable or bool(_query_tokens(searcher, cache, name, word))
        docs = _word_docs(searcher, cache, name, word)
        if docs:
            fields.append((weight, docs))
    if not analysable:
        return None
    if is_last and len(word) >= 3:
        # As-you-type: the last word may be unfinished; match it as a title/tag word prefix.
        expanded = searcher.reader().expand_prefix("words", word)
        docs = set()
        for count, term in enumerate(expanded):
            if count >= MAX_PREFIX_TERMS:
                break
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            docs |= _term_docs(searcher, cache, "words", text)
        if docs:
            fields.append((PREFIX_WEIGHT, docs))
    fields.sort(key=lambda pair: -pair[0])
    return fields


def _match(
    searcher: Searcher, cache: dict[str, Any], words: tuple[str, ...]
) -> tuple[set[int] | None, list[tuple[set[int], list[tuple[float, set[int]]]]]]:
    """Docs matching every word (None: no searchable word), and each word's field sets."""
    per_word = []
    for position, word in enumerate(words):
        fields = _word_fields(searcher, cache, word, position == len(words) - 1)
        if fields is None:
            continue
        union: set[int] = set()
        for _weight, docs in fields:
            union |= docs
        per_word.append((union, fields))
    if not per_word:
        return None, []
    matched = min((u for u, _f in per_word), key=len)
    for union, _fields in per_word:
        if union is not matched:
            matched = matched & union
    return matched, per_word


def _rank(
    searcher: Searcher,
    cache: dict[str, Any],
    per_word: list[tuple[set[int], list[tuple[float, set[int]]]]],
    docs: set[int],
    end: int,
) -> list[int]:
    total = max(1, searcher.doc_count())
    scores = dict.fromkeys(docs, 0.0)
    for union, fields in per_word:
        idf = math.log(1 + total / (1 + len(union)))
        remaining = docs
        for weight, field_docs in fields:
            hit = remaining & field_docs
            if hit:
                add = weight * idf
                for docnum in hit:
                    scores[docnum] += add
                remaining = remaining - hit
                if not remaining:
                    break
    popularity = _sort_keys(searcher, cache, "popularity")
    return heapq.nlargest(end, docs, key=lambda d: (scores[d], popularity[d]))


def _postings(searcher: Searcher, cache: dict[str, Any], fieldname: str) -> dict[str, set[int]]:
    """{value: docnums} for a facet field, built once per searcher generation."""
    key = f"sets:{fieldname}"
    if key not in cache:
        reader = searcher.reader()
        sets: dict[str, set[int]] = {}
        for value in reader.lexicon(fieldname):
            text = value.decode("utf-8") if isinstance(value, bytes) else value
            sets[text] = _posting_ids(reader, fieldname, value)
        cache[key] = sets
    return cache[key]


def _all_docs(searcher: Searcher, cache: dict[str, Any]) -> set[int]:
    if "all" not in cache:
        docs: set[int] = set()
        for leaf, base in searcher.reader().leaf_readers():
            if leaf.has_deletions():
                docs.update(base + docnum for docnum in leaf.all_doc_ids())
            else:  # a document at a time costs a Python call each
                docs.update(range(base, base + leaf.doc_count_all()))
        cache["all"] = docs
    return cache["all"]


def _sort_keys(searcher: Searcher, cache: dict[str, Any], fieldname: str) -> list[int]:
    """Per document, a key that orders as its value of the sortable field ``fieldname`` does.

    Whoosh's sortable form of the column, read a segment at a time: translating each value
    back, in Python, was most of the first search after the index changed. Keys order
    documents (sorts, ties); they are not the values.
    """
    key = f"col:{fieldname}"
    if key not in cache:
        keys: list[int] = []
        for leaf, _base in searcher.reader().leaf_readers():  # in docnum order
            column = leaf.column_reader(fieldname, translate=False)
            count = leaf.doc_count_all()
            if type(column) is NumericColumn.Reader:
                stored = min(column._count, count)
                raw = column._dbfile.get(column._basepos, stored * column._fixedlen)
                keys.extend(struct.unpack(f"!{stored}{column._typecode}", raw))
                keys.extend([column._default] * (count - stored))
            else:
                keys.extend(column[docnum] for docnum in range(count))
        cache[key] = keys
    return cache[key]


def _union(sets: dict[str, set[int]], values: Iterable[str]) -> set[int]:
    out: set[int] = set()
    for value in values:
        out |= sets.get(value, set())
    return out


REMEMBERED_SIZE = 500
# Result cards: enough for the similar-products pools of 20 categories and the catalog
# (MLT_POOL each), with room for search results.
HIT_CACHE_SIZE = 25_000
MLT_CACHE_SIZE = 20_000
MLT_WORDS = 8
# Similar products come from the most popular MLT_POOL of the category: bounded work per page
# at any catalog size (and the suggestions shoppers are likelier to want).
MLT_POOL = 1000
# (field, word, category) -> the pool's documents with that word as a bitmask: each word's set
# is intersected with the pool once, then reused by every product sharing the word (a mask of
# MLT_POOL bits is 125 bytes).
MLT_SHARED_SIZE = 16_384
# A shared title word counts twice a shared tag, as in FIELD_WEIGHTS (whole numbers: counts).
MLT_WEIGHTS = {"title": 2, "tags": 1}


def _memo(
    cache: dict[str, Any],
    name: str,
    size: int,
    key: Hashable,
    build: Callable[[], T],
    keep: Callable[[T], bool] = lambda _value: True,
) -> T:
    """``build()``'s value kept under ``key`` in the searcher's cache; a full memory drops its
    least recently used entry (the working set, such as common words, stays)."""
    memory: OrderedDict[Hashable, Any] = cache.setdefault(name, OrderedDict())
    if key in memory:
        memory.move_to_end(key)
        return memory[key]
    value = build()
    if keep(value):
        memory[key] = value
        if len(memory) > size:
            memory.popitem(last=False)
    return value


def _searcher(index_dir: Path | None) -> tuple[Searcher, dict[str, Any]]:
    """The shared searcher (and its cache) on ``index_dir``, else the configured index."""
    if index_dir is not None:
        return search_index.current_searcher(index_dir)
    max_age = current_app.config["APP_CONFIG"].search_refresh_seconds
    return search_index.current_searcher(search_index.configured_path(), max_age=max_age)


def remembered(
    key: Hashable,
    build: Callable[[], T],
    keep: Callable[[T], bool] = lambda _value: True,
    index_dir: Path | None = None,
) -> T:
    """``build()``'s value, computed once per index generation and ``key`` in this process.

    For what depends only on the index (a results page for given parameters): a new
    generation or any index write opens a new searcher, and with it an empty memory.
    Values ``keep`` refuses (e.g. "search unavailable") are not remembered.
    """
    try:
        _unused, cache = _searcher(index_dir)
    except Exception:  # noqa: BLE001 - no index: nothing to remember against
        return build()
    return _memo(cache, "remembered", REMEMBERED_SIZE, key, build, keep)


def search(params: SearchParams, index_dir: Path | None = None) -> SearchResult:
    """Run a search; a missing or broken index gives ``unavailable`` instead of raising."""
    try:
        searcher, cache = _searcher(index_dir)
        return _search(searcher, cache, params)
    except IndexUnavailable as exc:
        log.warning("search unavailable: %s", exc)
    except Exception:  # a corrupt segment shows up only when read: degrade, never 500
        log.exception("search failed")
        search_index.reset_searchers()
    return SearchResult(items=[], page=1, pages=1, total=0, params=params, unavailable=True)


def _search(searcher: Searcher, cache: dict[str, Any], params: SearchParams) -> SearchResult:
    everything = _all_docs(searcher, cache)
    matched, per_word = _match(searcher, cache, params.words)
    if matched is None:
        matched = everything

    # One doc set per active filter group; facet counts leave their own group out.
    groups: dict[str, set[int]] = {}
    for key, values in params.filters.items():
        groups[key] = _union(_postings(searcher, cache, FACETS[key][0]), values)
    if params.category:
        groups["category"] = _postings(searcher, cache, "category_path").get(params.category, set())
    if params.rating:
        wanted = [b for b in RATING_BUCKETS if b >= params.rating]
        groups["rating"] = _union(_postings(searcher, cache, "rating_bucket"), wanted)

    def narrowed(skip: str | None) -> set[int]:
        docs = matched
        for key, docs_in_group in sorted(groups.items(), key=lambda kv: len(kv[1])):
            if key != skip:
                docs = docs & docs_in_group
        return docs

    final = narrowed(None)
    total = len(final)
    pages = max(1, math.ceil(total / params.per_page))
    page = min(params.page, pages)
    start, end = (page - 1) * params.per_page, page * params.per_page

    docnums = _page(searcher, cache, params, per_word, final, start, end)
    hits = [_hit(searcher, cache, d, start + i + 1) for i, d in enumerate(docnums)]
    result = SearchResult(
        items=hits,
        params=params,
        total=total,
        page=page,
        pages=pages,
        facets=_facets(searcher, cache, params, narrowed),
    )
    if total == 0 and params.words:
        result.suggestion = suggest(searcher, params.words)
    return result


def _page(
    searcher: Searcher,
    cache: dict[str, Any],
    params: SearchParams,
    per_word: list[tuple[set[int], list[tuple[float, set[int]]]]],
    docs: set[int],
    start: int,
    end: int,
) -> list[int]:
    if not docs or start >= len(docs):
        return []
    sort = params.sort if (per_word or params.sort != "relevance") else "newest"
    if sort == "relevance":
        return _rank(searcher, cache, per_word, docs, end)[start:end]
    columns = {
        "newest": ("published", True),
        "price_asc": ("price", False),
        "price_desc": ("price", True),
        "rating": ("rating", True),
        "popular": ("popularity", True),
    }
    name, descending = columns[sort]
    column = _sort_keys(searcher, cache, name)
    pick = heapq.nlargest if descending else heapq.nsmallest
    return pick(end, docs, key=column.__getitem__)[start:end]


def _facets(
    searcher: Searcher,
    cache: dict[str, Any],
    params: SearchParams,
    narrowed: Callable[[str], set[int]],
) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for key, (fieldname, allowed) in FACETS.items():
        base = narrowed(key)
        sets = _postings(searcher, cache, fieldname)
        chosen = params.filters.get(key, ())
        facets[key] = [
            FacetValue(value, label, len(base.intersection(sets.get(value, ()))), value in chosen)
            for value, label in allowed.items()
        ]
    base = narrowed("rating")
    buckets = _postings(searcher, cache, "rating_bucket")
    running = 0
    rating_values = []
    for bucket in RATING_BUCKETS:  # highest first, so each count includes those above
        running += len(base.intersection(buckets.get(bucket, ())))
        rating_values.append(FacetValue(bucket, RATINGS[bucket], running, bucket == params.rating))
    facets["rating"] = rating_values
    base = narrowed("category")
    names = _category_names(searcher, cache)
    counted = [
        FacetValue(
            slug, names.get(slug, slug), len(base.intersection(docs)), slug == params.category
        )
        for slug, docs in _postings(searcher, cache, "category_path").items()
    ]
    counted = [c for c in counted if c.count or c.selected]
    counted.sort(key=lambda c: (-c.count, c.label))
    facets["category"] = counted[:20]
    return facets


def _category_names(searcher: Searcher, cache: dict[str, Any]) -> dict[str, str]:
    """Category slug -> name, read from one stored document per category."""
    if "category_names" not in cache:
        names: dict[str, str] = {}
        for slug, docs in _postings(searcher, cache, "category_path").items():
            if docs:
                stored = searcher.stored_fields(next(iter(docs)))
                trail = (stored.get("category_trail") or {}) if stored else {}
                names[slug] = trail.get(slug, slug.replace("-", " ").title())
        cache["category_names"] = names
    return cache["category_names"]


def _hit(searcher: Searcher, cache: dict[str, Any], docnum: int, position: int) -> Hit:
    """The result card of ``docnum`` at ``position``. The card's fields are kept per
    generation, not the document's stored fields: a card needs a dozen of them, a read
    decompresses and unpickles them all, and popular products recur on every page."""

    def fields() -> tuple[Any, ...]:
        stored = searcher.stored_fields(docnum)
        return (
            int(stored["id"]),
            stored.get("slug", ""),
            stored.get("title", ""),
            stored.get("summary", ""),
            stored.get("type", ""),
            int(stored.get("price") or 0),
            stored.get("currency") or "USD",
            stored.get("price_type", ""),
            float(stored.get("rating_avg") or 0),
            int(stored.get("rating_count") or 0),
            stored.get("vendor_name", ""),
            stored.get("category_name", ""),
        )

    return Hit(*_memo(cache, "hits", HIT_CACHE_SIZE, docnum, fields), position=position)


def suggest(searcher: Searcher, words: Iterable[str]) -> str | None:
    """A corrected query from title and tag words, or None when nothing better is known."""
    reader = searcher.reader()
    corrector = searcher.corrector("words")
    corrected, changed = [], False
    for word in words:
        if len(word) < 3 or reader.frequency("words", word) > 0:
            corrected.append(word)
            continue
        options = corrector.suggest(word, limit=1, maxdist=2)
        if options:
            corrected.append(options[0])
            changed = True
        else:
            corrected.append(word)
    return " ".join(corrected) if changed else None


def more_like_this(product_id: int, limit: int = 6, index_dir: Path | None = None) -> list[Hit]:
    """Products similar to ``product_id`` by its title, tags and category; [] if unknown."""
    try:
        searcher, cache = _searcher(index_dir)
        # Per index generation: a product's neighbours change only when the index does.
        return _memo(
            cache,
            "more_like_this",
            MLT_CACHE_SIZE,
            (product_id, limit),
            lambda: _more_like_this(searcher, cache, product_id, limit),
        )
    except Exception:  # "Similar" is decoration: a broken index hides it
        log.warning("more_like_this failed for %s", product_id, exc_info=True)
        return []


def _query_tokens(searcher: Searcher, cache: dict[str, Any], name: str, word: str) -> list[str]:
    """``word`` as field ``name`` indexes it (analysis is costly; the vocabulary is small)."""
    return _memo(
        cache,
        f"tokens:{name}",
        _TERM_CACHE_SIZE,
        word,
        lambda: list(dict.fromkeys(searcher.schema[name].process_text(word, mode="query"))),
    )


def _word_docs(searcher: Searcher, cache: dict[str, Any], name: str, word: str) -> set[int]:
    """The documents whose field ``name`` holds ``word`` (as the field analyses it). Shared
    with the term cache: never modify the set returned."""

    def build() -> set[int]:
        tokens = _query_tokens(searcher, cache, name, word)
        if len(tokens) == 1:
            return _term_docs(searcher, cache, name, tokens[0])
        docs: set[int] = set()
        for token in tokens:
            docs |= _term_docs(searcher, cache, name, token)
        return docs

    return _memo(cache, f"word:{name}", _TERM_CACHE_SIZE, word, build)


@dataclass(frozen=True)
class _Pool:
    """A category's MLT_POOL most popular documents as bit positions: bit i is ``docs[i]``,
    the i-th most popular (then oldest), so ascending bits are the tie-break order."""

    docs: list[int]
    rank: dict[int, int]

    def bits(self, docs: set[int]) -> int:
        """The pool's documents among ``docs`` as a bitmask."""
        rank = self.rank
        out = bytearray((len(self.docs) + 7) // 8)
        for doc in docs & rank.keys():  # iterates the smaller side
            position = rank[doc]
            out[position >> 3] |= 1 << (position & 7)
        return int.from_bytes(out, "little")

    def take(self, bits: int, into: list[int], limit: int) -> None:
        """Append the documents of ``bits``, most popular first, until ``into`` has ``limit``."""
        while bits and len(into) < limit:
            lowest = bits & -bits
            into.append(self.docs[lowest.bit_length() - 1])
            bits ^= lowest


def _mlt_pool(searcher: Searcher, cache: dict[str, Any], category: str | None) -> _Pool:
    """The MLT_POOL most popular documents of a category (None: of all), per generation."""

    def build() -> _Pool:
        popularity = _sort_keys(searcher, cache, "popularity")
        docs = (
            _term_docs(searcher, cache, "category_path", category)
            if category
            else _all_docs(searcher, cache)
        )
        ranked = heapq.nsmallest(MLT_POOL, docs, key=lambda d: (-popularity[d], d))
        return _Pool(ranked, {doc: i for i, doc in enumerate(ranked)})

    return _memo(cache, "mlt_pool", MLT_CACHE_SIZE, category, build)


def _add_bits(planes: list[int], bits: int, weight: int) -> None:
    """Add ``weight`` to the score of every document in ``bits``: ``planes`` holds the scores
    bit-sliced (plane i is the set of documents whose score has bit i), so a page's whole
    scoring is a few dozen big-integer operations rather than a count per document."""
    for _ in range(weight):  # weights are small counts (MLT_WEIGHTS)
        carry, i = bits, 0
        while carry:  # a ripple-carry add, all documents at once
            if i == len(planes):
                planes.append(0)
            planes[i], carry = planes[i] ^ carry, planes[i] & carry
            i += 1


def _more_like_this(
    searcher: Searcher, cache: dict[str, Any], product_id: int, limit: int
) -> list[Hit]:
    """Rank the most popular products of the product's category (or, if it is nearly empty,
    of the catalog) by shared title and tag words, then popularity (uncached).

    Set arithmetic over cached postings rather than a scored Or query: an Or of a dozen
    common words would score thousands of documents per product page. The pool is capped at
    MLT_POOL products, so a page costs the same at any catalog size, and each word's share of
    it is a bitmask kept per (field, word, category).
    """
    docnum = searcher.document_number(id=str(product_id))
    if docnum is None:
        return []
    stored = searcher.stored_fields(docnum)
    words = [*_WORD.findall(stored.get("title", "").lower()), *stored.get("tag_names", [])]
    category = stored.get("category_slug") or None
    pool = _mlt_pool(searcher, cache, category)
    if len(pool.docs) - (docnum in pool.rank) < limit:
        category = None
        pool = _mlt_pool(searcher, cache, None)
    planes: list[int] = []
    for word in list(dict.fromkeys(w.lower() for w in words))[:MLT_WORDS]:
        for name, weight in MLT_WEIGHTS.items():
            shared = _memo(
                cache,
                "mlt_shared",
                MLT_SHARED_SIZE,
                (name, word, category),
                lambda name=name, word=word: pool.bits(_word_docs(searcher, cache, name, word)),
            )
            _add_bits(planes, shared, weight)
    others = (1 << len(pool.docs)) - 1  # the pool but the product itself
    if docnum in pool.rank:
        others ^= 1 << pool.rank[docnum]
    planes = [plane & others for plane in planes]
    # The best scores first, ties by popularity then age; then, if too few products share a
    # word, the most popular ones of the pool (a score of nothing).
    best: list[int] = []
    scored = 0
    for plane in planes:
        scored |= plane
    for score in range((1 << len(planes)) - 1, 0, -1):
        if len(best) == limit:
            break
        level = scored
        for i, plane in enumerate(planes):
            level &= plane if score >> i & 1 else ~plane
        pool.take(level, best, limit)
    pool.take(others & ~scored, best, limit)
    return [_hit(searcher, cache, doc, i + 1) for i, doc in enumerate(best)]


# Analytics ------------------------------------------------------------------------------


def record_search(result: SearchResult) -> int | None:
    """Log a search (normalised text, result count, filters) and return its id, for the click
    links; None for empty queries and later pages. The caller commits."""
    params = result.params
    if not params.q or result.unavailable or params.page > 1:
        return None
    entry = SearchQuery(
        query=params.q,
        result_count=result.total,
        filters=params.active_filters(),
        sort=params.sort,
    )
    db.session.add(entry)
    db.session.flush()  # the id now: after the commit, reading it back would cost a query
    return entry.id


def record_click(product_id: int, query_id: int | None, position: int | None) -> str:
    """Record a result click and return the product's slug; raise NotFound if not public."""
    product = db.session.get(Product, product_id)
    if product is None or product.status != ProductStatus.APPROVED:
        raise NotFound()
    query = db.session.get(SearchQuery, query_id) if query_id else None
    db.session.add(
        SearchClick(
            product_id=product.id,
            search_query_id=query.id if query is not None else None,
            position=max(0, min(position or 0, 10_000)) or None,
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


REBUILD_REQUESTED = "search:rebuild-requested"


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


def reindex_all(index_dir: Path | None = None, progress: Callable[[int], Any] | None = None) -> int:
    """Rebuild the whole index from the database into a new directory and swap it in.

    ``progress`` is called with each indexed product (e.g. a click progress bar's update).
    Returns the number of products indexed.
    """
    path = index_dir or search_index.configured_path()

    def documents() -> Iterable[dict[str, Any]]:
        for product in db.session.scalars(_public_products().execution_options(yield_per=500)):
            yield product_document(product)
            if progress is not None:
                progress(1)

    return search_index.write_generation(path, documents(), large=count_public_products() > 5000)


def sync_product(product_id: int, index_dir: Path | None = None) -> bool:
    """Index ``product_id`` if it is approved, else remove it; True if it is now indexed.

    Reads the current database state, so running it twice (or out of order) is harmless.
    A missing or unreadable index is rebuilt from the database instead.
    """
    path = index_dir or search_index.configured_path()
    product = db.session.scalar(_public_products().where(Product.id == product_id).limit(1))
    try:
        with search_index.writer(path) as w:
            if product is None:
                w.delete_by_term("id", str(product_id))
            else:
                w.update_document(**product_document(product))
    except IndexUnavailable:
        reindex_all(path)
    return product is not None


def request_rebuild() -> None:
    """Ask the search queue to rebuild the index once (deduplicated for two minutes)."""
    connection = redis_connection()
    try:
        if connection is not None and not connection.set(REBUILD_REQUESTED, "1", nx=True, ex=120):
            return
        enqueue("search", "jobs.search.rebuild_index")
    except Exception:  # noqa: BLE001 - the page still says "being rebuilt"; the sweep can retry
        log.warning("could not request a search rebuild", exc_info=True)


def rebuild_index() -> int:
    """Rebuild the whole index (the search queue's job), then accept new rebuild requests."""
    count = reindex_all()
    connection = redis_connection()
    if connection is not None:
        connection.delete(REBUILD_REQUESTED)
    return count
