"""The production search backend: PostgreSQL full text in the app's own database.

A weighted ``tsvector`` per product (title A, tags and node types B, descriptions C) under a
GIN index, matched with ``websearch_to_tsquery`` over the query's words only, ranked by
``ts_rank_cd`` with title hits weighted far above the rest; facet counts with
``COUNT(*) FILTER``; did-you-mean and similar products with ``pg_trgm``. Rows are written
by the ``search`` queue's jobs in the same database, so no other server is needed; read
replicas scale it out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from cachetools import TTLCache
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, insert
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.search.backend import (
    CATEGORY_FACET_SIZE,
    FACETS,
    Document,
    FacetCounts,
    Hit,
    IndexUnavailable,
    Progress,
    SearchParams,
    SearchResult,
    facet_values,
    page_bounds,
)
from app.search.documents import RATING_BUCKETS
from app.search.models import SearchDocument, SearchWord

CONFIG = "english"  # also spelled out in _INSERT
BATCH = 1000
# Nearest neighbours fetched by trigram distance, then ordered by category and popularity.
SIMILAR_CANDIDATES = 3
# ts_rank_cd's weights for D, C, B, A: a title hit (A) outranks a tag or node hit (B), which
# outranks a description (C) that repeats the word up to 15 times, as the Whoosh backend's
# field weights do.
RANK_WEIGHTS = "'{0.01, 0.02, 0.3, 1.0}'"
_WORD = re.compile(r"\w+", re.UNICODE)
_ALNUM = re.compile(r"^[^\W_]+$", re.UNICODE)

T = SearchDocument.__table__
SORT_COLUMNS = {
    "newest": (T.c.published, True),
    "price_asc": (T.c.price, False),
    "price_desc": (T.c.price, True),
    "rating": (T.c.rating, True),
    "popular": (T.c.popularity, True),
}
_INSERT = text(
    """
    INSERT INTO search_documents (product_id, tsv, words, type, price_type, price_bucket,
        complexity, rating_bucket, category_path, category_names, price, rating, popularity,
        published, card)
    VALUES (:id,
        setweight(to_tsvector('english', :title), 'A')
        || setweight(to_tsvector('english', :keywords), 'B')
        || setweight(to_tsvector('english', :body), 'C'),
        :words, :type, :price_type, :price_bucket, :complexity, :rating_bucket,
        :category_path, CAST(:category_names AS json), :price, :rating, :popularity,
        :published, CAST(:card AS json))
    ON CONFLICT (product_id) DO UPDATE SET tsv = EXCLUDED.tsv, words = EXCLUDED.words,
        type = EXCLUDED.type, price_type = EXCLUDED.price_type,
        price_bucket = EXCLUDED.price_bucket, complexity = EXCLUDED.complexity,
        rating_bucket = EXCLUDED.rating_bucket, category_path = EXCLUDED.category_path,
        category_names = EXCLUDED.category_names, price = EXCLUDED.price,
        rating = EXCLUDED.rating, popularity = EXCLUDED.popularity,
        published = EXCLUDED.published, card = EXCLUDED.card
    """
).bindparams(bindparam("category_path", type_=ARRAY(db.String)))

_CATEGORY_NAMES = text(
    """
    SELECT s.slug, (SELECT d.category_names ->> s.slug FROM search_documents d
                    WHERE s.slug = ANY (d.category_path) LIMIT 1)
    FROM unnest(CAST(:slugs AS varchar[])) AS s (slug)
    """
)


def _row(document: Document) -> dict[str, Any]:
    import json

    row = {key: document[key] for key in ("title", "keywords", "body", "words", "type")}
    row.update(
        id=document["id"],
        price_type=document["price_type"],
        price_bucket=document["price_bucket"],
        complexity=document["complexity"],
        rating_bucket=document["rating_bucket"],
        category_path=list(document["category_path"]),
        category_names=json.dumps(document["category_names"]),
        price=document["price"],
        rating=document["rating"],
        popularity=document["popularity"],
        published=document["published"],
        card=json.dumps(document["card"]),
    )
    return row


def _words(document: Document) -> set[str]:
    return {w for w in _WORD.findall(document["words"].lower()) if 3 <= len(w) <= 100}


class PostgresBackend:
    """PostgreSQL full text over ``search_documents``.

    Answers are kept as data for ``refresh_seconds`` (SEARCH_REFRESH_SECONDS) in one locked
    TTL cache: a broad query counts its facets over every matching row, so a popular query
    repeated within that time is answered from memory. This process's own writes empty the
    cache at once; another process's show up at most ``refresh_seconds`` later."""

    name = "postgres"
    CACHE_SIZE = 2000

    def __init__(self, refresh_seconds: float = 0.0):
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._cache: TTLCache | None = (
            TTLCache(self.CACHE_SIZE, ttl=refresh_seconds) if refresh_seconds > 0 else None
        )

    def _forget(self) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache.clear()

    # -- writing ---------------------------------------------------------------------------

    def index(self, documents: Iterable[Document]) -> None:
        self._write(documents)
        db.session.commit()
        self._forget()

    def delete(self, product_ids: Iterable[int]) -> None:
        ids = list(product_ids)
        db.session.execute(delete(SearchDocument).where(SearchDocument.product_id.in_(ids)))
        db.session.commit()
        self._forget()

    def rebuild(self, documents: Iterable[Document], progress: Progress | None = None) -> int:
        # One transaction: readers see the old rows until the commit (DELETE, not TRUNCATE,
        # whose lock would block them).
        db.session.execute(delete(SearchDocument))
        db.session.execute(delete(SearchWord))
        count = self._write(documents, progress)
        db.session.commit()
        self._forget()
        return count

    def _write(self, documents: Iterable[Document], progress: Progress | None = None) -> int:
        count = 0
        for batch in _batches(documents, BATCH):
            db.session.execute(_INSERT, [_row(d) for d in batch])
            words = set().union(*(_words(d) for d in batch))
            if words:
                db.session.execute(
                    insert(SearchWord).on_conflict_do_nothing(),
                    [{"word": w} for w in sorted(words)],
                )
            count += len(batch)
            if progress is not None:
                progress(len(batch))
        return count

    # -- reading ---------------------------------------------------------------------------

    def check(self) -> None:
        try:
            db.session.execute(select(T.c.product_id).limit(1))
        except DBAPIError as exc:
            db.session.rollback()
            raise IndexUnavailable(f"search_documents unreadable: {exc.orig}") from exc

    def _tsquery(self, words: tuple[str, ...]) -> str | None:
        """The query's words as a tsquery (text), the last one also as a prefix while typing;
        None when no word is searchable (stop words only). Words only reach PostgreSQL as
        bound values, and "or" is left out (websearch_to_tsquery reads it as OR)."""
        plain = [w for w in words if w.lower() != "or"]
        if not plain:
            return None
        *head, last = plain
        last_query = func.websearch_to_tsquery(CONFIG, last)
        if len(last) >= 3 and _ALNUM.match(last):
            last_query = last_query.op("||")(func.to_tsquery(CONFIG, f"{last}:*"))
        query = last_query
        if head:
            query = func.websearch_to_tsquery(CONFIG, " ".join(head)).op("&&")(last_query)
        found = db.session.execute(select(cast(query, db.Text))).scalar_one()
        return found or None

    def search(self, params: SearchParams) -> SearchResult:
        if self._cache is None:
            return self._search(params)
        key = (params.cache_key(), params.per_page)
        with self._lock:
            result = self._cache.get(key)
        if result is None:
            result = self._search(params)
            with self._lock:
                self._cache[key] = result
        return result  # shared between threads: read, never changed, by its users

    def _search(self, params: SearchParams) -> SearchResult:
        words = params.words
        tsquery = self._tsquery(words) if words else None
        query = cast(literal(tsquery), TSQUERY) if tsquery else None
        matched: ColumnElement[bool] = T.c.tsv.op("@@")(query) if query is not None else true()
        if words and query is None:
            matched = true()  # stop words only: they narrow nothing

        groups: dict[str, ColumnElement[bool]] = {}
        for key, values in params.filters.items():
            groups[key] = T.c[FACETS[key][0]].in_(values)
        if params.category:
            groups["category"] = literal(params.category) == any_(T.c.category_path)
        if params.rating:
            groups["rating"] = T.c.rating_bucket.in_(params.wanted_ratings)

        def narrowed(skip: str | None) -> ColumnElement[bool]:
            return and_(true(), *(cond for key, cond in groups.items() if key != skip))

        counters: list[Any] = [func.count().filter(narrowed(None)).label("total")]
        labels: list[tuple[str, str]] = []
        for key, (fieldname, allowed) in FACETS.items():
            for value in allowed:
                labels.append((key, value))
                counters.append(func.count().filter(and_(narrowed(key), T.c[fieldname] == value)))
        for bucket in RATING_BUCKETS:
            labels.append(("rating", bucket))
            counters.append(
                func.count().filter(and_(narrowed("rating"), T.c.rating_bucket == bucket))
            )
        row = db.session.execute(select(*counters).where(matched)).one()
        total = row[0]
        counts = FacetCounts(values={key: {} for key in FACETS}, ratings={}, categories={})
        for (key, value), count in zip(labels, row[1:], strict=True):
            if key == "rating":
                counts.ratings[value] = count
            else:
                counts.values[key][value] = count
        counts.categories = self._category_counts(matched, narrowed("category"), params.category)

        page, pages, start, end = page_bounds(params, total)
        hits: list[Hit] = []
        if start < total:
            order = self._order(params, query)
            cards = db.session.scalars(
                select(T.c.card)
                .where(matched, narrowed(None))
                .order_by(*order)
                .limit(params.per_page)
                .offset(start)
            )
            hits = [Hit.from_card(card, start + i + 1) for i, card in enumerate(cards)]
        result = SearchResult(
            items=hits,
            page=page,
            pages=pages,
            total=total,
            params=params,
            facets=facet_values(params, counts),
        )
        if total == 0 and words:
            result.suggestion = self._suggest(words)
        return result

    def _order(self, params: SearchParams, query: Any) -> list[Any]:
        if params.ranked and query is not None:
            return [
                func.ts_rank_cd(literal_column(RANK_WEIGHTS), T.c.tsv, query).desc(),
                T.c.popularity.desc(),
                T.c.product_id,
            ]
        name = params.sort if params.sort in SORT_COLUMNS else "newest"
        sort_column, descending = SORT_COLUMNS[name]
        if descending:
            return [sort_column.desc(), T.c.popularity.desc(), T.c.product_id]
        return [sort_column, T.c.popularity.desc(), T.c.product_id]

    def _category_counts(
        self, matched: ColumnElement[bool], narrowed: ColumnElement[bool], selected: str | None
    ) -> dict[str, tuple[str, int]]:
        unnested = func.unnest(T.c.category_path).table_valued("slug").render_derived("slugs")
        counted = dict(
            db.session.execute(
                select(unnested.c.slug, func.count())
                .select_from(T.join(unnested, true()))
                .where(matched, narrowed)
                .group_by(unnested.c.slug)
            )
            .tuples()
            .all()
        )
        if selected:
            counted.setdefault(selected, 0)
        # Names for the few slugs counted, each read from one document holding it.
        slugs = sorted(counted, key=lambda s: -counted[s])[: CATEGORY_FACET_SIZE + 1]
        names = dict(
            db.session.execute(_CATEGORY_NAMES, {"slugs": slugs}).tuples().all() if slugs else []
        )
        return {slug: (names[slug], counted[slug]) for slug in slugs if names.get(slug)}

    def _suggest(self, words: Iterable[str]) -> str | None:
        words = list(words)
        known = set(db.session.scalars(select(SearchWord.word).where(SearchWord.word.in_(words))))
        corrected, changed = [], False
        for word in words:
            if len(word) < 3 or word in known:
                corrected.append(word)
                continue
            best = db.session.scalar(
                select(SearchWord.word)
                .where(SearchWord.word.op("%")(word))
                .order_by(SearchWord.word.op("<->")(word), SearchWord.word)
                .limit(1)
            )
            corrected.append(best or word)
            changed = changed or best is not None
        return " ".join(corrected) if changed else None

    def similar_ids(self, product_id: int, limit: int) -> list[int]:
        """The nearest products by trigram distance of their title and tag words, from the
        whole catalog (a GiST index walk); the same category, then popularity, break ties."""
        me = db.session.execute(
            select(T.c.words, T.c.category_path).where(T.c.product_id == product_id)
        ).one_or_none()
        if me is None:
            return []
        words, path = me
        leaf = path[-1] if path else None
        distance = T.c.words.op("<->", return_type=db.Float)(words)
        rows = db.session.execute(
            select(
                T.c.product_id,
                distance,
                cast(literal(leaf) == any_(T.c.category_path) if leaf else literal(False), Integer),
                T.c.popularity,
            )
            .where(T.c.product_id != product_id)
            .order_by(distance)
            .limit(limit * SIMILAR_CANDIDATES)
        ).all()
        rows.sort(key=lambda r: (round(r[1], 6), -r[2], -r[3], r[0]))
        return [r[0] for r in rows[:limit]]


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
