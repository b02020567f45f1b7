"""Analytics benchmark: the vendor dashboard through gunicorn, and the aggregation job.

Run: .venv/bin/python tests/bench/bench_analytics.py [--listings 1000] [--days 730]
     [--views 1000000] [--orders 100000] [--database-url postgresql://...] [--skip-pages]

1. Dashboard: one store with ``--listings`` listings and ``--days`` of daily aggregates per
   listing (seeded straight into the aggregate tables), gunicorn with production settings (one
   sync worker per core, no Redis), 16 keep-alive connections signed in as the vendor, against
   /about (the floor, through the same stack). Pages: the store's dashboard for 30 and 90 days,
   a listing's for 30 days, the per-day CSV; with the server's CPU time per request (read from
   /proc, as bench_pages does). Target: p95 <= 50 ms.
2. Aggregation: ``--views`` page views (with referrers), ``--orders`` paid orders with their
   ledger rows and a search click for one in ten, all on one day (the nightly job's worst
   case), then ``aggregate_day`` timed twice (the second replaces the first). Target: < 60 s.

Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _data import PRODUCTION_PARTS, seed_products  # noqa: E402
from bench_pages import Server, drive  # noqa: E402
from bench_search import pct  # noqa: E402

P95_TARGET_MS = 50.0
AGGREGATE_TARGET_S = 60.0
PASSWORD = "bench-analytics-password-2026"
BATCH = 20_000


def _env(tmp: Path, database_url: str | None) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.db",
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "BASE_URL": "http://127.0.0.1",
        **PRODUCTION_PARTS,
        "LOG_LEVEL": "WARNING",
    }


def _fresh_schema(app) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


def seed_store(app, listings: int, days: int) -> tuple[str, list[int]]:
    """One vendor owning ``listings`` products with ``days`` of daily aggregates each; return
    the vendor's email and the product ids."""
    from sqlalchemy import func, insert, select, update

    from app.accounts.models import User
    from app.accounts.services import hash_password
    from app.catalog.models import Product
    from app.extensions import db
    from app.vendors.models import (
        ProductDailySource,
        ProductDailyStat,
        VendorDailySource,
        VendorDailyStat,
        VendorProfile,
    )

    with app.app_context():
        seed_products(listings, db.session)
        vendor = db.session.scalars(select(VendorProfile).order_by(VendorProfile.id)).first()
        db.session.execute(update(Product).values(vendor_id=vendor.id))
        user = db.session.get(User, vendor.user_id)
        user.password_hash = hash_password(PASSWORD)
        email = user.email
        db.session.commit()
        ids = list(db.session.scalars(select(Product.id).order_by(Product.id)))
        rnd = random.Random(5)
        today = datetime.now(UTC).date()
        hosts = ["news.example", "www.google.com", "community.n8n.io", "blog.example"]
        stats, sources = [], []
        for n in range(days):
            day = today - timedelta(days=n)
            for pid in ids:
                views = rnd.randrange(0, 40)
                sales = rnd.randrange(0, 3) if views > 20 else 0
                stats.append(
                    {
                        "product_id": pid,
                        "day": day,
                        "vendor_id": vendor.id,
                        "currency": "USD",
                        "views": views,
                        "visitors": views * 4 // 5,
                        "sales": sales,
                        "gross_cents": sales * 1500,
                        "net_cents": sales * 1200,
                        "refunds": 0,
                        "refunded_cents": 0,
                        "downloads": 0,
                    }
                )
                if views > 30:
                    sources.append(
                        {
                            "product_id": pid,
                            "day": day,
                            "kind": "referrer",
                            "value": rnd.choice(hosts),
                            "vendor_id": vendor.id,
                            "count": views // 3,
                        }
                    )
            if len(stats) >= BATCH:
                db.session.execute(insert(ProductDailyStat), stats)
                stats = []
        if stats:
            db.session.execute(insert(ProductDailyStat), stats)
        for start in range(0, len(sources), BATCH):
            db.session.execute(insert(ProductDailySource), sources[start : start + BATCH])
        ps, vs = ProductDailyStat.__table__, VendorDailyStat.__table__
        summed = [
            "views",
            "visitors",
            "sales",
            "gross_cents",
            "net_cents",
            "refunds",
            "refunded_cents",
            "downloads",
        ]
        db.session.execute(
            vs.insert().from_select(
                ["vendor_id", "day", "currency", *summed],
                select(
                    ps.c.vendor_id,
                    ps.c.day,
                    ps.c.currency,
                    *(func.sum(ps.c[name]) for name in summed),
                ).group_by(ps.c.vendor_id, ps.c.day, ps.c.currency),
            )
        )
        pds, vds = ProductDailySource.__table__, VendorDailySource.__table__
        db.session.execute(
            vds.insert().from_select(
                ["vendor_id", "day", "kind", "value", "count"],
                select(
                    pds.c.vendor_id, pds.c.day, pds.c.kind, pds.c.value, func.sum(pds.c.count)
                ).group_by(pds.c.vendor_id, pds.c.day, pds.c.kind, pds.c.value),
            )
        )
        db.session.commit()
        rows = db.session.scalar(select(func.count()).select_from(ProductDailyStat))
        print(f"analytics_daily_rows: {rows} rows")
        db.engine.dispose()
        return email, ids


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> dict[str, str]:
    """``jar`` with every cookie ``response`` sets (a page may set more than the session)."""
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, value = header.split(";", 1)[0].partition("=")
        jar[name.strip()] = value
    return jar


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def sign_in(port: int, email: str) -> str:
    """The Cookie header of the vendor, signed in through the login form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    jar = _cookies(response, {})
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        r'name="csrf_token" value="([^"]+)"', body
    )
    form = urlencode({"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    conn.request(
        "POST",
        "/login",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": _cookie_header(jar),
        },
    )
    response = conn.getresponse()
    response.read()
    if response.status != 303:
        raise RuntimeError(f"login failed: {response.status}")
    cookie = _cookie_header(_cookies(response, jar))
    conn.request("GET", "/vendor/analytics", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"signed in, but the dashboard answered {response.status}")
    conn.close()
    return cookie


def bench_pages(args: argparse.Namespace) -> bool:
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        env = _env(Path(tmp), args.database_url)
        app = create_app(env=env)
        _fresh_schema(app)
        start = time.perf_counter()
        email, ids = seed_store(app, args.listings, args.days)
        print(f"analytics_seed_{args.listings}x{args.days}: {time.perf_counter() - start:.1f} s")
        server = Server(env, args.workers)
        try:
            server.wait_ready()
            cookie = sign_in(server.port, email)
            routes = {
                "about": lambda rnd: "/about",
                "dashboard_30": lambda rnd: "/vendor/analytics?range=30",
                "dashboard_90": lambda rnd: "/vendor/analytics?range=90",
                "listing_30": lambda rnd: f"/vendor/analytics/{rnd.choice(ids)}?range=30",
                "daily_csv_90": lambda rnd: "/vendor/analytics/daily.csv?range=90",
            }
            for path in routes.values():
                drive(server.port, path, args.connections, args.warmup, headers={"Cookie": cookie})
            ok = True
            for name, path in routes.items():
                cpu = server.cpu_seconds()
                times, wall, failed = drive(
                    server.port, path, args.connections, args.requests, headers={"Cookie": cookie}
                )
                cpu_ms = 1000 * (server.cpu_seconds() - cpu) / len(times)
                p95 = pct(times, 95)
                print(f"analytics_{name}_p50: {statistics.median(times):.1f} ms")
                print(f"analytics_{name}_p95: {p95:.1f} ms")
                print(f"analytics_{name}_throughput: {len(times) / wall:.0f} req/s")
                # The server's own CPU per request: what the clients and other load sway least.
                print(f"analytics_{name}_server_cpu: {cpu_ms:.2f} ms")
                if failed:
                    print(f"analytics_{name}_errors: {failed} requests")
                if name != "about":
                    ok = ok and not failed and p95 <= P95_TARGET_MS
            print(f"analytics_pages_target_met: {'yes' if ok else 'no'}")
            return ok
        finally:
            server.stop()


def seed_day(app, day: date, views: int, orders: int, products: int) -> None:
    """``views`` page views and ``orders`` paid one-line orders with their ledger rows on
    ``day``, over ``products`` listings of 100 stores; inserted in batches."""
    from sqlalchemy import insert, select

    from app.accounts.models import User
    from app.catalog.models import Product, ProductView
    from app.commerce.models import LedgerEntry, Order, OrderLine
    from app.extensions import db
    from app.search.models import SearchClick, SearchQuery

    with app.app_context():
        seed_products(products, db.session)
        rows = db.session.execute(select(Product.id, Product.vendor_id)).all()
        buyer = User(email="buyer@bench.test", password_hash="!", role="customer")
        db.session.add(buyer)
        db.session.commit()
        rnd = random.Random(11)
        hosts = ["", "", "news.example", "www.google.com", "community.n8n.io"]
        batch = []
        for n in range(views):
            pid = rows[n % len(rows)][0]
            batch.append(
                {
                    "product_id": pid,
                    "day": day,
                    "visitor": f"{n:032x}",
                    "address": f"{n // 3:032x}",
                    "referrer": rnd.choice(hosts),
                }
            )
            if len(batch) == BATCH:
                db.session.execute(insert(ProductView), batch)
                batch = []
        if batch:
            db.session.execute(insert(ProductView), batch)
        paid_at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        for start in range(0, orders, BATCH):
            count = min(BATCH, orders - start)
            db.session.execute(
                insert(Order),
                [
                    {
                        "id": start + i + 1,
                        "number": f"B{start + i + 1:09d}",
                        "buyer_id": buyer.id,
                        "status": "paid",
                        "currency": "USD",
                        "subtotal_cents": 1500,
                        "total_cents": 1500,
                        "provider": "sandbox",
                        "provider_session_ref": f"b{start + i}",
                        "buyer_details": {},
                        "seller_details": [],
                        "created_at": paid_at,
                        "paid_at": paid_at,
                        "updated_at": paid_at,
                    }
                    for i in range(count)
                ],
            )
            lines, ledger = [], []
            for i in range(count):
                oid = start + i + 1
                pid, vid = rows[oid % len(rows)]
                lines.append(
                    {
                        "id": oid,
                        "order_id": oid,
                        "product_id": pid,
                        "vendor_id": vid,
                        "title": "Bench",
                        "kind": "one_time",
                        "list_price_cents": 1500,
                        "price_cents": 1500,
                        "currency": "USD",
                        "commission_bps": 2000,
                    }
                )
                for account, amount, kind in (
                    ("buyer", -1500, "gross"),
                    ("platform", 300, "commission"),
                    (f"vendor:{vid}", 1200, "vendor_net"),
                ):
                    ledger.append(
                        {
                            "txn": f"sale:{oid}",
                            "account": account,
                            "amount_cents": amount,
                            "currency": "USD",
                            "kind": kind,
                            "order_id": oid,
                            "order_line_id": oid,
                            "created_at": paid_at,
                        }
                    )
            db.session.execute(insert(OrderLine), lines)
            db.session.execute(insert(LedgerEntry), ledger)
        queries = [
            {
                "id": n + 1,
                "query": f"query {n % 500}",
                "result_count": 5,
                "filters": {},
                "sort": "relevance",
                "created_at": paid_at,
            }
            for n in range(orders // 10)
        ]
        db.session.execute(insert(SearchQuery), queries)
        db.session.execute(
            insert(SearchClick),
            [
                {
                    "search_query_id": q["id"],
                    "product_id": rows[q["id"] % len(rows)][0],
                    "created_at": paid_at,
                }
                for q in queries
            ],
        )
        db.session.commit()
        db.engine.dispose()


def bench_aggregate(args: argparse.Namespace) -> bool:
    from app import create_app
    from app.extensions import db
    from app.vendors import analytics

    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as tmp:
        env = _env(Path(tmp), args.database_url)
        app = create_app(env=env)
        _fresh_schema(app)
        day = datetime.now(UTC).date() - timedelta(days=1)
        start = time.perf_counter()
        seed_day(app, day, args.views, args.orders, args.products)
        print(f"aggregate_seed: {time.perf_counter() - start:.1f} s")
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            times = []
            for _ in range(2):
                start = time.perf_counter()
                written = analytics.aggregate_day(day)
                times.append(time.perf_counter() - start)
            db.engine.dispose()
        label = f"{args.views}_views_{args.orders}_orders"
        print(f"aggregate_day_rows: {written} rows")
        print(f"aggregate_day_{label}: {times[0]:.1f} s")
        print(f"aggregate_day_again_{label}: {times[1]:.1f} s")
        ok = max(times) < AGGREGATE_TARGET_S
        print(f"aggregate_target_met: {'yes' if ok else 'no'}")
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--views", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000, help="for the aggregation")
    parser.add_argument("--database-url", default=None, help="a bench_* PostgreSQL database")
    parser.add_argument(
        "--workers", type=int, default=len(os.sched_getaffinity(0)), help="gunicorn sync workers"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50, help="per connection and page")
    parser.add_argument("--warmup", type=int, default=10, help="per connection and page")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-aggregate", action="store_true")
    args = parser.parse_args()
    if args.database_url and "bench" not in args.database_url.rsplit("/", 1)[-1]:
        parser.error("--database-url must name a bench_* database (its schema is dropped)")
    print(f"gunicorn_workers: {args.workers} workers")
    print(f"client_connections: {args.connections} connections")
    if not args.skip_pages:
        bench_pages(args)
    if not args.skip_aggregate:
        bench_aggregate(args)


if __name__ == "__main__":
    main()
