"""Demo analytics and payouts for the demo vendor: 90 days of page views (with referrers and
search clicks) and sales with their ledger rows, one payout sent a month ago and a pending
balance, then the daily aggregates. Call ``seed_analytics()`` after the catalogue (and
commerce) seed; it is idempotent (it does nothing when its demo orders exist).

Each sale is a different demo shopper's (nobody buys a perpetual licence twice) and issues
that shopper's licence, and the products' view and sales counters grow by the rows added, so
the figures on product pages agree with the rows behind them."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import find_user_by_email, hash_password
from app.catalog.models import PriceType, Product, ProductStatus, ProductView
from app.commerce.models import LedgerEntry, Order, OrderLine
from app.extensions import db
from app.licensing.services import issue_licence
from app.search.models import SearchClick, SearchQuery
from app.timeutil import utcnow
from app.vendors import analytics, payouts
from app.vendors.models import PayoutAccount, PayoutMethod, VendorProfile

DAYS = 90
ORDER_PREFIX = "DEMO-A-"
VENDOR_EMAIL = "vendor@demo.autopilot.monster"
SHOPPER_EMAIL = "shopper{:04d}@demo.autopilot.monster"
REFERRERS = ("news.ycombinator.com", "www.reddit.com", "community.n8n.io", "www.google.com", "")
QUERIES = ("crm sync", "invoice reminder", "lead scoring", "slack alerts", "email digest")
COMMISSION_BPS = 2000


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def seed_analytics(vendor_email: str = VENDOR_EMAIL) -> Iterator[str]:
    """Seed the demo vendor's analytics and payouts; yields progress lines."""
    exists = db.session.scalar(
        select(func.count()).select_from(Order).where(Order.number.like(f"{ORDER_PREFIX}%"))
    )
    if exists:
        yield "analytics demo: exists"
        return
    vendor_user = find_user_by_email(vendor_email)
    vendor = (
        db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == vendor_user.id))
        if vendor_user
        else None
    )
    if vendor is None:
        yield "analytics demo: skipped (no demo vendor: run the seed first)"
        return
    products = db.session.scalars(
        select(Product)
        .where(Product.vendor_id == vendor.id, Product.status == ProductStatus.APPROVED.value)
        .order_by(Product.id)
    ).all()
    if not products:
        yield "analytics demo: skipped (the demo vendor has no approved listings)"
        return
    rng = random.Random(20261202)  # noqa: S311 - demo figures, not secrets
    now = utcnow()
    today = now.date()
    first = today - timedelta(days=DAYS - 1)
    views = sales = 0
    # The shoppers cannot sign in: one unguessable password, hashed once (scrypt is slow).
    shopper_hash = hash_password(secrets.token_urlsafe(32))
    for product in products:
        product_views = product_sales = 0
        paid = product.price_type == PriceType.ONE_TIME and product.price_cents > 0
        popularity = 5 + rng.randrange(40)
        for n in range(DAYS):
            day = first + timedelta(days=n)
            # Busier lately, quieter at weekends.
            level = popularity * (0.6 + 0.6 * n / DAYS) * (0.6 if day.weekday() >= 5 else 1)
            count = max(0, int(rng.gauss(level, level / 4)))
            for v in range(count):
                network = rng.randrange(max(1, int(count * 0.8)))
                db.session.add(
                    ProductView(
                        product_id=product.id,
                        day=day,
                        visitor=_key("demo-visitor", product.id, day, v),
                        address=_key("demo-network", product.id, day, network),
                        referrer=rng.choice(REFERRERS),
                    )
                )
            product_views += count
            for _ in range(count // 8):
                clicked = datetime.combine(day, time(rng.randrange(24)), tzinfo=UTC)
                search = SearchQuery(query=rng.choice(QUERIES), result_count=12, created_at=clicked)
                db.session.add(search)
                db.session.flush()
                db.session.add(
                    SearchClick(
                        search_query_id=search.id, product_id=product.id, created_at=clicked
                    )
                )
            if paid:
                for _ in range(sum(rng.random() < 0.03 for _ in range(count))):
                    sales += 1
                    product_sales += 1
                    paid_at = datetime.combine(
                        day, time(rng.randrange(24), rng.randrange(60)), tzinfo=UTC
                    )
                    if paid_at > now:
                        paid_at = now - timedelta(minutes=sales)
                    _sale(sales, _shopper(sales, shopper_hash, paid_at), product, paid_at)
        views += product_views
        product.view_count += product_views
        product.sales_count += product_sales
        product.popularity += product_views + product_sales
    db.session.commit()
    yield f"analytics demo: {views} page views, {sales} sales over {DAYS} days"
    yield from _payouts(vendor, now)
    analytics.aggregate_range(first, today)
    yield f"analytics demo: aggregated {first} to {today}"


def _shopper(n: int, password_hash: str, joined: datetime) -> int:
    user = User(
        email=SHOPPER_EMAIL.format(n),
        password_hash=password_hash,
        first_name="Demo",
        last_name=f"Shopper {n}",
        email_verified_at=joined,
        created_at=joined - timedelta(days=1),
    )
    db.session.add(user)
    db.session.flush()
    return user.id


def _sale(n: int, buyer_id: int, product: Product, paid_at: datetime) -> None:
    price = product.price_cents
    order = Order(
        number=f"{ORDER_PREFIX}{n:06d}",
        buyer_id=buyer_id,
        status="paid",
        currency=product.currency,
        subtotal_cents=price,
        total_cents=price,
        provider="sandbox",
        provider_session_ref=f"demo-analytics-{n}",
        created_at=paid_at,
        paid_at=paid_at,
    )
    line = OrderLine(
        order=order,
        product_id=product.id,
        vendor_id=product.vendor_id,
        title=product.title,
        list_price_cents=price,
        price_cents=price,
        currency=product.currency,
        commission_bps=COMMISSION_BPS,
    )
    db.session.add(order)
    db.session.flush()
    issue_licence(buyer_id, product, line.id).created_at = paid_at
    commission = price * COMMISSION_BPS // 10_000
    for account, amount, kind in (
        ("buyer", -price, "gross"),
        ("platform", commission, "commission"),
        (payouts.vendor_account(product.vendor_id), price - commission, "vendor_net"),
    ):
        db.session.add(
            LedgerEntry(
                txn=f"demo-sale:{order.id}",
                account=account,
                amount_cents=amount,
                currency=product.currency,
                kind=kind,
                order_id=order.id,
                order_line_id=line.id,
                created_at=paid_at,
            )
        )


def _payouts(vendor: VendorProfile, now: datetime) -> Iterator[str]:
    """A Stripe payout sent 30 days ago (what was payable then); the rest stays pending."""
    if db.session.scalar(select(PayoutAccount).where(PayoutAccount.vendor_id == vendor.id)) is None:
        db.session.add(
            PayoutAccount(
                vendor_id=vendor.id,
                method=PayoutMethod.STRIPE.value,
                stripe_account_id="acct_1DemoVeraAutomation",
            )
        )
        db.session.flush()
    config = dataclasses.replace(current_app.config["APP_CONFIG"], payout_minimum_cents=1)
    then = now - timedelta(days=30)
    sent = 0
    for balance in payouts.balances(vendor.id, then, config.payout_hold_days):
        payout = payouts.create_payout(vendor, balance.currency, then, config)
        if payout is None:
            continue
        payout.status = "sent"
        payout.sent_at = then + timedelta(hours=2)
        payout.provider_ref = f"tr_demo_{payout.id:06d}"
        db.session.add_all(
            [
                LedgerEntry(
                    txn=f"{payout.txn}:sent",
                    account=account,
                    amount_cents=amount,
                    currency=payout.currency,
                    kind="payout_sent",
                    created_at=payout.sent_at,
                )
                for account, amount in (
                    (payouts.CLEARING, -payout.amount_cents),
                    (payouts.SENT, payout.amount_cents),
                )
            ]
        )
        sent += payout.amount_cents
    db.session.commit()
    pending = sum(b.total_cents for b in payouts.balances(vendor.id, now, config.payout_hold_days))
    yield f"analytics demo: paid out {sent / 100:.2f}, pending balance {pending / 100:.2f}"
