"""Turn a product into the flat document the index stores (derived data, rebuilt at will)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import nh3

from app.timeutil import as_utc

# The Bayesian prior: every product starts as if it had PRIOR_WEIGHT reviews averaging
# PRIOR_MEAN, so 3 five-star reviews (3.85) do not outrank 300 at 4.5 (4.47).
PRIOR_MEAN = 3.5
PRIOR_WEIGHT = 10

# (key, label, lowest cents, highest cents or None); "free" is the price type, not 0 cents.
PRICE_BUCKETS: list[tuple[str, str, int, int | None]] = [
    ("free", "Free", 0, 0),
    ("under_10", "Under 10", 1, 999),
    ("10_50", "10 to 50", 1000, 4999),
    ("50_100", "50 to 100", 5000, 9999),
    ("100_up", "100 and up", 10000, None),
]
# Stored per product as the floor of its average; a filter "3 & up" takes buckets >= 3.
RATING_BUCKETS = ["4", "3", "2", "1"]
UNRATED = "none"


def bayesian_rating(average: float, count: int) -> float:
    count = max(0, int(count or 0))
    total = float(average or 0) * count
    return round((PRIOR_MEAN * PRIOR_WEIGHT + total) / (PRIOR_WEIGHT + count), 4)


def price_bucket(price_type: str, cents: int) -> str:
    if price_type == "free" or cents <= 0:
        return "free"
    for key, _label, low, high in PRICE_BUCKETS[1:]:
        if cents >= low and (high is None or cents <= high):
            return key
    return PRICE_BUCKETS[-1][0]


def rating_bucket(average: float, count: int) -> str:
    if not count:
        return UNRATED
    return str(max(1, min(4, int(average or 0))))


def plain_text(description_html: str | None) -> str:
    """The words of a description the catalog rendered and sanitised at save time."""
    return html.unescape(nh3.clean(description_html or "", tags=set())).strip()


def _timestamp(value: datetime | None) -> int:
    return int(as_utc(value).timestamp()) if value is not None else 0


def product_document(product: Any) -> dict[str, Any]:
    """The index document for ``product`` (a Product, or anything with the same attributes).

    Engine-neutral: ``title`` (weight A), ``keywords`` (tags, node types and services: B) and
    ``body`` (summary, description, category, store: C) are matched; the rest filters, sorts
    and facets; ``card`` is what a result shows (the fields ``price_label`` reads).
    """
    category = product.category
    trail = list(category.path) if category is not None else []
    vendor = product.vendor
    vendor_name = vendor.store_name if vendor is not None else ""
    tags = [tag.name for tag in product.tags]
    node_types = list(product.node_types or [])
    services = list(product.services or [])
    price = int(product.display_price_cents or 0)
    rating_avg = float(product.rating_avg or 0)
    rating_count = int(product.rating_count or 0)
    title = product.title or ""
    return {
        "id": int(product.id),
        "title": title,
        # "n8n-nodes-base.httpRequest" -> words a shopper types ("http request").
        "keywords": " ".join([*tags, *(_split_identifier(n) for n in node_types), *services]),
        "body": " ".join(
            [
                product.short_description or "",
                plain_text(product.description_html),
                *(c.name for c in trail),
                vendor_name,
            ]
        ),
        # Unstemmed title and tag words: the dictionary for "did you mean" and similarity.
        "words": " ".join([title, *tags]),
        "type": product.type or "",
        "category_path": [c.slug for c in trail],
        "category_names": {c.slug: c.name for c in trail},
        "price_type": product.price_type or "",
        "price_bucket": price_bucket(product.price_type, price),
        "complexity": product.complexity or "",
        "rating_bucket": rating_bucket(rating_avg, rating_count),
        "price": price,
        "rating": round(bayesian_rating(rating_avg, rating_count) * 1000),
        "popularity": int(product.popularity or 0),
        "published": _timestamp(product.published_at or product.created_at),
        "card": product_card(product),
    }


def product_card(product: Any) -> dict[str, Any]:
    """What a result card shows of ``product`` (app.search.backend.Hit's fields), from an ORM
    product with its vendor and category."""
    category = product.category
    vendor = product.vendor
    return card(
        product,
        vendor.store_name if vendor is not None else "",
        category.name if category is not None else "",
    )


def card(product: Any, vendor_name: str | None, category_name: str | None) -> dict[str, Any]:
    """A result card from anything with a product's card columns as attributes: an ORM
    product, or a row of just those columns (app.search.services.more_like_this)."""
    return {
        "id": int(product.id),
        "slug": product.slug,
        "title": product.title or "",
        "summary": product.short_description or "",
        "type": product.type or "",
        "price_type": product.price_type or "",
        "price_cents": int(product.price_cents or 0),
        "monthly_price_cents": product.monthly_price_cents,
        "yearly_price_cents": product.yearly_price_cents,
        "currency": product.currency or "USD",
        "rating_avg": float(product.rating_avg or 0),
        "rating_count": int(product.rating_count or 0),
        "vendor_name": vendor_name or "",
        "category_name": category_name or "",
    }


# The columns card() reads, for a query that selects only those.
CARD_COLUMNS = (
    "id",
    "slug",
    "title",
    "short_description",
    "type",
    "price_type",
    "price_cents",
    "monthly_price_cents",
    "yearly_price_cents",
    "currency",
    "rating_avg",
    "rating_count",
)


def _split_identifier(name: str) -> str:
    """n8n node ids are dotted camelCase; index the parts as words too."""
    tail = name.rsplit(".", 1)[-1]
    spaced = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in tail)
    return f"{name} {spaced.strip()}"
