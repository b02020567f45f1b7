"""Bulk benchmark data: bench_search's generated product rows inserted with SQLAlchemy core.

``seed_products(n, session)`` writes n approved products with their vendors (users and
profiles), a two-level category tree and tags, in batches; the benchmarks import it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench_search import CATEGORIES, FILLER, generate
from sqlalchemy import insert, select

from app.accounts.models import User
from app.catalog.content import render_markdown
from app.catalog.models import Category, Product, Tag, product_tags
from app.vendors.models import VendorProfile

BATCH = 5000
# What a production start needs beyond the database and secret key, for benchmarks on loopback:
# the host it answers to and payment keys (a production start refuses the sandbox provider;
# nothing in a benchmark reaches Stripe).
PRODUCTION_PARTS = {
    "TRUSTED_HOSTS": "127.0.0.1, localhost",
    "STRIPE_SECRET_KEY": "sk_test_benchmark_never_called",
    "STRIPE_WEBHOOK_SECRET": "whsec_benchmark_never_called",
}
# Each generated top-level category gets two children; products spread over all three levels
# so category pages exercise the descendant query.
CHILDREN = ("tools", "templates")


def category_slugs() -> list[str]:
    return [*CATEGORIES, *(f"{c}-{child}" for c in CATEGORIES for child in CHILDREN)]


def _ids(session: Any, key: Any, value: Any) -> dict[Any, int]:
    return {k: v for k, v in session.execute(select(key, value))}


def _description(row: dict[str, Any]) -> str:
    words = row["description_md"].split()
    return (
        f"{' '.join(words[:20]).capitalize()}.\n\n## What it does\n\n"
        + "".join(f"- {' '.join(words[i : i + 5])}\n" for i in range(20, 40, 5))
        + f"\nWorks with **{row['services'][0]}** and **{row['services'][1]}**.\n"
    )


def _price_columns(row: dict[str, Any]) -> dict[str, Any]:
    if row["price_type"] == "subscription":
        monthly = row["price_cents"]
        return {
            "price_cents": 0,
            "monthly_price_cents": monthly,
            "yearly_price_cents": monthly * 10,
        }
    return {
        "price_cents": row["price_cents"],
        "monthly_price_cents": None,
        "yearly_price_cents": None,
    }


def seed_products(n: int, session: Any, seed: int = 7) -> list[str]:
    """Insert ``n`` approved products and what they need; commit; return the product slugs."""
    rows = generate(n, seed)
    now = datetime.now(UTC)
    vendors = sorted({r["vendor"] for r in rows})
    session.execute(
        insert(User),
        [
            {
                "email": f"{v}@bench.test",
                "password_hash": "!",  # no password can match: bench vendors never log in
                "role": "vendor",
                "session_token": f"bench-{v}",
                "email_verified_at": now,
            }
            for v in vendors
        ],
    )
    user_ids = _ids(session, User.email, User.id)
    session.execute(
        insert(VendorProfile),
        [
            {
                "user_id": user_ids[f"{v}@bench.test"],
                "store_name": v.replace("-", " ").title(),
                "slug": v,
                "support_email": f"{v}@bench.test",
                "country": "US",
                "status": "approved",
                "is_verified": i % 3 == 0,
            }
            for i, v in enumerate(vendors)
        ],
    )
    vendor_ids = _ids(session, VendorProfile.slug, VendorProfile.id)
    session.execute(
        insert(Category),
        [
            {"name": c.title(), "slug": c, "description": f"All {c} products.", "position": i}
            for i, c in enumerate(CATEGORIES)
        ],
    )
    parents = _ids(session, Category.slug, Category.id)
    session.execute(
        insert(Category),
        [
            {
                "name": f"{c.title()} {child.title()}",
                "slug": f"{c}-{child}",
                "description": "",
                "position": j,
                "parent_id": parents[c],
            }
            for c in CATEGORIES
            for j, child in enumerate(CHILDREN)
        ],
    )
    category_ids = _ids(session, Category.slug, Category.id)
    session.execute(insert(Tag), [{"name": t, "slug": t} for t in FILLER])
    tag_ids = _ids(session, Tag.name, Tag.id)
    levels = ("", *(f"-{child}" for child in CHILDREN))
    for start in range(0, n, BATCH):
        batch = rows[start : start + BATCH]
        products = []
        for r in batch:
            text = _description(r)
            products.append(
                {
                    "id": r["id"],
                    "vendor_id": vendor_ids[r["vendor"]],
                    "category_id": category_ids[r["category"] + levels[r["id"] % 3]],
                    "slug": r["slug"],
                    "status": "approved",
                    "title": r["title"],
                    "short_description": r["short_description"][:200],
                    "description_md": text,
                    "description_html": render_markdown(text),
                    "type": r["type"],
                    "price_type": r["price_type"],
                    "currency": "USD",
                    **_price_columns(r),
                    "complexity": r["complexity"],
                    "setup_minutes": 5 + r["id"] % 55,
                    "requirements": "n8n 1.76 or later.",
                    "n8n_version": "1.76.0",
                    "node_types": r["node_types"],
                    "services": r["services"],
                    "credentials_required": [],
                    "is_featured": r["id"] % 97 == 0,
                    "view_count": r["popularity"],
                    "popularity": r["popularity"],
                    "rating_avg": r["rating_avg"],
                    "rating_count": r["rating_count"],
                    "published_at": r["published_at"],
                    "created_at": r["published_at"],
                    "updated_at": r["published_at"],
                }
            )
        session.execute(insert(Product), products)
        session.execute(
            insert(product_tags),
            [{"product_id": r["id"], "tag_id": tag_ids[t]} for r in batch for t in r["tags"]],
        )
    session.commit()
    return [r["slug"] for r in rows]
