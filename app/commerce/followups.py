"""What follows a paid order, in jobs (reached through the outbox): the receipt email with the
licence keys, the products' sales counters, and the refund of an order that was paid but could
not be fulfilled."""

from __future__ import annotations

import logging

from sqlalchemy import update

from app.catalog.models import Product
from app.commerce.fulfilment import refund_unfulfilled
from app.commerce.models import Order
from app.commerce.providers import current_payments
from app.extensions import db
from app.licensing.services import licences_of_lines
from app.notifications.services import external_url, send_email

log = logging.getLogger(__name__)


def send_receipt(order_id: int) -> None:
    """Email the buyer their receipt: lines, totals, licence keys and the order's link."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    licences = licences_of_lines([line.id for line in order.lines])
    send_email(
        order.buyer_details.get("email") or order.buyer.email,
        f"Your order {order.number}"
        + (f" · invoice {order.invoice_label}" if order.invoice_number else ""),
        "receipt",
        order=order,
        licences=licences,
        link=external_url("commerce.order_GET", order_id=order.id),
        invoice_link=external_url("commerce.invoice_GET", order_id=order.id)
        if order.invoice_number
        else None,
    )


def count_sales(order_id: int) -> None:
    """Add the order's lines to their products' sales (and popularity) counters."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    for line in order.lines:
        db.session.execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(sales_count=Product.sales_count + 1, popularity=Product.popularity + 1)
        )
    db.session.commit()


def refund_unfulfilled_order(order_id: int) -> None:
    """Give the money back for an order whose discount ran out while it was paid."""
    order = db.session.get(Order, order_id)
    if order is None:
        return
    provider = current_payments().provider(order.provider)
    refund_ref = refund_unfulfilled(order_id, provider)
    log.info("order %s: unfulfilled, refunded in full (%s)", order.number, refund_ref)
