"""The embedded search backend: a Whoosh index in a folder, read through Whoosh's public API.

Matching, facets and ranking are set algebra over each term's documents (``docs_for_query``
on a ``Term``), kept per index generation in one locked LRU: Whoosh's own scored search
with ``groupedby`` facets takes 1.4 s for a common word at 100k products, the sets answer in
milliseconds once read. A word scores its best field's weight times its idf (a title hit
outranks a body hit); ties go to popularity.

Generations: the configured path is a symlink to the current generation folder; a rebuild
writes a new folder with one process (no writer children to outlive a killed parent), marks
it complete, swaps the symlink and removes older folders. A rebuild holds a file lock, so a
folder without the mark that nobody holds the lock for is a killed rebuild's, and goes.
"""

from __future__ import annotations

import fcntl
import gc
import heapq
import logging
import math
import os
import secrets
import shutil
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cachetools import LRUCache
from whoosh import index as whoosh_index
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.query import Term
from whoosh.searching import Searcher

from app.search.backend import (
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

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEX_NAME = "products"
GENERATION_MARK = ".gen-"
COMPLETE_MARK = ".complete"
# As-you-type: an unfinished last word matches title and tag words it begins.
PREFIX_WEIGHT = 2.0
MAX_PREFIX_TERMS = 50
# The LRU holds document numbers, counted one per element: about 60 MB a million.
CACHE_ELEMENTS = 4_000_000
SIMILAR_WORDS = 8
SORT_COLUMNS = {
    "newest": ("published", True),
    "price_asc": ("price", False),
    "price_desc": ("price", True),
    "rating": ("rating", True),
    "popular": ("popularity", True),
}


def build_schema() -> Schema:
    stem = StemmingAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=stem, phrase=False),
        keywords=TEXT(analyzer=stem, phrase=False),
        body=TEXT(analyzer=stem, phrase=False),
        words=TEXT(analyzer=StandardAnalyzer(stoplist=None), phrase=False, stored=True),
        type=ID(),
        category_path=KEYWORD(commas=True),
        category_names=STORED(),
        price_type=ID(),
        price_bucket=ID(),
        complexity=ID(),
        rating_bucket=ID(),
        price=NUMERIC(int, bits=64, sortable=True),
        rating=NUMERIC(int, bits=32, sortable=True),
        popularity=NUMERIC(int, bits=64, sortable=True),
        published=NUMERIC(int, bits=64, sortable=True),
        card=STORED(),
    )


def whoosh_document(document: Document) -> dict[str, Any]:
    fields = {name: document[name] for name in build_schema().names() if name in document}
    fields["id"] = str(document["id"])
    fields["category_path"] = ",".join(document["category_path"])
    return fields


def open_index(path: Path) -> Any:
    """Open the current generation; raise IndexUnavailable when missing or unreadable."""
    if not path.exists():
        raise IndexUnavailable(f"no search index at {path}")
    message = None
    # Whoosh leaves a garbage file open when it fails on it; let it close quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = whoosh_index.open_dir(str(path), indexname=INDEX_NAME)
        except Exception as exc:  # noqa: BLE001 - garbage files raise any kind; all mean "rebuild"
            message = f"search index unreadable: {type(exc).__name__}: {exc}"
            del exc
            gc.collect()
    if message is not None:
        raise IndexUnavailable(message)
    if set(ix.schema.names()) != set(build_schema().names()):
        ix.close()
        raise IndexUnavailable("the index was built with another schema")
    return ix


@dataclass
class _Open:
    target: str
    ix: Any
    searcher: Searcher
    checked: float
    cache: LRUCache = field(default_factory=lambda: LRUCache(CACHE_ELEMENTS, getsizeof=_elements))


def _elements(value: Any) -> int:
    return len(value) + 1 if hasattr(value, "__len__") else 1


