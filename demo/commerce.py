"""The demo customer's purchases, made through the same services as a real buyer's: a free
product, a paid one and a subscription, paid in the sandbox (keys, invoices, and sales in the
demo vendor's ledger). Idempotent: a customer with orders is left alone."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import PriceType, Product, ProductStatus
from app.commerce import fulfilment, services
from app.commerce.models import DiscountKind, Order
from app.commerce.providers.sandbox import SandboxProvider
from app.extensions import db
from app.vendors.models import VendorProfile

DEMO_CODE = "DEMO10"


def _first(vendor_id: int, price_type: PriceType, avoid_vendor: bool = False) -> Product | None:
    query = select(Product).where(
        Product.status == ProductStatus.APPROVED, Product.price_type == price_type
    )
    query = query.where(
        Product.vendor_id != vendor_id if avoid_vendor else Product.vendor_id == vendor_id
    )
    return db.session.scalar(query.order_by(Product.id).limit(1))


def buy(
    user: User, product: Product, interval: str | None = None, code: str | None = None
) -> Order:
    """``user`` buys ``product`` the way a shopper does, one commit per step as the requests
    would make them: the cart (with ``code`` applied), the checkout and the sandbox's signed
    payment delivery; a free product is got at once."""
    if product.price_type == PriceType.FREE:
        order = fulfilment.get_free(user, product.id)
        db.session.commit()
        return order
    config = current_app.config["APP_CONFIG"]
    sandbox = SandboxProvider(config.secret_key)
    services.add_to_cart(user, services.SessionCart(), product.id, interval)
    if code:
        services.apply_code(user, services.SessionCart(), code)
    db.session.commit()
    order = fulfilment.start_checkout(user, sandbox.name, config.platform_commission_bps)
    services.open_checkout(user, order.id, sandbox, "/checkout/success", "/cart")
    db.session.commit()
    order = fulfilment.pay_in_sandbox(user, sandbox, order.provider_session_ref)
    db.session.commit()
    return order


def seed_commerce(customer: User, vendor_user: User) -> Iterator[str]:
    """Buy the demo vendor's products as the demo customer (see the module docstring)."""
    if db.session.scalar(select(Order.id).where(Order.buyer_id == customer.id).limit(1)):
        yield "exists: the demo customer's orders"
        return
    vendor = db.session.scalar(
        select(VendorProfile.id).where(VendorProfile.user_id == vendor_user.id)
    )
    if vendor is None:
        return
    free = _first(vendor, PriceType.FREE) or _first(vendor, PriceType.FREE, avoid_vendor=True)
    if free is not None:
        buy(customer, free)
        yield f"created: free order of {free.title}"
    for price_type, interval in ((PriceType.ONE_TIME, None), (PriceType.SUBSCRIPTION, "month")):
        product = _first(vendor, price_type) or _first(vendor, price_type, avoid_vendor=True)
        if product is None:
            continue
        if price_type == PriceType.SUBSCRIPTION and not product.monthly_price_cents:
            interval = "year"
        code = None
        if price_type == PriceType.ONE_TIME:
            owner = db.session.get(User, product.vendor.user_id)
            services.create_discount_code(
                owner, DEMO_CODE, DiscountKind.PERCENT, 1000, product_ids=[product.id]
            )
            code = DEMO_CODE
        order = buy(customer, product, interval, code)
        db.session.commit()
        yield f"created: paid order {order.number} ({product.title})"
    db.session.commit()
