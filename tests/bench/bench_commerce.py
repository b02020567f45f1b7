"""Webhook benchmark: 1,000 signed Stripe deliveries, 20 % of them duplicates, in-process and
through gunicorn.

Run: .venv/bin/python tests/bench/bench_commerce.py [--events 1000] [--workers N (cores)]
      [--connections 8]
Each run seeds a fresh SQLite database in a temporary folder with pending orders (one per
distinct event), signs a `checkout.session.completed` per order as Stripe does (HMAC-SHA256 of
`timestamp.payload`), repeats a fifth of them, shuffles, and posts them to /webhooks/stripe:
first through the app's test client in this process (no network: the app's own cost), then to
gunicorn (APP_ENV=production) from keep-alive connections. A private redis-server takes the
follow-up jobs (receipt, sales counters), as in production: the webhook only enqueues them.
Every order must end paid exactly once and the ledger must balance.
Prints `name: value unit` lines: p50/p95 latency and throughput for each.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _data import PRODUCTION_PARTS  # noqa: E402
from bench_pages import Server  # noqa: E402
from bench_search import pct  # noqa: E402

from tests.support.services import RedisServer  # noqa: E402

DUPLICATE_SHARE = 0.2


def prepare(tmp: Path, orders: int, redis_url: str) -> tuple[dict[str, str], list[tuple[str, int]]]:
    """Migrate a fresh database and write ``orders`` pending orders; return the server's
    environment and (order number, total) pairs."""
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.models import User
    from app.catalog.models import Category, Product
    from app.commerce.models import Order, OrderLine
    from app.extensions import db
    from app.vendors.models import VendorProfile

    env = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "BASE_URL": "http://127.0.0.1",
        **PRODUCTION_PARTS,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
    }
    app = create_app(env=env)
    refs = []
    with app.app_context():
        upgrade()
        seller = User(email="seller@bench.invalid", password_hash="x", role="vendor")
        db.session.add(seller)
        db.session.flush()
        vendor = VendorProfile(
            user_id=seller.id,
            store_name="Bench",
            slug="bench",
            support_email=seller.email,
            country="US",
            status="approved",
        )
        category = Category(name="Bench", slug="bench", description="", position=0)
        product = Product(
            vendor=vendor,
            category=category,
            slug="bench-product",
            status="approved",
            title="Bench product",
            price_type="one_time",
            price_cents=1900,
        )
        db.session.add(product)
        db.session.flush()
        for n in range(orders):
            buyer = User(email=f"buyer{n}@bench.invalid", password_hash="x")
            db.session.add(buyer)
            db.session.flush()
            order = Order(
                number=f"AM-BENCH{n:06d}",
                buyer_id=buyer.id,
                currency="USD",
                subtotal_cents=1900,
                total_cents=1900,
                provider="stripe",
                provider_session_ref=f"cs_bench_{n}",
                buyer_details={"name": "Bench", "email": buyer.email},
                seller_details=[],
            )
            order.lines.append(
                OrderLine(
                    product_id=product.id,
                    vendor_id=vendor.id,
                    title="Bench product",
                    list_price_cents=1900,
                    price_cents=1900,
                    currency="USD",
                    commission_bps=2000,
                )
            )
            db.session.add(order)
            refs.append((order.number, 1900))
        db.session.commit()
        db.engine.dispose()
    return env, refs


def deliveries(refs: list[tuple[str, int]], secret: str, seed: int) -> list[tuple[bytes, str]]:
    """One signed completion per order, a fifth of them twice, shuffled."""
    rnd = random.Random(seed)
    now = int(time.time())
    events = []
    for i, (number, total) in enumerate(refs):
        body = {
            "id": f"evt_bench_{i}",
            "object": "event",
            "created": now,
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": f"cs_bench_{i}",
                    "object": "checkout.session",
                    "payment_status": "paid",
                    "amount_total": total,
                    "currency": "usd",
                    "payment_intent": f"pi_bench_{i}",
                    "metadata": {"order_ref": number},
                }
            },
        }
        payload = json.dumps(body).encode()
        mac = hmac.new(secret.encode(), f"{now}.".encode() + payload, hashlib.sha256).hexdigest()
        events.append((payload, f"t={now},v1={mac}"))
    total = int(len(events) / (1 - DUPLICATE_SHARE))
    events += rnd.choices(events, k=total - len(events))
    rnd.shuffle(events)
    return events


def check(env: dict[str, str], expected: int) -> None:
    """Every order paid once, one licence each, the ledger balanced."""
    from sqlalchemy import func, select

    from app import create_app
    from app.commerce.models import LedgerEntry, Order
    from app.extensions import db
    from app.licensing.models import Licence

    app = create_app(env=env)
    with app.app_context():
        paid = db.session.scalar(select(func.count()).where(Order.status == "paid"))
        licences = db.session.scalar(select(func.count()).select_from(Licence))
        balance = db.session.scalar(select(func.sum(LedgerEntry.amount_cents)))
        db.engine.dispose()
    assert paid == expected == licences, (paid, licences, expected)
    assert balance == 0, balance


def report(name: str, latencies: list[float], wall: float) -> None:
    print(f"{name}_p50: {statistics.median(latencies):.2f} ms")
    print(f"{name}_p95: {pct(latencies, 95):.2f} ms")
    print(f"{name}_throughput: {len(latencies) / wall:.0f} req/s")


def in_process(env: dict[str, str], events: list[tuple[bytes, str]]) -> None:
    from app import create_app

    client = create_app(env=env).test_client()
    headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
    latencies = []
    start = time.perf_counter()
    outcomes: dict[str, int] = {}
    for payload, signature in events:
        t = time.perf_counter()
        response = client.post(
            "/webhooks/stripe", data=payload, headers={**headers, "Stripe-Signature": signature}
        )
        latencies.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        outcomes[response.json["outcome"]] = outcomes.get(response.json["outcome"], 0) + 1
    report("webhook_inprocess", latencies, time.perf_counter() - start)
    print(f"webhook_inprocess_duplicates: {outcomes.get('duplicate', 0)} events")


def through_gunicorn(
    env: dict[str, str], events: list[tuple[bytes, str]], workers: int, connections: int
) -> None:
    server = Server(env, workers)
    try:
        server.wait_ready()
        latencies: list[list[float]] = [[] for _ in range(connections)]
        failures = [0] * connections
        barrier = threading.Barrier(connections + 1)

        def client(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            barrier.wait()
            for payload, signature in events[i::connections]:
                headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
                t = time.perf_counter()
                try:
                    conn.request("POST", "/webhooks/stripe", body=payload, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status = 0
                latencies[i].append((time.perf_counter() - t) * 1000)
                failures[i] += status != 200
            conn.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    finally:
        server.stop()
    assert sum(failures) == 0, f"{sum(failures)} deliveries not answered 200"
    report("webhook_gunicorn", [ms for per in latencies for ms in per], wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    distinct = int(args.events * (1 - DUPLICATE_SHARE))
    secret = PRODUCTION_PARTS["STRIPE_WEBHOOK_SECRET"]
    redis = RedisServer()
    redis.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            env, refs = prepare(Path(folder), distinct, redis.url)
            events = deliveries(refs, secret, seed=1)
            print(f"webhook_events: {len(events)} deliveries ({distinct} distinct)")
            in_process(env, events)
            check(env, distinct)
        with tempfile.TemporaryDirectory() as folder:
            env, refs = prepare(Path(folder), distinct, redis.url)
            events = deliveries(refs, secret, seed=2)
            through_gunicorn(env, events, args.workers, args.connections)
            check(env, distinct)
    finally:
        redis.close()


if __name__ == "__main__":
    main()
