"""Pages of results shared by every list (the catalog's queries, search, the admin lists), and
the LIKE pattern their text filters use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.extensions import db

PAGE_SIZE = 24


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Any, page: int, per_page: int = PAGE_SIZE) -> Page:
    """One page of ``query``'s rows (``page`` clamped to 1..pages) with the total count."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // per_page))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, pages, total or 0)


def contains_pattern(text: str, lower: bool = True) -> str:
    """A LIKE pattern (escape character ``\\``) matching values that contain ``text``
    literally; lower-cased for a match against ``lower(column)``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower() if lower else escaped}%"
