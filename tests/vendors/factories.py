"""Test data for analytics and payouts: paid orders with their ledger rows, refunds and page
views, inserted straight into the tables (the commerce fulfilment is not in this tree)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db

_n = itertools.count(1)


def vendor_id_of(app, product_id: int) -> int:
    from app.catalog.models import Product

    with app.app_context():
        return db.session.get(Product, product_id).vendor_id


def create_sale(
    app,
    buyer_id: int,
    product_id: int,
    paid_at: datetime,
    price_cents: int = 1000,
    commission_bps: int = 2000,
    currency: str = "USD",
) -> int:
    """A paid order of one line, with its ledger transaction (buyer -gross, platform
    +commission, vendor +net) written at ``paid_at``; returns the line's id."""
    from app.catalog.models import Product
    from app.commerce.models import LedgerEntry, Order, OrderLine

    n = next(_n)
    with app.app_context():
        product = db.session.get(Product, product_id)
        order = Order(
            number=f"AM-T{n:06d}",
            buyer_id=buyer_id,
            status="paid",
            currency=currency,
            subtotal_cents=price_cents,
            total_cents=price_cents,
            provider="sandbox",
            provider_session_ref=f"cs_{uuid.uuid4().hex}",
            created_at=paid_at,
            paid_at=paid_at,
        )
        line = OrderLine(
            order=order,
            product_id=product_id,
            vendor_id=product.vendor_id,
            title=product.title,
            list_price_cents=price_cents,
            price_cents=price_cents,
            currency=currency,
            commission_bps=commission_bps,
        )
        db.session.add(order)
        db.session.flush()
        commission = price_cents * commission_bps // 10_000
        txn = f"sale:{order.id}"
        for account, amount, kind in (
            ("buyer", -price_cents, "gross"),
            ("platform", commission, "commission"),
            (f"vendor:{product.vendor_id}", price_cents - commission, "vendor_net"),
        ):
            db.session.add(
                LedgerEntry(
                    txn=txn,
                    account=account,
                    amount_cents=amount,
                    currency=currency,
                    kind=kind,
                    order_id=order.id,
                    order_line_id=line.id,
                    created_at=paid_at,
                )
            )
        db.session.commit()
        return line.id


def refund_line(app, line_id: int, at: datetime) -> None:
    """Refund a line in full: the sale's ledger legs reversed at ``at``."""
    from app.commerce.models import LedgerEntry, OrderLine

    with app.app_context():
        line = db.session.get(OrderLine, line_id)
        line.refunded_cents = line.price_cents
        line.refunded_at = at
        line.order.refunded_cents = line.price_cents
        line.order.status = "refunded"
        legs = db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_line_id == line_id)
        ).all()
        for leg in legs:
            db.session.add(
                LedgerEntry(
                    txn=f"refund:{line_id}",
                    account=leg.account,
                    amount_cents=-leg.amount_cents,
                    currency=leg.currency,
                    kind="refund",
                    order_id=leg.order_id,
                    order_line_id=line_id,
                    created_at=at,
                )
            )
        db.session.commit()


def add_views(
    app, product_id: int, day: date, visitors: list[tuple[str, str]], referrer: str = ""
) -> None:
    """Page views of ``product_id`` on ``day``: one row per (visitor key, address key)."""
    from app.catalog.models import ProductView

    with app.app_context():
        for visitor, address in visitors:
            db.session.add(
                ProductView(
                    product_id=product_id,
                    day=day,
                    visitor=visitor,
                    address=address,
                    referrer=referrer,
                )
            )
        db.session.commit()


def add_search_click(app, product_id: int, query: str, at: datetime) -> None:
    from app.search.models import SearchClick, SearchQuery

    with app.app_context():
        search = SearchQuery(query=query, result_count=3, created_at=at)
        db.session.add(search)
        db.session.flush()
        db.session.add(SearchClick(search_query_id=search.id, product_id=product_id, created_at=at))
        db.session.commit()


def at(day: date, hour: int = 12) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def days_ago(n: int, today: date | None = None) -> date:
    from app.timeutil import utcnow

    return (today or utcnow().date()) - timedelta(days=n)


def add_download(app, line_id: int, product_id: int, when: datetime) -> None:
    """A download log row of ``product_id`` at ``when``, by the buyer of order line
    ``line_id`` on a new licence of that line."""
    from app.commerce.models import OrderLine
    from app.downloads.models import DownloadLog
    from app.licensing.keys import generate_key
    from app.licensing.models import Licence

    with app.app_context():
        user_id = db.session.get(OrderLine, line_id).order.buyer_id
        licence = Licence(
            key=generate_key(), user_id=user_id, product_id=product_id, order_line_id=line_id
        )
        db.session.add(licence)
        db.session.flush()
        db.session.add(
            DownloadLog(
                user_id=user_id,
                licence_id=licence.id,
                product_id=product_id,
                storage_key="versions/files/" + "0" * 64,
                bytes=10,
                created_at=when,
            )
        )
        db.session.commit()
