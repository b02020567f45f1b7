"""The demo customer's purchases, made through the same services as a real buyer's: a free
product, a paid one and a subscription, paid in the sandbox (keys, invoices, and sales in the
demo vendor's ledger); ``seed_downloads`` then downloads each owned file once (download log
rows, counted on the licence and the product). Idempotent piece by piece: each purchase is
made only when the customer has none of its kind, each licence is downloaded only when it has
no download yet, so a run after a partial one fills in what is missing."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy import exists, select

from app.accounts.models import User
from app.assets.models import ProductVersion
from app.catalog.models import PriceType, Product, ProductStatus
from app.commerce import fulfilment, services
from app.commerce.models import DiscountCode, DiscountKind, Order, OrderLine, Subscription
from app.commerce.providers.sandbox import SandboxProvider
from app.downloads.models import DownloadLog
from app.downloads.services import downloadable_file, record_download
from app.extensions import db
from app.licensing.models import Licence
from app.vendors.models import VendorProfile

DEMO_CODE = "DEMO10"


def _first(vendor_id: int, price_type: PriceType, avoid_vendor: bool = False) -> Product | None:
    """The vendor's (or with ``avoid_vendor``, another store's) first live product of
    ``price_type``, one with an uploaded file first (so the demo has something to download)."""
    has_file = exists().where(ProductVersion.product_id == Product.id)
    query = select(Product).where(
        Product.status == ProductStatus.APPROVED, Product.price_type == price_type
    )
    query = query.where(
        Product.vendor_id != vendor_id if avoid_vendor else Product.vendor_id == vendor_id
    )
    return db.session.scalar(query.order_by(has_file.desc(), Product.id).limit(1))


def _owns(customer: User, price_type: PriceType) -> bool:
    """The customer holds a product of ``price_type`` from a paid (or free) order."""
    query = (
        select(OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(
            Order.buyer_id == customer.id,
            Order.status == "paid",
            Product.price_type == price_type,
        )
    )
    return db.session.scalar(query.limit(1)) is not None


def _has_subscription(customer: User) -> bool:
    query = select(Subscription.id).where(Subscription.buyer_id == customer.id)
    return db.session.scalar(query.limit(1)) is not None


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


def _demo_code(product: Product) -> str | None:
    """DEMO10, 10 % off ``product`` (made once; None if it exists for another product)."""
    code = db.session.scalar(select(DiscountCode).where(DiscountCode.code == DEMO_CODE))
    if code is None:
        owner = db.session.get(User, product.vendor.user_id)
        services.create_discount_code(
            owner, DEMO_CODE, DiscountKind.PERCENT, 1000, product_ids=[product.id]
        )
        return DEMO_CODE
    return DEMO_CODE if code.vendor_id == product.vendor_id else None


def seed_commerce(customer: User, vendor_user: User) -> Iterator[str]:
    """Buy the demo vendor's products as the demo customer and download them (see the module
    docstring)."""
    vendor = db.session.scalar(
        select(VendorProfile.id).where(VendorProfile.user_id == vendor_user.id)
    )
    if vendor is None:
        return
    if _owns(customer, PriceType.FREE):
        yield "exists: the demo customer's free product"
    else:
        free = _first(vendor, PriceType.FREE) or _first(vendor, PriceType.FREE, avoid_vendor=True)
        if free is not None:
            buy(customer, free)
            yield f"created: free order of {free.title}"
    if _owns(customer, PriceType.ONE_TIME):
        yield "exists: the demo customer's paid order"
    else:
        product = _first(vendor, PriceType.ONE_TIME) or _first(
            vendor, PriceType.ONE_TIME, avoid_vendor=True
        )
        if product is not None:
            order = buy(customer, product, None, _demo_code(product))
            yield f"created: paid order {order.number} ({product.title})"
    if _has_subscription(customer):
        yield "exists: the demo customer's subscription"
    else:
        product = _first(vendor, PriceType.SUBSCRIPTION) or _first(
            vendor, PriceType.SUBSCRIPTION, avoid_vendor=True
        )
        if product is not None:
            interval = "month" if product.monthly_price_cents else "year"
            order = buy(customer, product, interval, None)
            yield f"created: paid order {order.number} ({product.title})"
    db.session.commit()


def seed_downloads(customer: User) -> Iterator[str]:
    """One download of each of the customer's licences that has none yet and whose product
    has a clean current version (a file still being scanned is downloaded by a later run)."""
    downloaded = exists().where(DownloadLog.licence_id == Licence.id)
    licences = list(
        db.session.scalars(
            select(Licence).where(Licence.user_id == customer.id, ~downloaded).order_by(Licence.id)
        )
    )
    made = waiting = 0
    for licence in licences:
        if not licence.can_download or downloadable_file(licence.product) is None:
            waiting += 1
            continue
        record_download(customer, licence.id)
        made += 1
    db.session.commit()
    yield f"downloads: {made} logged" + (
        f" ({waiting} licence(s) wait for a scanned file: run `flask seed` again)"
        if waiting
        else ""
    )
