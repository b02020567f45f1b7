"""What each public catalog page shows, from the fragment cache or built once per catalog version.

A page's view makes one call here and renders what it gets: the product, category, storefront
and home pages. Each call is one cache lookup while the catalog is unchanged; on a miss it
queries, looks up similar products and renders the shared fragments (the same for every
visitor: nothing here reads the request's user).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup

from app.assets.services import current_version, public_history
from app.cache import cached
from app.catalog import queries
from app.catalog.content import node_labels
from app.catalog.models import Category, Product
from app.errors import NotFound
from app.extensions import db
from app.search.services import more_like_this
from app.sorting import LIST_SORTS
from app.vendors.models import VendorProfile
from app.vendors.services import public_vendor

SIMILAR_PRODUCTS = 4


@dataclass(frozen=True)
class ProductHead:
    """What a product page shows around its cached body (title, SEO, the admin bar)."""

    id: int
    slug: str
    title: str
    short_description: str
    thumbnail_key: str | None
    price_type: str = "free"  # the buy box (commerce/_buy_box.html) picks its action by it
    intervals: tuple[str, ...] = ()  # a subscription's billing intervals


@dataclass(frozen=True)
class StoreLink:
    """What a product page shows of its store, and whose visits do not count as views."""

    id: int
    user_id: int
    slug: str
    store_name: str
    is_verified: bool
    bio: str


@dataclass(frozen=True)
class ProductPage:
    product: ProductHead
    store: StoreLink
    body: Markup


@dataclass(frozen=True)
class CategoryPage:
    name: str
    slug: str
    description: str
    head: Markup  # breadcrumbs, heading, subcategories: the same for every sort and page
    results: Markup


@dataclass(frozen=True)
class StorefrontPage:
    store_name: str
    slug: str
    bio: str
    is_verified: bool
    results: Markup


def _markup(html: str) -> Markup:
    return Markup(html)  # noqa: S704 - a rendered template, escaped by Jinja when it was built


def product_page(slug: str) -> ProductPage:
    """The approved product ``slug``'s page; raises NotFound (drafts are never public)."""
    return cached(f"product:{slug}", lambda: _build_product_page(slug))


def _build_product_page(slug: str) -> ProductPage:
    product, tag_names = queries.public_product(slug)
    store = _store_link(product.vendor_id)
    # The history first: the current version is then in the session, not one more query.
    versions = public_history(product)
    body = render_template(
        "catalog/_product.html",
        product=product,
        store=store,
        trail=_category_trail(product.category_id),
        tag_names=tag_names,
        node_names=node_labels(product.node_types or []),
        similar=more_like_this(product.id, limit=SIMILAR_PRODUCTS),
        version=current_version(product),
        versions=versions,
    )
    intervals = tuple(
        interval
        for interval, cents in (
            ("month", product.monthly_price_cents),
            ("year", product.yearly_price_cents),
        )
        if cents and product.price_type == "subscription"
    )
    head = ProductHead(
        product.id,
        product.slug,
        product.title,
        product.short_description,
        product.thumbnail_key,
        product.price_type,
        intervals,
    )
    return ProductPage(head, store, _markup(body))


def _store_link(vendor_id: int) -> StoreLink:
    """A store as its products' pages show it; many products share one (cached apart)."""

    def build() -> StoreLink:
        vendor = db.session.get(VendorProfile, vendor_id)
        if vendor is None:
            raise NotFound()
        return StoreLink(
            vendor.id,
            vendor.user_id,
            vendor.slug,
            vendor.store_name,
            vendor.is_verified,
            vendor.bio or "",
        )

    return cached(f"store-link:{vendor_id}", build)


def _category_trail(category_id: int | None) -> tuple[tuple[str, str], ...]:
    """(slug, name) from the root category down to ``category_id``; () for none."""
    if category_id is None:
        return ()

    def build() -> tuple[tuple[str, str], ...]:
        category = db.session.get(Category, category_id)
        return tuple((c.slug, c.name) for c in category.path) if category else ()

    return cached(f"trail:{category_id}", build)


def category_page(slug: str, sort: str, page: int) -> CategoryPage:
    """Page ``page`` of category ``slug``'s products (and its subcategories') in ``sort``
    order (a key of LIST_SORTS); raises NotFound, ValueError for another sort."""
    if sort not in LIST_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    return cached(f"category:{slug}:{sort}:{page}", lambda: _build_category_page(slug, sort, page))


def _build_category_page(slug: str, sort: str, page: int) -> CategoryPage:
    category = queries.category_by_slug(slug)
    head = render_template(
        "catalog/_category_head.html", category=category, trail=_category_trail(category.id)
    )
    results = render_template(
        "catalog/_results.html",
        page=queries.category_products(category, page, sort),
        endpoint="catalog.category_GET",
        args={"slug": category.slug, "sort": sort},
    )
    return CategoryPage(
        category.name, category.slug, category.description, _markup(head), _markup(results)
    )


def storefront_page(slug: str, page: int) -> StorefrontPage:
    """Page ``page`` of the approved store ``slug``'s live products; raises NotFound."""
    return cached(f"store:{slug}:{page}", lambda: _build_storefront_page(slug, page))


def _build_storefront_page(slug: str, page: int) -> StorefrontPage:
    vendor: VendorProfile = public_vendor(slug)
    results = render_template(
        "catalog/_results.html",
        page=queries.vendor_products(vendor, page),
        endpoint="vendors.storefront_GET",
        args={"slug": vendor.slug},
    )
    return StorefrontPage(
        vendor.store_name, vendor.slug, vendor.bio or "", vendor.is_verified, _markup(results)
    )


def home_page() -> Markup:
    """The home page's categories and product sections (a product appears in one only)."""
    return cached("home", _build_home_sections)


def _build_home_sections() -> Markup:
    from app.admin.services import get_setting  # admin builds on the catalog, not the reverse

    sections: dict[str, list[Product]] = queries.home_sections(
        featured_limit=get_setting("featured_limit")
    )
    return _markup(
        render_template(
            "core/_home_sections.html", sections=sections, categories=queries.top_categories()
        )
    )
