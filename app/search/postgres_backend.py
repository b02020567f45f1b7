"""The production search backend: PostgreSQL full text in the app's own database.

Each product is a narrow row of ``search_documents``: its lexemes as stripped ``tsvector``s
under GIN indexes (every field's for matching; the title's and the keywords' apart, for
ranking), its sort columns under b-tree indexes, and its facet values as one ``cell``
number (a row of ``search_cells``). Rows are narrow because a broad word's facets are
counted over every row it matches: one ``GROUP BY cell`` over the match, read back joined to
the cells, gives every facet count in Python (each facet leaving its own filter out), the
total and the cells a filtered page may come from. A page is then a few ids in the order
asked for, walked along a sort index when the match is broad, and their cards are read from
``search_cards``. Did-you-mean and similar products use ``pg_trgm``.

Ranking mirrors the Whoosh backend's: a word scores its best field's weight (title 6,
keywords 3, description 1; no idf), ties go to popularity. With one or two words a title
hit always outranks a row without one, and a keyword hit one with neither, so those three
levels are read in turn, each with a limit: the first level usually fills the page.

Rows are written by the ``search`` queue's jobs in the same database, so no other server is
needed; read replicas scale it out.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    any_,
    case,
    cast,
    delete,
    func,
    literal,
    not_,
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
    FIELD_WEIGHTS,
    MIN_PREFIX,
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
from app.search.models import SearchCard, SearchCategory, SearchCell, SearchDocument, SearchWord

CONFIG = "english"  # also spelled out in _DOCUMENT
BATCH = 1000
# Nearest neighbours fetched by trigram distance, then ordered by category and popularity.
SIMILAR_CANDIDATES = 3
# Above this many words the three ranking levels no longer order strictly (three keyword
# hits outscore a title hit and two description hits): one query scores every match.
LEVELLED_WORDS = 2
_WORD = re.compile(r"\w+", re.UNICODE)
_ALNUM = re.compile(r"^[^\W_]+$", re.UNICODE)

T = SearchDocument.__table__
C = SearchCell.__table__
CELL_FIELDS = ("type", "price_type", "price_bucket", "complexity", "rating_bucket")
SORT_COLUMNS = {
    "newest": (T.c.published, True),
    "price_asc": (T.c.price, False),
    "price_desc": (T.c.price, True),
    "rating": (T.c.rating, True),
    "popular": (T.c.popularity, True),
}
_DOCUMENT = text(
    """
    INSERT INTO search_documents (product_id, cell, tsv, title_tsv, keywords_tsv, price,
        rating, popularity, published)
    VALUES (:id, :cell,
        strip(to_tsvector('english', :title || ' ' || :keywords || ' ' || :body)),
        strip(to_tsvector('english', :title)), strip(to_tsvector('english', :keywords)),
        :price, :rating, :popularity, :published)
    ON CONFLICT (product_id) DO UPDATE SET cell = EXCLUDED.cell, tsv = EXCLUDED.tsv,
        title_tsv = EXCLUDED.title_tsv, keywords_tsv = EXCLUDED.keywords_tsv,
        price = EXCLUDED.price, rating = EXCLUDED.rating, popularity = EXCLUDED.popularity,
        published = EXCLUDED.published
    """
)
_CARD = text(
    """
    INSERT INTO search_cards (product_id, words, card) VALUES (:id, :words, CAST(:card AS json))
    ON CONFLICT (product_id) DO UPDATE SET words = EXCLUDED.words, card = EXCLUDED.card
    """
)
# The match's rows counted per cell, each cell's facet values beside its count.
_CUBE_COLUMNS = [C.c.cell, *(C.c[name] for name in CELL_FIELDS), C.c.category_path]


@dataclass(frozen=True)
class _Cell:
    """A cell's facet values and how many of the match's rows it holds."""

    id: int
    values: Mapping[str, str]  # document field (FACETS' and rating_bucket) -> value
    path: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class _Words:
    """A query's searchable words as tsquery text: all of them (``match``), any of them
    (``any``) and each one (``each``, the last with its prefix)."""

    match: str
    any: str
    each: tuple[str, ...]


def _cell_key(document: Document) -> tuple[Any, ...]:
    return (*(document[name] for name in CELL_FIELDS), tuple(document["category_path"]))


def _words(document: Document) -> set[str]:
    return {w for w in _WORD.findall(document["words"].lower()) if 3 <= len(w) <= 100}


def _tsquery(value: str) -> Any:
    return cast(literal(value), TSQUERY)


class PostgresBackend:
    """PostgreSQL full text over ``search_documents``.

    Answers are kept as data for ``refresh_seconds`` (SEARCH_REFRESH_SECONDS) in one locked
    TTL cache: a popular query repeated within that time is answered from memory. This
    process's own writes empty the cache at once; another process's show up at most
    ``refresh_seconds`` later."""

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
        db.session.execute(delete(SearchCard).where(SearchCard.product_id.in_(ids)))
        db.session.commit()
        self._forget()

    def rebuild(self, documents: Iterable[Document], progress: Progress | None = None) -> int:
        # One transaction: readers see the old rows until the commit (DELETE, not TRUNCATE,
        # whose lock would block them). Cells stay: a number keeps its meaning.
        for model in (SearchDocument, SearchCard, SearchCategory, SearchWord):
            db.session.execute(delete(model))
        count = self._write(documents, progress)
        db.session.commit()
        self._forget()
        return count

    def _write(self, documents: Iterable[Document], progress: Progress | None = None) -> int:
        count = 0
        for batch in _batches(documents, BATCH):
            cells = self._cells_for({_cell_key(d) for d in batch})
            names = {slug: name for d in batch for slug, name in d["category_names"].items()}
            if names:  # sorted: concurrent writers lock rows in the same order
                db.session.execute(
                    insert(SearchCategory)
                    .values([{"slug": s, "name": names[s]} for s in sorted(names)])
                    .on_conflict_do_update(
                        index_elements=["slug"], set_={"name": insert(SearchCategory).excluded.name}
                    )
                )
            batch = sorted(batch, key=lambda d: d["id"])
            db.session.execute(
                _DOCUMENT,
                [
                    {
                        **{key: d[key] for key in ("id", "title", "keywords", "body")},
                        **{key: d[key] for key in ("price", "rating", "popularity", "published")},
                        "cell": cells[_cell_key(d)],
                    }
                    for d in batch
                ],
            )
            db.session.execute(
                _CARD,
                [
                    {"id": d["id"], "words": d["words"], "card": json.dumps(d["card"])}
                    for d in batch
                ],
            )
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

    def _cells_for(self, keys: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        """Each key's cell number, adding the cells not seen before."""
        rows = [
            {**dict(zip(CELL_FIELDS, key[:-1], strict=True)), "category_path": list(key[-1])}
            for key in sorted(keys)
        ]
        db.session.execute(
            insert(SearchCell)
            .values(rows)
            .on_conflict_do_nothing(constraint="uq_search_cells_values")
        )
        known = db.session.execute(select(*_CUBE_COLUMNS)).tuples()
        found = {(*row[1:-1], tuple(row[-1])): row[0] for row in known}
        return {key: found[key] for key in keys}

    # -- reading ---------------------------------------------------------------------------

    def check(self) -> None:
        try:
            db.session.execute(select(T.c.product_id).limit(1))
        except DBAPIError as exc:
            db.session.rollback()
            raise IndexUnavailable(f"search_documents unreadable: {exc.orig}") from exc

    def _words_query(self, words: tuple[str, ...]) -> _Words | None:
        """The words as tsquery text; None when no word is searchable (stop words only).

        Each word is its own ``plainto_tsquery`` (a word PostgreSQL splits, "foo_bar",
        needs all its parts: the stripped vectors keep no positions for a phrase), the last
        one also as a prefix while typing. Words only reach PostgreSQL as bound values."""
        parts = []
        for position, word in enumerate(words):
            query = func.plainto_tsquery(CONFIG, word)
            if position == len(words) - 1 and len(word) >= MIN_PREFIX and _ALNUM.match(word):
                query = query.op("||")(func.to_tsquery(CONFIG, f"{word}:*"))
            parts.append(cast(query, db.Text))
        each = tuple(q for q in db.session.execute(select(*parts)).one() if q)
        if not each:
            return None
        return _Words(
            match=" & ".join(f"({q})" for q in each),
            any=" | ".join(f"({q})" for q in each),
            each=each,
        )

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
        # Statements here run in milliseconds; JIT compiling them would take longer.
        db.session.execute(text("SET LOCAL jit = off"))
        words = self._words_query(params.words) if params.words else None
        matched = T.c.tsv.op("@@")(_tsquery(words.match)) if words else true()
        cells = self._cube(matched)

        # Per cell, which active filters it passes; a facet's counts leave its own out.
        tests: dict[str, Any] = {
            key: (lambda cell, f=FACETS[key][0], vs=set(values): cell.values[f] in vs)
            for key, values in params.filters.items()
        }
        if params.category:
            tests["category"] = lambda cell, slug=params.category: slug in cell.path
        if params.rating:
            wanted = set(params.wanted_ratings)
            tests["rating"] = lambda cell: cell.values["rating_bucket"] in wanted
        passes = [{key: test(cell) for key, test in tests.items()} for cell in cells]

        def narrowed(skip: str | None) -> Iterator[_Cell]:
            for cell, passed in zip(cells, passes, strict=True):
                if all(ok for key, ok in passed.items() if key != skip):
                    yield cell

        chosen = list(narrowed(None))
        total = sum(cell.count for cell in chosen)
        counts = FacetCounts(values={}, ratings={}, categories={})
        for key, (fieldname, allowed) in FACETS.items():
            got = dict.fromkeys(allowed, 0)
            for cell in narrowed(key):
                if cell.values[fieldname] in got:
                    got[cell.values[fieldname]] += cell.count
            counts.values[key] = got
        counts.ratings = dict.fromkeys(RATING_BUCKETS, 0)
        for cell in narrowed("rating"):
            if cell.values["rating_bucket"] in counts.ratings:
                counts.ratings[cell.values["rating_bucket"]] += cell.count
        counts.categories = self._category_counts(narrowed("category"), params.category)

        page, pages, start, end = page_bounds(params, total)
        hits: list[Hit] = []
        if start < total:
            where = [matched]
            if tests:
                where.append(T.c.cell == any_(literal([c.id for c in chosen], ARRAY(Integer))))
            ids = self._order(params, words, and_(*where), start, end)
            cards = dict(
                db.session.execute(
                    select(SearchCard.product_id, SearchCard.card).where(
                        SearchCard.product_id.in_(ids)
                    )
                )
                .tuples()
                .all()
            )
            # A product deleted between the two reads is left out, not an error.
            hits = [
                Hit.from_card(cards[pid], start + i + 1)
                for i, pid in enumerate(ids)
                if pid in cards
            ]
        result = SearchResult(
            items=hits,
            page=page,
            pages=pages,
            total=total,
            params=params,
            facets=facet_values(params, counts),
        )
        if total == 0 and params.words:
            result.suggestion = self._suggest(params.words)
        return result

    def _cube(self, matched: ColumnElement[bool]) -> list[_Cell]:
        """The match's rows counted per cell, in one pass over the match."""
        counted = (
            select(T.c.cell, func.count().label("n")).where(matched).group_by(T.c.cell).subquery()
        )
        rows = db.session.execute(
            select(*_CUBE_COLUMNS, counted.c.n).join_from(C, counted, C.c.cell == counted.c.cell)
        ).tuples()
        return [
            _Cell(
                id=row[0],
                values=dict(zip(CELL_FIELDS, row[1:6], strict=True)),
                path=tuple(row[6]),
                count=row[7],
            )
            for row in rows
        ]

    def _order(
        self,
        params: SearchParams,
        words: _Words | None,
        where: ColumnElement[bool],
        start: int,
        end: int,
    ) -> list[int]:
        """The ids of results ``start`` to ``end`` in the order the search asks for."""
        tail = [T.c.popularity.desc(), T.c.product_id]
        if not (params.ranked and words):
            name = params.sort if params.sort in SORT_COLUMNS else "newest"
            column, descending = SORT_COLUMNS[name]
            order = [column.desc() if descending else column, *tail]
            return self._ids(where, order, params.per_page, start)
        weights = [FIELD_WEIGHTS["title"], FIELD_WEIGHTS["keywords"], FIELD_WEIGHTS["body"]]
        score = sum(
            case(
                (T.c.title_tsv.op("@@")(_tsquery(q)), weights[0]),
                (T.c.keywords_tsv.op("@@")(_tsquery(q)), weights[1]),
                else_=weights[2],
            )
            for q in words.each
        )
        if len(words.each) > LEVELLED_WORDS:
            return self._ids(where, [score.desc(), *tail], params.per_page, start)
        in_title = T.c.title_tsv.op("@@")(_tsquery(words.any))
        in_keywords = T.c.keywords_tsv.op("@@")(_tsquery(words.any))
        levels = [in_title, and_(not_(in_title), in_keywords), not_(in_title | in_keywords)]
        # One word scores the same everywhere in a level: popularity alone orders it, along
        # the popularity index.
        order = tail if len(words.each) == 1 else [score.desc(), *tail]
        ids: list[int] = []
        for level in levels:
            ids += self._ids(and_(where, level), order, end - len(ids), 0)
            if len(ids) >= end:
                break
        return ids[start:end]

    def _ids(self, where: ColumnElement[bool], order: list[Any], limit: int, offset: int):
        query = select(T.c.product_id).where(where).order_by(*order).limit(limit)
        return list(db.session.scalars(query.offset(offset) if offset else query))

    def _category_counts(
        self, cells: Iterable[_Cell], selected: str | None
    ) -> dict[str, tuple[str, int]]:
        counted: dict[str, int] = {}
        for cell in cells:
            for slug in cell.path:
                counted[slug] = counted.get(slug, 0) + cell.count
        if selected:
            counted.setdefault(selected, 0)
        slugs = sorted(counted, key=lambda s: -counted[s])[: CATEGORY_FACET_SIZE + 1]
        names = dict(
            db.session.execute(
                select(SearchCategory.slug, SearchCategory.name).where(
                    SearchCategory.slug.in_(slugs)
                )
            )
            .tuples()
            .all()
            if slugs
            else []
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
        cards = SearchCard.__table__
        me = db.session.execute(
            select(cards.c.words, C.c.category_path)
            .join(T, T.c.product_id == cards.c.product_id)
            .join(C, C.c.cell == T.c.cell)
            .where(cards.c.product_id == product_id)
        ).one_or_none()
        if me is None:
            return []
        words, path = me
        leaf = path[-1] if path else None
        distance = cards.c.words.op("<->", return_type=db.Float)(words)
        nearest = (
            select(cards.c.product_id, distance.label("distance"))
            .where(cards.c.product_id != product_id)
            .order_by(distance)
            .limit(limit * SIMILAR_CANDIDATES)
            .subquery()
        )
        same = literal(leaf) == any_(C.c.category_path) if leaf else literal(False)
        rows = db.session.execute(
            select(nearest.c.product_id, nearest.c.distance, cast(same, Integer), T.c.popularity)
            .join(T, T.c.product_id == nearest.c.product_id)
            .join(C, C.c.cell == T.c.cell)
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
