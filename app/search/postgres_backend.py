"""The production search backend: PostgreSQL full text in the app's own database.

Each product is a narrow row of ``search_documents``: its lexemes as stripped ``tsvector``s
under GIN indexes (every field's for matching; the title's and the keywords' apart, for
ranking), its sort columns under b-tree indexes, and its facet values as one ``cell``
number (a row of ``search_cells``). Rows are narrow because a broad word's facets are
counted over every row it matches: one ``GROUP BY cell`` over the match, and over those
per-cell counts, in the same statement, ``SUM(n) FILTER`` gives the total, each facet's
counts (leaving its own filter out), the categories' and the cells a filtered page may come
from. A page is then a few ids in the order asked for, and their cards from
``search_cards``. Did-you-mean and similar products use ``pg_trgm``.

Ranking mirrors the Whoosh backend's: a word scores its best field's weight (title 6,
keywords 3, description 1; no idf), ties go to popularity. With one or two words the match
splits into groups of equal score (both words in the title, one in the title and one in the
keywords, ...), read best first until the page is full; popularity orders each group, so a
broad one is read along the popularity index with a bounded walk (``_walk``).

Rows are written by the ``search`` queue's jobs in the same database, so no other server is
needed; read replicas scale it out.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
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
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
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
    to_keep,
)
from app.search.documents import RATING_BUCKETS
from app.search.models import SearchCard, SearchCategory, SearchCell, SearchDocument, SearchWord

CONFIG = "english"
BATCH = 1000
# Nearest neighbours fetched by trigram distance, then ordered by category and popularity.
SIMILAR_CANDIDATES = 3
# Up to this many words a match is read in groups of equal score (3 ** words of them);
# beyond, one query scores every match.
SCORED_WORDS = 2
_WORD = re.compile(r"\w+", re.UNICODE)
_ALNUM = re.compile(r"^[^\W_]+$", re.UNICODE)

T = SearchDocument.__table__
C = SearchCell.__table__
CELL_FIELDS = ("type", "price_type", "price_bucket", "complexity", "rating_bucket")
# Sort name -> (column, descending); each has its index (models.py).
SORT_COLUMNS = {
    "newest": ("published", True),
    "price_asc": ("price", False),
    "price_desc": ("price", True),
    "rating": ("rating", True),
    "popular": ("popularity", True),
}
# A document's columns and the values written to them; a row is rewritten only if one changed.
_VECTOR = f"strip(to_tsvector('{CONFIG}', {{}}))"
_DOCUMENT_VALUES = {
    "product_id": ":id",
    "cell": ":cell",
    "tsv": _VECTOR.format(":title || ' ' || :keywords || ' ' || :body"),
    "title_tsv": _VECTOR.format(":title"),
    "keywords_tsv": _VECTOR.format(":keywords"),
    "price": ":price",
    "rating": ":rating",
    "popularity": ":popularity",
    "published": ":published",
}
_UPDATED = [column for column in _DOCUMENT_VALUES if column != "product_id"]
_DOCUMENT = text(
    f"""
    INSERT INTO search_documents ({", ".join(_DOCUMENT_VALUES)})
    VALUES ({", ".join(_DOCUMENT_VALUES.values())})
    ON CONFLICT (product_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED)}
    WHERE ({", ".join(f"search_documents.{c}" for c in _UPDATED)})
        IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _UPDATED)})
    """  # noqa: S608 - the column names and the config are this module's constants
)
_CARD = text(
    """
    INSERT INTO search_cards (product_id, words, card) VALUES (:id, :words, CAST(:card AS json))
    ON CONFLICT (product_id) DO UPDATE SET words = EXCLUDED.words, card = EXCLUDED.card
    WHERE (search_cards.words, CAST(search_cards.card AS text))
        IS DISTINCT FROM (EXCLUDED.words, CAST(EXCLUDED.card AS text))
    """
)
# A rebuild's ids, so that the rows it did not write go at the end.
_KEPT = text("CREATE TEMPORARY TABLE search_rebuild_kept (product_id integer) ON COMMIT DROP")
_KEEP = text("INSERT INTO search_rebuild_kept (product_id) VALUES (:id)")
_UNKEPT = [
    text(
        "DELETE FROM search_documents t WHERE NOT EXISTS "
        "(SELECT 1 FROM search_rebuild_kept k WHERE k.product_id = t.product_id)"
    ),
    text(
        "DELETE FROM search_cards t WHERE NOT EXISTS "
        "(SELECT 1 FROM search_rebuild_kept k WHERE k.product_id = t.product_id)"
    ),
]
_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)
_BITMAPS_ONLY = text(
    "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)"
)
_ANY_PLAN = text(
    "SELECT set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'on', true)"
)
# Every cell with its facet values, the path as text (SQLAlchemy's ARRAY result processing
# takes longer than reading the table).
_CELL_COLUMNS = [
    C.c.cell,
    *(C.c[name] for name in CELL_FIELDS),
    func.array_to_string(C.c.category_path, " "),
]


@dataclass(frozen=True)
class _Words:
    """A query's searchable words as tsquery text, each one (the last with its prefix)."""

    each: tuple[str, ...]

    @property
    def match(self) -> str:
        """All of them."""
        return " & ".join(f"({q})" for q in self.each)


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
        """One transaction: readers see the old rows until the commit. Rows are written in
        place, and only where they changed (a rebuild that rewrote every row would leave
        the table twice its size, and every count scanning it slower); the products not
        written are deleted at the end. Cells stay: a number keeps its meaning."""
        for model in (SearchCategory, SearchWord):  # small: written again whole
            db.session.execute(delete(model))
        db.session.execute(_KEPT)
        count = self._write(documents, progress, kept=True)
        for statement in _UNKEPT:
            db.session.execute(statement)
        db.session.commit()
        self._forget()
        return count

    def _write(
        self,
        documents: Iterable[Document],
        progress: Progress | None = None,
        kept: bool = False,
    ) -> int:
        count = 0
        cells: dict[tuple[Any, ...], int] = {}  # known so far (a number keeps its meaning)
        for batch in _batches(documents, BATCH):
            if kept:
                db.session.execute(_KEEP, [{"id": d["id"]} for d in batch])
            keys = {_cell_key(d) for d in batch}
            if not keys <= cells.keys():
                cells = self._cells_for(keys - cells.keys())
            names = {slug: name for d in batch for slug, name in d["category_names"].items()}
            if names:  # sorted: concurrent writers lock rows in the same order
                # Rewritten only when renamed: every batch names the same few categories, and
                # each update would leave a dead row for every search's facet lookup to skip.
                upsert = insert(SearchCategory)
                db.session.execute(
                    upsert.values(
                        [{"slug": s, "name": names[s]} for s in sorted(names)]
                    ).on_conflict_do_update(
                        index_elements=["slug"],
                        set_={"name": upsert.excluded.name},
                        where=SearchCategory.name.is_distinct_from(upsert.excluded.name),
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
        """Every cell's number by its values, after adding ``keys`` (those not there yet)."""
        rows = [
            {**dict(zip(CELL_FIELDS, key[:-1], strict=True)), "category_path": list(key[-1])}
            for key in sorted(keys)
        ]
        db.session.execute(
            insert(SearchCell)
            .values(rows)
            .on_conflict_do_nothing(constraint="uq_search_cells_values")
        )
        known = db.session.execute(select(*_CELL_COLUMNS)).all()
        return {(*row[1:-1], tuple(row[-1].split())): row[0] for row in known}

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
        one also as a prefix while typing: the prefix alone when it is the same lexeme's
        (``'invoic':*`` covers ``'invoic'``; the planner, estimating ``a | a:*`` as two
        words, would guess twice the rows and scan the table where the index is faster).
        Words only reach PostgreSQL as bound values."""
        parts = [cast(func.plainto_tsquery(CONFIG, word), db.Text) for word in words]
        last = words[-1]
        typing = len(last) >= MIN_PREFIX and bool(_ALNUM.match(last))
        if typing:
            parts.append(cast(func.to_tsquery(CONFIG, f"{last}:*"), db.Text))
        found = list(db.session.execute(select(*parts)).one())
        prefix = found.pop() if typing else None
        if prefix:
            plain = found[-1]
            covered = not plain or prefix == f"{plain}:*"
            found[-1] = prefix if covered else f"({plain}) | {prefix}"
        each = tuple(q for q in found if q)
        if not each:
            return None
        return _Words(each)

    def search(self, params: SearchParams) -> SearchResult:
        if self._cache is None:
            return self._search(params)
        key = (params.cache_key(), params.per_page)
        with self._lock:
            result = self._cache.get(key)
        if result is None:
            result = to_keep(self._search(params))
            with self._lock:
                self._cache[key] = result
        return result  # shared between threads: read, never changed, by its users

    def _search(self, params: SearchParams) -> SearchResult:
        # For this transaction: no JIT (compiling would take longer than these statements
        # run), and a plan per query, never a prepared statement's generic one: how many rows
        # a query's words match decides between walking an index and scanning the table.
        db.session.execute(_SETTINGS)
        words = self._words_query(params.words) if params.words else None

        def matched(c: Any) -> ColumnElement[bool]:
            return c.tsv.op("@@")(_tsquery(words.match)) if words else true()

        total, chosen, counts = _count(matched(T.c), params)
        page, pages, start, end = page_bounds(params, total)
        hits: list[Hit] = []
        if start < total:
            narrowed = bool(params.active_filters())
            wanted = literal(chosen, ARRAY(Integer))

            def cells(c: Any) -> ColumnElement[bool]:
                return c.cell == any_(wanted) if narrowed else true()

            def where(c: Any) -> ColumnElement[bool]:
                return and_(matched(c), cells(c))  # (and_ drops a true())

            ids = self._order(params, words, where, cells, start, end, total)
            cards = _lookup(SearchCard.product_id, SearchCard.card, ids)
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

    def _order(
        self,
        params: SearchParams,
        words: _Words | None,
        where: Where,
        cells: Where,
        start: int,
        end: int,
        total: int,
    ) -> list[int]:
        """The ids of results ``start`` to ``end`` (of ``total``) in the order asked for:
        those passing ``where`` (the words and the filters), ``cells`` being the filters."""
        if not (params.ranked and words):
            name = params.sort if params.sort in SORT_COLUMNS else "newest"
            keys = [SORT_COLUMNS[name], *TIES]
            return _walk(where, keys, start, end - start, words is not None, total)
        groups = _score_groups(words.each)
        if groups is None:  # too many words to list their score groups: score every match
            score = sum(
                case(
                    (T.c.title_tsv.op("@@")(_tsquery(q)), FIELD_WEIGHTS["title"]),
                    (T.c.keywords_tsv.op("@@")(_tsquery(q)), FIELD_WEIGHTS["keywords"]),
                    else_=FIELD_WEIGHTS["body"],
                )
                for q in words.each
            )
            order = [score.desc(), *(_key_of(key)(T.c) for key in TIES)]
            query = select(T.c.product_id).where(where(T.c)).order_by(*order)
            return list(db.session.scalars(query.offset(start).limit(end - start)))
        # Every row of a group scores the same: popularity orders it. A group with each word
        # in the title or the keywords matches the whole text too: only the filters are added
        # (the whole text's index, read as well, would cost more than the group's own).
        ids: list[int] = []
        for group, in_fields in groups:
            in_group = functools.partial(_both, cells if in_fields else where, group)
            ids += _walk(in_group, TIES, 0, end - len(ids), True, total)
            if len(ids) >= end:
                break
        return ids[start:end]

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


Where = Callable[[Any], ColumnElement[bool]]  # a condition over a table's or subquery's columns
# Ties in every order: the more popular first, then the lower id.
TIES = [("popularity", True), ("product_id", False)]
# A walk along an order's index reads at most this many rows per result wanted before it
# gives up: below that density, reading the rows that pass and sorting them is cheaper (and
# a walk over rows rarer than estimated, or absent, would read the whole index).
WALK_ROWS_PER_RESULT = 500
# Then this many rows that pass are read through the match's indexes and sorted, before
# concluding there are more and reading them all.
FEW_ROWS = 10000


def _key_of(key: tuple[str, bool]) -> Callable[[Any], Any]:
    """(column name, descending) as an order-by clause over a table's or subquery's columns."""
    name, descending = key
    return lambda columns: columns[name].desc() if descending else columns[name]


def _walk(
    where: Where,
    keys: list[tuple[str, bool]],
    offset: int,
    limit: int,
    worded: bool,
    most: int,
) -> list[int]:
    """Ids of rows ``offset`` to ``offset + limit`` that pass ``where`` (``most`` of them at
    most), ordered by ``keys``.

    Three reads, each only when the one before cannot answer. Along the order's index, over
    its first rows only: if enough of them pass, nothing later in the order can come before
    them (skipped when at most FEW_ROWS can pass). Then up to FEW_ROWS of the rows that
    pass, through the match's indexes (when the query has words), sorted: enough when they
    are all there is. Then every row that passes, sorted."""
    if limit <= 0:
        return []
    order = [_key_of(key) for key in keys]
    few = max(FEW_ROWS, offset + limit)
    if most > few:
        found = _walk_head(where, order, offset, limit)
        if len(found) == limit:
            return found
    if worded or most <= few:
        first = select(T).where(where(T.c)).limit(few + 1).subquery()
        # Through the match's GIN indexes: asked for a few rows, the planner would rather
        # scan the table, and read all of it when they are rarer than it estimates (a
        # prefix's always are to it).
        # (Transaction-local: a failing statement rolls the setting back with it.)
        if worded:
            db.session.execute(_BITMAPS_ONLY)
        rows = db.session.execute(
            select(first.c.product_id, func.count().over())
            .order_by(*(o(first.c) for o in order))
            .offset(offset)
            .limit(limit)
        ).all()
        if worded:
            db.session.execute(_ANY_PLAN)
        if not rows or rows[0][1] <= few:  # none: fewer pass than offset, so all were read
            return [row[0] for row in rows]
    # OFFSET 0 keeps the planner from walking the order's index after all.
    every = select(T).where(where(T.c)).offset(0).subquery()
    return list(
        db.session.scalars(
            select(every.c.product_id)
            .order_by(*(o(every.c) for o in order))
            .offset(offset)
            .limit(limit)
        )
    )


def _both(first: Where, second: Where, columns: Any) -> ColumnElement[bool]:
    return and_(first(columns), second(columns))


def _walk_head(where: Where, order: list[Any], offset: int, limit: int) -> list[int]:
    """The walk along the order's index, over its first rows only."""
    head = (
        select(T)
        .order_by(*(o(T.c) for o in order))
        .limit((offset + limit) * WALK_ROWS_PER_RESULT)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(head.c.product_id)
            .where(where(head.c))
            .order_by(*(o(head.c) for o in order))
            .offset(offset)
            .limit(limit)
        )
    )


def _score_groups(each: tuple[str, ...]) -> list[tuple[Where, bool]] | None:
    """Conditions splitting a match into rows of equal score, best first (None beyond
    SCORED_WORDS words), each with whether it puts every word in the title or keywords (so
    implies the match: ``tsv`` holds their lexemes too). A word scores its best field:
    title, else keywords, else body."""
    if len(each) > SCORED_WORDS:
        return None

    def tier(c: Any, query: str, field: str) -> ColumnElement[bool]:
        title = c.title_tsv.op("@@")(_tsquery(query))
        keywords = c.keywords_tsv.op("@@")(_tsquery(query))
        if field == "title":
            return title
        if field == "keywords":
            return and_(not_(title), keywords)
        return and_(not_(title), not_(keywords))

    by_score: dict[float, list[tuple[str, ...]]] = {}
    for fields in itertools.product(FIELD_WEIGHTS, repeat=len(each)):
        by_score.setdefault(sum(FIELD_WEIGHTS[f] for f in fields), []).append(fields)
    return [
        (
            lambda c, combos=by_score[score]: or_(
                *(
                    and_(*(tier(c, q, f) for q, f in zip(each, fields, strict=True)))
                    for fields in combos
                )
            ),
            all("body" not in fields for fields in by_score[score]),
        )
        for score in sorted(by_score, reverse=True)
    ]


def _count(
    matched: ColumnElement[bool], params: SearchParams
) -> tuple[int, list[int], FacetCounts]:
    """One pass over the match, counted per cell; from those counts, in the same statement:
    the total with every filter, the cells a page may come from, each facet's counts with
    every filter but its own (``SUM(n) FILTER``), and the categories' counts."""
    counted = (
        select(T.c.cell, cast(func.count(), Integer).label("n"))
        .where(matched)
        .group_by(T.c.cell)
        .subquery()
    )
    cube = select(C, counted.c.n).join_from(C, counted, C.c.cell == counted.c.cell).cte("cube")
    passes: dict[str, ColumnElement[bool]] = {
        key: cube.c[FACETS[key][0]].in_(values) for key, values in params.filters.items()
    }
    if params.category:
        passes["category"] = literal(params.category) == any_(cube.c.category_path)
    if params.rating:
        passes["rating"] = cube.c.rating_bucket.in_(params.wanted_ratings)

    def others(skip: str | None) -> ColumnElement[bool]:
        return and_(true(), *(cond for key, cond in passes.items() if key != skip))

    labels: list[tuple[str, str]] = []
    sums = [func.sum(cube.c.n).filter(others(None))]
    for key, (field, allowed) in FACETS.items():
        for value in allowed:
            labels.append((key, value))
            sums.append(func.sum(cube.c.n).filter(and_(others(key), cube.c[field] == value)))
    for bucket in RATING_BUCKETS:
        labels.append(("rating", bucket))
        sums.append(
            func.sum(cube.c.n).filter(and_(others("rating"), cube.c.rating_bucket == bucket))
        )
    slug = func.unnest(cube.c.category_path).table_valued("slug").render_derived("slugs")
    per_category = (
        select(slug.c.slug, func.sum(cube.c.n).label("n"))
        .select_from(cube)
        .join(slug, true())
        .where(others("category"))
        .group_by(slug.c.slug)
        .order_by(func.sum(cube.c.n).desc(), slug.c.slug)
        .limit(CATEGORY_FACET_SIZE + 1)
        .subquery()
    )
    categories = (
        select(
            func.json_agg(
                func.json_build_array(per_category.c.slug, SearchCategory.name, per_category.c.n)
            )
        )
        .select_from(per_category)
        .join(SearchCategory, SearchCategory.slug == per_category.c.slug)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            select(postgresql.array(sums)).select_from(cube).scalar_subquery(),
            select(func.array_agg(cube.c.cell).filter(others(None)))
            .select_from(cube)
            .scalar_subquery(),
            categories,
        )
    ).one()
    totals, chosen, named = row
    counts = FacetCounts(values={key: {} for key in FACETS}, ratings={}, categories={})
    for (key, value), n in zip(labels, totals[1:], strict=True):
        (counts.ratings if key == "rating" else counts.values[key])[value] = n or 0
    counts.categories = {slug: (name, n) for slug, name, n in named or []}
    selected = params.category
    if selected and selected not in counts.categories:
        names = _lookup(SearchCategory.slug, SearchCategory.name, [selected])
        if selected in names and len(counts.categories) <= CATEGORY_FACET_SIZE:
            counts.categories[selected] = (names[selected], 0)
    return totals[0] or 0, chosen or [], counts


def _lookup(key: Any, value: Any, keys: list[Any]) -> dict[Any, Any]:
    """``value`` by ``key`` for these keys (those found)."""
    if not keys:
        return {}
    return dict(db.session.execute(select(key, value).where(key.in_(keys))).tuples().all())


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
