"""Test data for reviews: buyers made by inserting an order, its line and a licence directly,
and reviews inserted straight into the table."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from app.accounts.models import User
from app.catalog.models import Product
from app.commerce.models import Order, OrderLine
from app.extensions import db
from app.licensing.keys import generate_key
from app.licensing.models import Licence
from app.reviews.content import render_body
from app.reviews.models import Review
from app.timeutil import utcnow
from tests.catalog.factories import create_product

_n = itertools.count(1)
OLD = timedelta(days=60)  # older than any account-age rule the tests set


def give_licence(
    app: Any, user_id: int, product_id: int, refunded: bool = False, status: str | None = None
) -> int:
    """A paid order of ``product_id`` for ``user_id`` with its licence; a refunded one has its
    line refunded and its licence revoked. Returns the licence's id."""
    with app.app_context():
        product = db.session.get(Product, product_id)
        now = utcnow()
        order = Order(
            number=f"T-{next(_n):06d}",
            buyer_id=user_id,
            status="refunded" if refunded else "paid",
            currency=product.currency,
            subtotal_cents=product.price_cents,
            total_cents=product.price_cents,
            refunded_cents=product.price_cents if refunded else 0,
            provider="sandbox",
            paid_at=now,
        )
        line = OrderLine(
            order=order,
            product_id=product.id,
            vendor_id=product.vendor_id,
            title=product.title,
            list_price_cents=product.price_cents,
            price_cents=product.price_cents,
            currency=product.currency,
            refunded_cents=product.price_cents if refunded else 0,
            refunded_at=now if refunded else None,
        )
        db.session.add_all([order, line])
        db.session.flush()
        licence = Licence(
            key=generate_key(),
            user_id=user_id,
            product_id=product.id,
            order_line_id=line.id,
            status=status or ("revoked" if refunded else "active"),
        )
        db.session.add(licence)
        db.session.commit()
        return licence.id


def make_buyer(
    app: Any,
    make_user: Any,
    product_id: int,
    refunded: bool = False,
    status: str | None = None,
    age: timedelta = OLD,
    **fields: Any,
) -> User:
    """A customer (an account ``age`` old) holding a licence for ``product_id``."""
    fields.setdefault("first_name", "Bea")
    fields.setdefault("last_name", "Buyer")
    user = make_user("customer", created_at=utcnow() - age, **fields)
    give_licence(app, user.id, product_id, refunded=refunded, status=status)
    return user


def vendor_of(app: Any, product_id: int) -> User:
    """The account that sells ``product_id`` (detached)."""
    with app.app_context():
        user = db.session.get(Product, product_id).vendor.user
        db.session.expunge(user)
        return user


def insert_review(
    app: Any,
    user_id: int,
    product_id: int,
    stars: int = 4,
    status: str = "published",
    title: str = "Solid workflow",
    body: str = "It saved me an afternoon of wiring nodes together.",
    created_at: Any = None,
) -> int:
    """A review row as the services would leave it (no rating recomputed); returns its id."""
    with app.app_context():
        now = utcnow()
        review = Review(
            product_id=product_id,
            author_id=user_id,
            stars=stars,
            title=title,
            body=body,
            body_format="plain",
            body_html=render_body(body, "plain"),
            status=status,
            published_at=now if status == "published" else None,
            created_at=created_at or now,
        )
        db.session.add(review)
        db.session.commit()
        return review.id


def reviewed_product(app: Any, make_user: Any, status: str = "published") -> tuple[int, int]:
    """A product with one review by a buyer; returns (product id, review id)."""
    product_id = create_product(app, make_user, "Reviewed")
    buyer = make_buyer(app, make_user, product_id)
    return product_id, insert_review(app, buyer.id, product_id, status=status)
