"""Test licences: an order, its line and the licence, inserted straight into the tables (the
commerce branch issues real ones on fulfilment)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from app.extensions import db
from app.licensing.keys import generate_key
from tests.catalog.factories import create_product

_n = itertools.count(1)


@dataclass(frozen=True)
class MadeLicence:
    id: int
    key: str
    product_id: int
    product_slug: str
    buyer_id: int
    vendor_user_id: int


def create_licence(
    app: Any,
    make_user: Any,
    buyer: Any = None,
    product_id: int | None = None,
    **fields: Any,
) -> MadeLicence:
    """A paid order of one line for ``product_id`` (a new approved product when None) by
    ``buyer`` (a new customer when None), and its licence with ``fields`` set."""
    from app.catalog.models import Product
    from app.commerce.models import Order, OrderLine
    from app.licensing.models import Licence
    from app.timeutil import utcnow
    from app.vendors.models import VendorProfile

    if product_id is None:
        product_id = create_product(app, make_user, f"Licensed product {next(_n)}")
    buyer = buyer or make_user("customer")
    with app.app_context():
        product = db.session.get(Product, product_id)
        vendor = db.session.get(VendorProfile, product.vendor_id)
        n = next(_n)
        order = Order(
            number=f"T-{n:06d}-{buyer.id}",
            buyer_id=buyer.id,
            status="paid",
            currency=product.currency,
            subtotal_cents=product.price_cents,
            total_cents=product.price_cents,
            provider="sandbox",
            provider_session_ref=f"test-session-{n}-{buyer.id}",
            paid_at=utcnow(),
        )
        line = OrderLine(
            order=order,
            product_id=product.id,
            vendor_id=vendor.id,
            title=product.title,
            list_price_cents=product.price_cents,
            price_cents=product.price_cents,
            currency=product.currency,
        )
        licence = Licence(
            key=fields.pop("key", None) or generate_key(),
            user_id=buyer.id,
            product_id=product.id,
            **fields,
        )
        db.session.add_all([order, line])
        db.session.flush()
        licence.order_line_id = line.id
        db.session.add(licence)
        db.session.commit()
        return MadeLicence(
            licence.id, licence.key, product.id, product.slug, buyer.id, vendor.user_id
        )
