"""The category tree that admins manage, and its choices for forms."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.catalog.content import unique_slug
from app.catalog.errors import ListingError
from app.catalog.models import Category
from app.errors import PermissionDenied
from app.extensions import db
from app.outbox.services import record_event


def category_choices() -> list[tuple[int, str]]:
    """Every category as (id, "Parent › Child") for a select, in tree order."""
    categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    labelled = [(c.id, " › ".join(n.name for n in c.path)) for c in categories]
    return sorted(labelled, key=lambda item: item[1].lower())


def save_category(
    admin: User,
    name: str,
    parent_id: int | None,
    description: str = "",
    position: int = 0,
    category: Category | None = None,
) -> Category:
    """Create or edit a category; refuses a parent that would make a cycle."""
    if not admin.is_admin:
        raise PermissionDenied()
    parent = db.session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise ListingError("Choose an existing parent category.")
    if category is not None and parent is not None and category in parent.path:
        raise ListingError("A category cannot sit inside itself.")
    if category is None:
        category = Category(slug=unique_slug(Category, name))
        db.session.add(category)
    elif category.name != name.strip() or category.parent is not parent:
        # Every listing below it is indexed with its category trail: rebuild the index.
        record_event("category.changed", category_id=category.id)
    category.name = name.strip()
    category.parent = parent
    category.description = description.strip()
    category.position = position
    return category
