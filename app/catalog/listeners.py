"""Cached pages follow the catalog: a commit that changed listings, categories, tags, stores,
versions or reviews bumps the catalog version (app/cache.py). Registered from create_app, not
at import."""

from __future__ import annotations

from typing import Any

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.assets.models import ProductVersion
from app.cache import bump_catalog_version
from app.catalog.models import Category, Product, Tag
from app.reviews.models import Review, ReviewReply
from app.vendors.models import VendorProfile

# Counters move on every page view; cached pages may show them up to a minute late.
STAT_COLUMNS = frozenset(
    {"view_count", "sales_count", "popularity", "rating_avg", "rating_count", "updated_at"}
)
# A product page shows its current version's preview and the version history, and to
# anonymous visitors a cached page of its published reviews with their replies (any review
# written counts: they are few beside the page views).
CATALOG_TYPES = (Product, Category, Tag, VendorProfile, ProductVersion, Review, ReviewReply)
_CHANGED = "catalog_changed"


def register_listeners() -> None:
    """Listen on every Session (once per process, however many apps are created)."""
    for name, listener in (
        ("after_flush", _note_catalog_changes),
        ("after_commit", _expire_pages),
        ("after_rollback", _forget_catalog_changes),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def mark_catalog_changed(session: Session) -> None:
    """Expire the cached pages when ``session`` commits (for a change they show that is not
    a catalog row, e.g. the featured-products setting)."""
    session.info[_CHANGED] = True


def _changes_content(obj: Any) -> bool:
    if isinstance(obj, Product):
        state = sa_inspect(obj)
        return any(
            attr.history.has_changes() for attr in state.attrs if attr.key not in STAT_COLUMNS
        )
    return isinstance(obj, CATALOG_TYPES)


def _note_catalog_changes(session: Session, _context: Any) -> None:
    if session.info.get(_CHANGED):
        return
    if any(isinstance(o, CATALOG_TYPES) for o in (*session.new, *session.deleted)) or any(
        _changes_content(o) for o in session.dirty
    ):
        session.info[_CHANGED] = True


def _expire_pages(session: Session) -> None:
    # Outside an app (a script's own session) there is no cache to expire.
    if session.info.pop(_CHANGED, False) and has_app_context():
        bump_catalog_version()


def _forget_catalog_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
