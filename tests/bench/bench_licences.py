"""Licence API benchmark: POST /api/v1/licenses/validate through gunicorn beside the /about floor.

Run: .venv/bin/python tests/bench/bench_licences.py [--licences 10000] [--workers N (cores)]
Seeds a fresh SQLite database in a temporary folder (products from tests/bench/_data.py, then
buyers, orders, lines and licences by bulk inserts), starts gunicorn with production settings
on a free loopback port (bench_pages.Server) with its rate limits in a private Redis (as in
production; --limits memory for the in-process fallback), then drives 16 keep-alive
connections: in each
round a floor run of GET /about, then validate calls with random existing keys (typed as
people type them: lower case, no dashes, a quarter of them for the wrong product) right
after it. The share of the floor is the median over the rounds of validate's throughput
against its paired floor run (this machine's speed drifts within seconds). Prints
`name: value unit` lines: p50/p95 latency, throughput, the share of the floor and its range,
the server's CPU time per request.
Targets at 10k licences: validate p95 < 20 ms, throughput >= 50 % of the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _data import PRODUCTION_PARTS, seed_products  # noqa: E402
from bench_pages import Server, drive  # noqa: E402
from bench_search import pct  # noqa: E402

P95_TARGET_MS = 20.0
FLOOR_SHARE_TARGET = 50.0
BATCH = 5000

Request = tuple[str, str, bytes | None]  # method, path, JSON body


def seed_licences(n: int, products: int, session) -> list[tuple[str, int, str]]:
    """``n`` licences over ``products`` products, for n // 10 buyers, each with its order and
    line; return (key, product id, product slug) of each."""
    from sqlalchemy import insert, select

    from app.accounts.models import User
    from app.catalog.models import Product
    from app.commerce.models import Order, OrderLine
    from app.licensing.keys import generate_key
    from app.licensing.models import Licence

    seed_products(products, session)
    catalog = session.execute(select(Product.id, Product.vendor_id, Product.slug)).all()
    now = datetime.now(UTC)
    buyers = max(1, n // 10)
    session.execute(
        insert(User),
        [
            {
                "email": f"buyer{i}@bench.test",
                "password_hash": "!",
                "role": "customer",
                "session_token": f"bench-buyer-{i}",
                "email_verified_at": now,
            }
            for i in range(buyers)
        ],
    )
    buyer_ids = list(session.scalars(select(User.id).where(User.email.like("buyer%@bench.test"))))
    rnd = random.Random(11)
    made = []
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        picks = [rnd.choice(catalog) for _ in range(count)]
        owners = [buyer_ids[(start + i) % len(buyer_ids)] for i in range(count)]
        numbers = [f"B-{start + i:08d}" for i in range(count)]
        session.execute(
            insert(Order),
            [
                {
                    "number": numbers[i],
                    "buyer_id": owners[i],
                    "status": "paid",
                    "currency": "USD",
                    "provider": "sandbox",
                    "provider_session_ref": f"bench-{start + i}",
                    "paid_at": now,
                }
                for i in range(count)
            ],
        )
        order_ids = dict(
            session.execute(select(Order.number, Order.id).where(Order.number.in_(numbers))).all()
        )
        session.execute(
            insert(OrderLine),
            [
                {
                    "order_id": order_ids[numbers[i]],
                    "product_id": pick[0],
                    "vendor_id": pick[1],
                    "title": "Bench product",
                    "list_price_cents": 1500,
                    "price_cents": 1500,
                    "currency": "USD",
                }
                for i, pick in enumerate(picks)
            ],
        )
        line_of = dict(
            session.execute(
                select(OrderLine.order_id, OrderLine.id).where(
                    OrderLine.order_id.in_(list(order_ids.values()))
                )
            ).all()
        )
        keys = [generate_key() for _ in range(count)]
        session.execute(
            insert(Licence),
            [
                {
                    "key": keys[i],
                    "user_id": owners[i],
                    "product_id": pick[0],
                    "order_line_id": line_of[order_ids[numbers[i]]],
                    "max_activations": 3,
                }
                for i, pick in enumerate(picks)
            ],
        )
        made += [(keys[i], pick[0], pick[2]) for i, pick in enumerate(picks)]
    session.commit()
    return made


def prepare(
    tmp: Path, n: int, products: int, limits_url: str | None
) -> tuple[dict[str, str], list]:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    env = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "STORAGE_DIR": str(tmp / "storage"),
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "BASE_URL": "http://127.0.0.1",
        **PRODUCTION_PARTS,
        "LOG_LEVEL": "WARNING",
        "LICENCE_API_RATE_LIMIT": "100000000 per minute",  # 16 clients on one address
    }
    if limits_url:
        # Rate limits counted in Redis, as in production (the pages keep no other Redis use).
        env["RATELIMIT_STORAGE_URI"] = limits_url
    app = create_app(env=env)
    start = time.perf_counter()
    with app.app_context():
        upgrade()
        made = seed_licences(n, products, db.session)
        db.engine.dispose()
    print(f"seed_licences_{n}: {time.perf_counter() - start:.1f} s")
    return env, made


def validate_requests(made: list[tuple[str, int, str]]) -> Callable[[random.Random], Request]:
    slugs = sorted({slug for _, _, slug in made})

    def request(rnd: random.Random) -> Request:
        key, product_id, slug = rnd.choice(made)
        typed = key.lower().replace("-", "")
        roll = rnd.random()
        product: str | int = slug if roll < 0.5 else product_id
        if roll >= 0.75:
            product = rnd.choice(slugs)  # mostly another product's: 404
        body = json.dumps({"key": typed, "product": product}).encode()
        return "POST", "/api/v1/licenses/validate", body

    return request


def bench(args: argparse.Namespace) -> bool:
    n = args.licences
    redis = None
    if args.limits == "redis":
        from tests.support.services import RedisServer

        redis = RedisServer()
        redis.start()
    with tempfile.TemporaryDirectory(prefix="bench-licences-") as tmp:
        env, made = prepare(Path(tmp), n, args.products, redis.url if redis else None)
        server = Server(env, args.workers)
        try:
            server.wait_ready()
            targets: dict[str, Callable[[random.Random], Request]] = {
                "about": lambda rnd: ("GET", "/about", None),
                "validate": validate_requests(made),
            }
            for path in targets.values():
                drive(server.port, path, args.connections, args.warmup, ok=(200, 404))
            latencies: dict[str, list[float]] = {name: [] for name in targets}
            rates: dict[str, list[float]] = {name: [] for name in targets}
            cpu_ms: dict[str, list[float]] = {name: [] for name in targets}
            errors = dict.fromkeys(targets, 0)
            shares: list[float] = []

            def run(name: str) -> float:
                cpu = server.cpu_seconds()
                times, wall, failed = drive(
                    server.port, targets[name], args.connections, args.requests, ok=(200, 404)
                )
                cpu_ms[name].append(1000 * (server.cpu_seconds() - cpu) / len(times))
                latencies[name] += times
                rates[name].append(len(times) / wall)
                errors[name] += failed
                return len(times) / wall

            for _ in range(args.rounds):
                floor = run("about")
                shares.append(100 * run("validate") / floor)
            for name in targets:
                print(f"licences_{name}_p50_{n}: {statistics.median(latencies[name]):.1f} ms")
                print(f"licences_{name}_p95_{n}: {pct(latencies[name], 95):.1f} ms")
                print(f"licences_{name}_throughput_{n}: {statistics.median(rates[name]):.0f} req/s")
                print(f"licences_{name}_server_cpu_{n}: {statistics.median(cpu_ms[name]):.2f} ms")
                if errors[name]:
                    print(f"licences_{name}_errors_{n}: {errors[name]} requests")
            share = statistics.median(shares)
            print(f"licences_validate_vs_floor_{n}: {share:.0f} %")
            print(f"licences_validate_vs_floor_range_{n}: {min(shares):.0f}-{max(shares):.0f} %")
            p95 = pct(latencies["validate"], 95)
            ok = not errors["validate"] and share >= FLOOR_SHARE_TARGET and p95 < P95_TARGET_MS
            print(f"licences_targets_met_{n}: {'yes' if ok else 'no'}")
            return ok
        finally:
            server.stop()
            if redis is not None:
                redis.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licences", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument(
        "--workers", type=int, default=len(os.sched_getaffinity(0)), help="gunicorn sync workers"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=100, help="per connection and run")
    parser.add_argument("--warmup", type=int, default=50, help="per connection and route")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each pairs floor, validate)")
    parser.add_argument(
        "--limits",
        choices=("redis", "memory"),
        default="redis",
        help="where rate limits are counted (production: Redis; memory starts a timer thread)",
    )
    args = parser.parse_args()
    print(f"rate_limit_storage: {args.limits}")
    print(f"gunicorn_workers: {args.workers} workers")
    print(f"client_connections: {args.connections} connections")
    print(f"rounds: {args.rounds} rounds of {args.requests} requests per connection and route")
    bench(args)


if __name__ == "__main__":
    main()
