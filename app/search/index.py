"""The Whoosh index: schema, open or build a generation, atomic swap, the writer, the searcher."""

from __future__ import annotations

import gc
import logging
import os
import secrets
import shutil
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.searching import Searcher

log = logging.getLogger(__name__)

INDEX_NAME = "products"
# Generations live beside the configured path, which is a symlink to the current one.
GENERATION_MARK = ".gen-"


class IndexUnavailable(RuntimeError):
    """The index is missing or unreadable; it must be rebuilt."""


def build_schema() -> Schema:
    stem = StemmingAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        slug=STORED(),
        # Matched fields (weighted at query time by services.FIELD_WEIGHTS).
        title=TEXT(analyzer=stem, stored=True),
        summary=TEXT(analyzer=stem, stored=True),
        description=TEXT(analyzer=stem),
        tags=TEXT(analyzer=stem),
        category=TEXT(analyzer=stem),
        vendor=TEXT(analyzer=stem),
        nodes=TEXT(analyzer=stem),
        services=TEXT(analyzer=stem),
        # Unstemmed title and tag words: the dictionary for "did you mean".
        words=TEXT(analyzer=StandardAnalyzer(stoplist=None), spelling=True, phrase=False),
        # Facets and filters.
        type=ID(stored=True, sortable=True),
        category_path=KEYWORD(commas=True),
        category_slug=ID(stored=True),
        category_name=STORED(),
        category_trail=STORED(),
        vendor_slug=ID(stored=True),
        vendor_name=STORED(),
        price_type=ID(stored=True, sortable=True),
        price_bucket=ID(sortable=True),
        complexity=ID(stored=True, sortable=True),
        rating_bucket=ID(sortable=True),
        tag_names=STORED(),
        currency=STORED(),
        # Sorts.
        price=NUMERIC(int, bits=64, stored=True, sortable=True),
        # The Bayesian mean x 1000: Whoosh's float columns cannot be sorted reliably.
        rating=NUMERIC(int, bits=32, stored=True, sortable=True),
        rating_avg=STORED(),
        rating_count=NUMERIC(int, stored=True),
        popularity=NUMERIC(int, bits=64, stored=True, sortable=True),
        published=NUMERIC(int, bits=64, stored=True, sortable=True),
    )


def configured_path() -> Path:
    return Path(current_app.config["APP_CONFIG"].search_index_dir)


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
        except Exception as exc:  # whoosh raises many kinds on garbage files
            message = f"search index unreadable: {type(exc).__name__}: {exc}"
            del exc
            gc.collect()
    if message is not None:
        raise IndexUnavailable(message)
    if set(ix.schema.names()) != set(build_schema().names()):
        ix.close()
        raise IndexUnavailable("the index was built with another schema")
    return ix


def new_generation(path: Path) -> tuple[Path, Any]:
    """Create an empty index in a fresh sibling directory of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    gen = path.parent / f"{path.name}{GENERATION_MARK}{secrets.token_hex(6)}"
    gen.mkdir()
    return gen, whoosh_index.create_in(str(gen), build_schema(), indexname=INDEX_NAME)


def swap_in(path: Path, generation: Path) -> None:
    """Point ``path`` at ``generation`` atomically (symlink rename); drop older generations."""
    previous = path.resolve() if path.is_symlink() else None
    if path.exists() and not path.is_symlink():
        # A real directory (first run, or junk): move it aside, the swap below replaces it.
        aside = path.parent / f"{path.name}.old-{secrets.token_hex(4)}"
        path.rename(aside)
        shutil.rmtree(aside, ignore_errors=True)
    tmp = path.parent / f".{path.name}.swap-{secrets.token_hex(4)}"
    os.symlink(generation.name, tmp)
    os.replace(tmp, path)
    # Keep the generation readers may still hold open; remove anything older.
    keep = {generation.resolve(), previous}
    for old in path.parent.glob(f"{path.name}{GENERATION_MARK}*"):
        if old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)


def write_generation(
    path: Path, documents: Iterable[Mapping[str, Any]], large: bool = False
) -> int:
    """Build a new generation from ``documents``, swap it in and return how many were written."""
    generation, ix = new_generation(path)
    options: dict[str, Any] = {"limitmb": 256}
    if large and (os.cpu_count() or 1) > 1:
        options.update(procs=min(4, os.cpu_count() or 1), multisegment=True)
    count = 0
    try:
        writer = ix.writer(**options)
        try:
            for document in documents:
                writer.add_document(**document)
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    finally:
        ix.close()
    swap_in(path, generation)
    reset_searchers()
    return count


@contextmanager
def writer(path: Path):
    """The one writer of the live index (the ``search`` queue); commits on success."""
    ix = open_index(path)
    try:
        w = ix.writer(timeout=30)
        try:
            yield w
        except BaseException:
            w.cancel()
            raise
        w.commit()
    finally:
        ix.close()
    _recheck_searchers()  # this process sees its own write at once


@dataclass
class _Open:
    target: str
    ix: Any
    searcher: Searcher
    cache: dict[str, Any] = field(default_factory=dict)
    checked: float = field(default_factory=time.monotonic)


_lock = threading.Lock()
_open: dict[str, _Open] = {}


def reset_searchers() -> None:
    """Forget this process's open searchers (after a rebuild or in tests)."""
    with _lock:
        for entry in _open.values():
            _close(entry)
        _open.clear()


def _recheck_searchers() -> None:
    """Make the next current_searcher() look at the disk, however recent its last look."""
    with _lock:
        for entry in _open.values():
            entry.checked = float("-inf")


def _close(entry: _Open) -> None:
    try:
        entry.searcher.close()
        entry.ix.close()
    except Exception:  # noqa: BLE001 - closing a broken index must not mask the real error
        log.debug("closing a searcher failed", exc_info=True)


def current_searcher(path: Path, max_age: float = 0.0) -> tuple[Searcher, dict[str, Any]]:
    """A shared searcher on the current generation, refreshed when the index changed.

    Looking (a symlink and the segment list on disk) costs a few system calls, so within
    ``max_age`` seconds of its last look the open searcher is trusted as it is: another
    process's index write shows up at most that much later (this process's own at once).
    Returns the searcher and a cache dict tied to it (facet doc sets, sort columns).
    Raises IndexUnavailable.
    """
    key = str(path)
    now = time.monotonic()
    with _lock:
        entry = _open.get(key)
        if entry is not None and now - entry.checked < max_age:
            return entry.searcher, entry.cache
        target = os.path.realpath(path)
        if entry is not None and entry.target == target:
            try:
                if entry.searcher.up_to_date():
                    entry.checked = now
                    return entry.searcher, entry.cache
            except Exception:  # noqa: BLE001 - a vanished or broken generation: reopen below
                log.info("search index changed under us; reopening", exc_info=True)
        # Not Searcher.refresh(): it reuses segment readers and can miss new deletions.
        if entry is not None:
            _close(entry)
            _open.pop(key, None)
        ix = open_index(path)
        try:
            searcher = ix.searcher()
        except Exception as exc:
            ix.close()
            raise IndexUnavailable(f"search index unreadable: {exc}") from exc
        entry = _Open(target=target, ix=ix, searcher=searcher, checked=now)
        _open[key] = entry
        return entry.searcher, entry.cache