class WhooshBackend:
    """Whoosh in ``index_dir``; one open searcher per process, refreshed after a write."""

    name = "whoosh"

    def __init__(self, index_dir: str | Path, refresh_seconds: float = 0.0):
        self.path = Path(index_dir)
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()  # the open searcher and its cache
        self._read_lock = threading.Lock()  # Whoosh readers are not made for threads
        self._open: _Open | None = None

    # -- writing ---------------------------------------------------------------------------

    def index(self, documents: Iterable[Document]) -> None:
        with self._writer() as writer:
            for document in documents:
                writer.update_document(**whoosh_document(document))

    def delete(self, product_ids: Iterable[int]) -> None:
        with self._writer() as writer:
            for product_id in product_ids:
                writer.delete_by_term("id", str(product_id))

    def rebuild(self, documents: Iterable[Document], progress: Progress | None = None) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._rebuild_lock():
            self._remove_generations(keep=self._current_target())
            generation = (
                self.path.parent / f"{self.path.name}{GENERATION_MARK}{secrets.token_hex(6)}"
            )
            generation.mkdir()
            count = 0
            try:
                ix = whoosh_index.create_in(str(generation), build_schema(), indexname=INDEX_NAME)
                try:
                    # One process: procs= would fork writers that outlive a killed parent.
                    writer = ix.writer(limitmb=128)
                    try:
                        for document in documents:
                            writer.add_document(**whoosh_document(document))
                            count += 1
                            if progress is not None:
                                progress(1)
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit()
                finally:
                    ix.close()
                (generation / COMPLETE_MARK).touch()
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
            previous = self._current_target()
            self._swap_in(generation)
            # Readers elsewhere may still hold the previous generation open.
            self._remove_generations(keep=previous, also=generation.resolve())
        self._forget_searcher()
        return count

    @contextmanager
    def _writer(self) -> Iterator[Any]:
        ix = open_index(self.path)
        try:
            writer = ix.writer(timeout=30)
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        finally:
            ix.close()
        with self._lock:  # this process sees its own write at once
            if self._open is not None:
                self._open.checked = float("-inf")

    @contextmanager
    def _rebuild_lock(self) -> Iterator[None]:
        lock_path = self.path.parent / f".{self.path.name}.rebuild-lock"
        with open(lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel if we are killed
            yield

    def _current_target(self) -> Path | None:
        return self.path.resolve() if self.path.is_symlink() else None

    def _remove_generations(self, keep: Path | None, also: Path | None = None) -> None:
        """Remove generation folders but ``keep`` and ``also``: half-written ones (a killed
        rebuild's, never marked complete) and complete ones older than those kept."""
        for folder in self.path.parent.glob(f"{self.path.name}{GENERATION_MARK}*"):
            if folder.resolve() not in (keep, also):
                shutil.rmtree(folder, ignore_errors=True)

    def _swap_in(self, generation: Path) -> None:
        """Point the configured path at ``generation`` atomically (a symlink rename)."""
        if self.path.exists() and not self.path.is_symlink():
            # A real folder (junk, or a hand-made index): move it aside and remove it.
            aside = self.path.parent / f"{self.path.name}.old-{secrets.token_hex(4)}"
            self.path.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
        tmp = self.path.parent / f".{self.path.name}.swap-{secrets.token_hex(4)}"
        os.symlink(generation.name, tmp)
        os.replace(tmp, self.path)

    # -- reading ---------------------------------------------------------------------------

    def check(self) -> None:
        self._current()

    def close(self) -> None:
        """Close the open searcher (tests, shutdown)."""
        self._forget_searcher()

    def _forget_searcher(self) -> None:
        with self._lock:
            entry, self._open = self._open, None
        if entry is not None:
            with self._read_lock:
                entry.searcher.close()
                entry.ix.close()

    def _current(self) -> _Open:
        """The open generation, reopened when the index changed; raises IndexUnavailable.

        Looking (a symlink and the segment list) costs system calls, so for
        ``refresh_seconds`` after a look the open searcher is trusted as it is: another
        process's write shows up at most that much later (this process's own at once)."""
        now = time.monotonic()
        with self._lock:
            entry = self._open
            if entry is not None and now - entry.checked < self.refresh_seconds:
                return entry
            target = os.path.realpath(self.path)
            if entry is not None and entry.target == target and os.path.isdir(target):
                with self._read_lock:
                    current = entry.searcher.up_to_date()
                if current:
                    entry.checked = now
                    return entry
            if entry is not None:
                self._open = None
                with self._read_lock:
                    entry.searcher.close()
                    entry.ix.close()
            ix = open_index(self.path)
            self._open = _Open(target=target, ix=ix, searcher=ix.searcher(), checked=now)
            return self._open

    def _cached(self, entry: _Open, key: tuple, build: Callable[[], T]) -> T:
        """``build()`` kept in the generation's LRU (built outside the lock: a racing
        thread may build the same value twice, which is harmless)."""
        with self._lock:
            value = entry.cache.get(key)
        if value is None:
            value = build()
            with self._lock:
                entry.cache[key] = value
        return value

    def _term_docs(self, entry: _Open, fieldname: str, text: str) -> frozenset[int]:
        def build() -> frozenset[int]:
            with self._read_lock:
                return frozenset(entry.searcher.docs_for_query(Term(fieldname, text)))

        return self._cached(entry, ("term", fieldname, text), build)

    def _word_docs(self, entry: _Open, fieldname: str, word: str) -> frozenset[int] | None:
        """The documents whose ``fieldname`` holds ``word`` as that field analyses it; None
        when the word analyses to nothing there (a stop word narrows nothing)."""
        # The searcher's schema: the index's own (ix.schema) reads the table of contents from
        # disk at every access, three or four times per word of a cold query.
        field_ = entry.searcher.schema[fieldname]
        tokens = list(dict.fromkeys(field_.process_text(word, mode="query")))
        if not tokens:
            return None
        docs: frozenset[int] = frozenset()
        for token in tokens:
            docs |= self._term_docs(entry, fieldname, token)
        return docs

    def _all_docs(self, entry: _Open) -> frozenset[int]:
        def build() -> frozenset[int]:
            with self._read_lock:
                return frozenset(entry.searcher.reader().all_doc_ids())

        return self._cached(entry, ("all",), build)

    def _column(self, entry: _Open, fieldname: str) -> list[int]:
        """A numeric column's sort keys by document number: Whoosh's sortable form (the value
        shifted into unsigned range, so in the same order), only ever compared. Untranslated,
        a cold sort reads a 10k-product column in 5 ms instead of 11."""

        def build() -> list[int]:
            with self._read_lock:
                return list(entry.searcher.reader().column_reader(fieldname, translate=False))

        return self._cached(entry, ("column", fieldname), build)

    def _values(self, entry: _Open, fieldname: str) -> list[str]:
        def build() -> list[str]:
            with self._read_lock:
                return [
                    v.decode("utf-8") if isinstance(v, bytes) else v
                    for v in entry.searcher.reader().lexicon(fieldname)
                ]

        return self._cached(entry, ("lexicon", fieldname), build)

    def _stored(self, entry: _Open, docnum: int) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            with self._read_lock:
                return entry.searcher.stored_fields(docnum)

        return self._cached(entry, ("stored", docnum), build)

    def _category_names(self, entry: _Open) -> dict[str, str]:
        def build() -> dict[str, str]:
            names: dict[str, str] = {}
            for slug in self._values(entry, "category_path"):
                docs = self._term_docs(entry, "category_path", slug)
                if docs:
                    stored = self._stored(entry, next(iter(docs)))
                    names[slug] = (stored.get("category_names") or {}).get(slug, slug)
            return names

        return self._cached(entry, ("category-names",), build)

    def search(self, params: SearchParams) -> SearchResult:
        """Answers are kept as data in the generation's LRU: shared between threads, read
        and never changed by their users."""
        entry = self._current()
        key = ("result", params.cache_key(), params.per_page)
        return self._cached(entry, key, lambda: to_keep(self._search(entry, params)))

    def _search(self, entry: _Open, params: SearchParams) -> SearchResult:
        everything = self._all_docs(entry)
        per_word = self._match(entry, params.words)
        matched = everything
        for union, _fields in per_word:
            matched = matched & union

        # One document set per active filter group; a facet's counts leave its own group out.
        groups: dict[str, frozenset[int]] = {}
        for key, values in params.filters.items():
            groups[key] = self._union(entry, FACETS[key][0], values)
        if params.category:
            groups["category"] = self._term_docs(entry, "category_path", params.category)
        if params.rating:
            groups["rating"] = self._union(entry, "rating_bucket", params.wanted_ratings)

        def narrowed(skip: str | None) -> frozenset[int]:
            docs = matched
            for key, members in sorted(groups.items(), key=lambda kv: len(kv[1])):
                if key != skip:
                    docs = docs & members
            return docs

        final = narrowed(None)
        page, pages, start, end = page_bounds(params, len(final))
        docnums = self._order(entry, params, per_word, final, end)[start:end]
        hits = [
            Hit.from_card(self._stored(entry, d)["card"], start + i + 1)
            for i, d in enumerate(docnums)
        ]
        counts = FacetCounts(values={}, ratings={}, categories={})
        for key, (fieldname, allowed) in FACETS.items():
            base = narrowed(key)
            counts.values[key] = {
                value: len(base & self._term_docs(entry, fieldname, value)) for value in allowed
            }
        base = narrowed("rating")
        counts.ratings = {
            b: len(base & self._term_docs(entry, "rating_bucket", b)) for b in RATING_BUCKETS
        }
        base = narrowed("category")
        counts.categories = {
            slug: (name, len(base & self._term_docs(entry, "category_path", slug)))
            for slug, name in self._category_names(entry).items()
        }
        result = SearchResult(
            items=hits,
            page=page,
            pages=pages,
            total=len(final),
            params=params,
            facets=facet_values(params, counts),
        )
        if not final and params.words:
            result.suggestion = self._suggest(entry, params.words)
        return result

    def _match(
        self, entry: _Open, words: tuple[str, ...]
    ) -> list[tuple[frozenset[int], list[tuple[float, frozenset[int]]]]]:
        """Per searchable word: (documents matching it anywhere, [(weight, documents)] per
        field, best weight first). Words no field analyses (stop words) are left out."""
        per_word = []
        for position, word in enumerate(words):
            fields: list[tuple[float, frozenset[int]]] = []
            analysable = False
            for name, weight in FIELD_WEIGHTS.items():
                docs = self._word_docs(entry, name, word)
                analysable = analysable or docs is not None
                if docs:
                    fields.append((weight, docs))
            if not analysable:
                continue
            if position == len(words) - 1 and len(word) >= MIN_PREFIX:
                docs = self._prefix_docs(entry, word)
                if docs:
                    fields.append((PREFIX_WEIGHT, docs))
            fields.sort(key=lambda pair: -pair[0])
            union: frozenset[int] = frozenset().union(*(docs for _w, docs in fields))
            per_word.append((union, fields))
        return per_word

    def _prefix_docs(self, entry: _Open, prefix: str) -> frozenset[int]:
        def build() -> frozenset[int]:
            with self._read_lock:
                terms = []
                for term in entry.searcher.reader().expand_prefix("words", prefix):
                    terms.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                    if len(terms) == MAX_PREFIX_TERMS:
                        break
            docs: frozenset[int] = frozenset()
            for term in terms:
                docs |= self._term_docs(entry, "words", term)
            return docs

        return self._cached(entry, ("prefix", prefix), build)

    def _union(self, entry: _Open, fieldname: str, values: Iterable[str]) -> frozenset[int]:
        docs: frozenset[int] = frozenset()
        for value in values:
            docs |= self._term_docs(entry, fieldname, value)
        return docs

    def _order(
        self,
        entry: _Open,
        params: SearchParams,
        per_word: list[tuple[frozenset[int], list[tuple[float, frozenset[int]]]]],
        docs: frozenset[int],
        end: int,
    ) -> list[int]:
        """The first ``end`` of ``docs`` in the order the search asks for."""
        if not docs:
            return []
        popularity = self._column(entry, "popularity")
        if params.ranked and per_word:
            total = max(1, len(self._all_docs(entry)))
            scores = dict.fromkeys(docs, 0.0)
            for union, fields in per_word:
                idf = math.log(1 + total / (1 + len(union)))
                remaining = docs
                for weight, field_docs in fields:  # each document scores its best field
                    hit = remaining & field_docs
                    for docnum in hit:
                        scores[docnum] += weight * idf
                    remaining = remaining - hit
                    if not remaining:
                        break
            return heapq.nlargest(end, docs, key=lambda d: (scores[d], popularity[d], -d))
        name, descending = SORT_COLUMNS.get(params.sort, SORT_COLUMNS["newest"])
        column = self._column(entry, name)
        if descending:
            return heapq.nlargest(end, docs, key=lambda d: (column[d], popularity[d], -d))
        return heapq.nsmallest(end, docs, key=lambda d: (column[d], -popularity[d], d))

    def _suggest(self, entry: _Open, words: Iterable[str]) -> str | None:
        """A corrected query from title and tag words, or None when nothing better is known."""
        corrected, changed = [], False
        with self._read_lock:
            reader = entry.searcher.reader()
            corrector = entry.searcher.corrector("words")
            for word in words:
                if len(word) < 3 or reader.frequency("words", word) > 0:
                    corrected.append(word)
                    continue
                options = corrector.suggest(word, limit=1, maxdist=2)
                corrected.append(options[0] if options else word)
                changed = changed or bool(options)
        return " ".join(corrected) if changed else None

    def similar_ids(self, product_id: int, limit: int) -> list[int]:
        """Products sharing the most of its (up to SIMILAR_WORDS rarest) title and tag words,
        the same category then popularity breaking ties; drawn from the whole catalog."""
        entry = self._current()
        with self._read_lock:
            docnum = entry.searcher.document_number(id=str(product_id))
        if docnum is None:
            return []
        stored = self._stored(entry, docnum)
        analyzer = entry.searcher.schema["words"].analyzer
        words = list(dict.fromkeys(t.text for t in analyzer(stored.get("words") or "")))
        sets = sorted((self._term_docs(entry, "words", w) for w in words), key=len)
        shared: Counter[int] = Counter()
        for docs in sets[:SIMILAR_WORDS]:  # the rarest words say the most
            shared.update(docs)  # counted in C: a common word's set is a tenth of the catalog
        shared.pop(docnum, None)
        if not shared:
            return []
        # Everyone sharing as many words as the limit-th best, then the ties broken.
        floor = heapq.nlargest(limit, shared.values())[-1]
        pool = [d for d, count in shared.items() if count >= floor]
        path = self._path_of(entry, docnum)
        category = self._term_docs(entry, "category_path", path[-1]) if path else frozenset()
        popularity = self._column(entry, "popularity")
        best = heapq.nlargest(
            limit, pool, key=lambda d: (shared[d], d in category, popularity[d], -d)
        )
        return [int(self._stored(entry, d)["id"]) for d in best]

    def _path_of(self, entry: _Open, docnum: int) -> list[str]:
        names = self._stored(entry, docnum).get("category_names") or {}
        return list(names)
