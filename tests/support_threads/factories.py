"""Support test data: paid order lines inserted straight into the tables, threads made through
the services (so their messages, notifications and statuses are the real ones)."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

from PIL import Image

from app.accounts.models import User
from app.catalog.models import Product
from app.commerce.models import Order, OrderLine
from app.extensions import db
from app.support import services
from app.timeutil import utcnow
from tests.catalog.factories import create_product
from tests.reviews.factories import vendor_of

_n = itertools.count(1)


def png_bytes(size: tuple[int, int] = (40, 30), colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def paid_line(app: Any, buyer_id: int, product_id: int) -> int:
    """A paid order of ``product_id`` for ``buyer_id``; returns its one line's id."""
    with app.app_context():
        product = db.session.get(Product, product_id)
        order = Order(
            number=f"S-{next(_n):06d}",
            buyer_id=buyer_id,
            status="paid",
            currency=product.currency,
            subtotal_cents=product.price_cents,
            total_cents=product.price_cents,
            provider="sandbox",
            paid_at=utcnow(),
        )
        line = OrderLine(
            order=order,
            product_id=product.id,
            vendor_id=product.vendor_id,
            title=product.title,
            list_price_cents=product.price_cents,
            price_cents=product.price_cents,
            currency=product.currency,
        )
        db.session.add_all([order, line])
        db.session.commit()
        return line.id


@dataclass(frozen=True)
class Purchase:
    buyer: User
    vendor: User
    product_id: int
    line_id: int


def purchase(app: Any, make_user: Any, **product: Any) -> Purchase:
    """A buyer who paid for a new product of a new vendor's store."""
    product_id = create_product(app, make_user, product.pop("title", "Helpful workflow"), **product)
    buyer = make_user("customer")
    return Purchase(
        buyer, vendor_of(app, product_id), product_id, paid_line(app, buyer.id, product_id)
    )


@dataclass(frozen=True)
class Made:
    thread_id: int
    attachment_id: int
    escalation_id: int | None
    purchase: Purchase


def make_thread(app: Any, make_user: Any, escalated: bool = False) -> Made:
    """A thread with one image from a new buyer (and an open escalation when ``escalated``)."""
    bought = purchase(app, make_user)
    with app.app_context():
        buyer = db.session.get(User, bought.buyer.id)
        thread = services.start_thread(
            buyer,
            bought.line_id,
            "It stops at the second node",
            "The HTTP node fails with a 401.",
            [services.Upload("error.png", png_bytes())],
        )
        db.session.flush()
        attachment_id = thread.messages[0].attachments[0].id
        escalation_id = None
        if escalated:
            escalation_id = services.escalate_thread(
                buyer, thread.id, "The vendor has not answered for a week."
            ).id
        db.session.commit()
        return Made(thread.id, attachment_id, escalation_id, bought)
