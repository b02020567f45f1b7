"""Public catalog queries: approved products only, for product, category, store and home pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Product, ProductStatus, Tag, product_tags
from app.errors import NotFound
from app.extensions import db
from app.pagination import Page, paginate
from app.vendors.models import VendorProfile

# The ORDER BY of each of app.sorting.LIST_SORTS.
SORTS = {
    "popular": (Product.popularity.desc(), Product.id.desc()),
    "newest": (Product.published_at.desc(), Product.id.desc()),
    "price_asc": (Product.display_price_cents.asc(), Product.id),
    "price_desc": (Product.display_price_cents.desc(), Product.id.desc()),
    "rating": (Product.rating_avg.desc(), Product.rating_count.desc(), Product.id.desc()),
}


def _public() -> Any:
    return (
        select(Product)
        .where(Product.status == ProductStatus.APPROVED)
        .options(selectinload(Product.vendor), selectinload(Product.category))
    )


# The tag names come in the product's round trip, joined by a separator no tag name holds
# (clean_list folds it away as whitespace). The store and the category trail are cached apart
# (app/catalog/pages.py), not joined: loading three more rows through the ORM cost half as
# much again as the product.
TAG_SEPARATOR = "\x1f"


# Built once, run with the slug bound: building the select and its cache key cost a product
# page more than running it.
_PUBLIC_PRODUCT = select(
    Product,
    select(func.aggregate_strings(Tag.name, TAG_SEPARATOR))
    .join(product_tags, product_tags.c.tag_id == Tag.id)
    .where(product_tags.c.product_id == Product.id)
    .scalar_subquery(),
).where(Product.status == ProductStatus.APPROVED, Product.slug == bindparam("slug"))


def public_product(slug: str) -> tuple[Product, list[str]]:
    """An approved product by slug and its tag names, sorted; NotFound otherwise (drafts are
    never public)."""
    row = db.session.execute(_PUBLIC_PRODUCT, {"slug": slug}).one_or_none()
    if row is None:
        raise NotFound()
    product, joined = row
    return product, sorted(joined.split(TAG_SEPARATOR), key=str.lower) if joined else []


def home_sections(limit: int = 8, featured_limit: int | None = None) -> dict[str, list[Product]]:
    """Featured (at most ``featured_limit``, default ``limit``), new and popular products; each
    product in the first section it fits only."""
    shown: list[int] = []
    sections: dict[str, list[Product]] = {}
    for name, query in (
        ("featured", _public().where(Product.is_featured.is_(True)).order_by(*SORTS["popular"])),
        ("new", _public().order_by(*SORTS["newest"])),
        ("popular", _public().order_by(*SORTS["popular"])),
    ):
        if shown:
            query = query.where(Product.id.not_in(shown))
        size = featured_limit if name == "featured" and featured_limit is not None else limit
        sections[name] = list(db.session.scalars(query.limit(size)))
        shown += [product.id for product in sections[name]]
    return sections


def category_by_slug(slug: str) -> Category:
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound()
    return category


def descendant_ids(category: Category) -> list[int]:
    ids, frontier = [category.id], [category]
    while frontier and len(ids) < 500:
        node = frontier.pop()
        for child in node.children:
            if child.id not in ids:
                ids.append(child.id)
                frontier.append(child)
    return ids


def category_products(category: Category, page: int, sort: str) -> Page:
    """A page of the approved products in ``category`` and below, in ``sort`` order (a key of
    SORTS; anything else is refused by the caller)."""
    query = _public().where(Product.category_id.in_(descendant_ids(category)))
    return paginate(query.order_by(*SORTS[sort]), page)


def vendor_products(vendor: VendorProfile, page: int) -> Page:
    query = _public().where(Product.vendor_id == vendor.id).order_by(*SORTS["popular"])
    return paginate(query, page)


def top_categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position, Category.name)
            .options(selectinload(Category.children))
        )
    )


def sitemap_entries() -> list[tuple[str, str, datetime | None]]:
    """(kind, slug, last modified) for every public page worth indexing."""
    entries: list[tuple[str, str, datetime | None]] = []
    products = db.session.execute(
        select(Product.slug, Product.updated_at)
        .where(Product.status == ProductStatus.APPROVED)
        .order_by(Product.id)
    )
    entries += [("product", slug, updated) for slug, updated in products]
    entries += [("category", slug, None) for slug in db.session.scalars(select(Category.slug))]
    vendors = db.session.scalars(
        select(VendorProfile.slug).where(VendorProfile.status == "approved")
    )
    entries += [("vendor", slug, None) for slug in vendors]
    return entries
