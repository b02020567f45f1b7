"""Test data for the catalog: vendors, categories and products inserted straight into the tables."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.timeutil import utcnow

_n = itertools.count(1)


def create_product(
    app: Any, make_user: Any, title: str = "Product", status: str = "approved", **fields: Any
) -> int:
    """Insert an (approved) product with its vendor and category; return its id (not indexed)."""
    from app.catalog.models import Category, Product, Tag
    from app.vendors.models import VendorProfile

    n = next(_n)
    user = make_user("vendor")
    tags = fields.pop("tags", [])
    category_slug = fields.pop("category_slug", "marketing")
    with app.app_context():
        vendor = db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == user.id))
        vendor.store_name = fields.pop("store_name", f"Store {n}")
        vendor.is_verified = True
        category = db.session.scalar(select(Category).where(Category.slug == category_slug))
        if category is None:
            category = Category(
                name=category_slug.replace("-", " ").title(),
                slug=category_slug,
                description="",
                position=0,
            )
        tag_rows = []
        for name in tags:
            tag = db.session.scalar(select(Tag).where(Tag.name == name))
            tag_rows.append(tag or Tag(name=name, slug=name))
        values: dict[str, Any] = {
            "slug": f"product-{n}",
            "status": status,
            "title": title,
            "short_description": "A short description.",
            "description_md": "",
            "description_html": "",
            "type": "n8n_workflow",
            "price_type": "one_time",
            "currency": "USD",
            "price_cents": 1500,
            "complexity": "beginner",
            "requirements": "",
            "node_types": [],
            "services": [],
            "credentials_required": [],
            "licence_commercial": True,
            "licence_redistribution": False,
            "licence_modification": True,
            "support_policy": "",
            "refund_policy": "",
            "screenshot_keys": [],
            "is_featured": False,
            "published_at": utcnow() if status == "approved" else None,
        }
        values.update(fields)
        product = Product(vendor=vendor, category=category, tags=tag_rows, **values)
        db.session.add(product)
        db.session.commit()
        return product.id


def create_category(app: Any, name: str = "Marketing", parent_slug: str | None = None) -> int:
    from app.catalog.content import slugify
    from app.catalog.models import Category

    with app.app_context():
        parent = (
            db.session.scalar(select(Category).where(Category.slug == parent_slug))
            if parent_slug
            else None
        )
        category = Category(name=name, slug=slugify(name), description="", parent=parent)
        db.session.add(category)
        db.session.commit()
        return category.id


def slug_of(app: Any, product_id: int) -> str:
    from app.catalog.models import Product

    with app.app_context():
        return db.session.get(Product, product_id).slug
