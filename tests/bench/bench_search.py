"""Search benchmark: both backends over N generated products, in process.

Run: .venv/bin/python tests/bench/bench_search.py [--sizes 10000,100000]
     [--pg-sizes 10000,100000,1000000] [--backends whoosh,postgres] [--rounds 5]
Prints `name: value unit` lines per backend and size: seeding, reindex (the real path: the
products read from the database, documents built, the index rebuilt), search p50/p95 cold
(each query's first run on a freshly opened index) and warm (the later rounds), facets
included in every search, similar products worked out per product and looked up as a product
page does. Warm searches repeat within SEARCH_REFRESH_SECONDS (60 here): PostgreSQL answers
them from its kept results, so it also prints ``search_uncached`` (its SQL every time); Whoosh
from its per-generation sets. Whoosh runs on a temporary SQLite database; PostgreSQL on the
database named by ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/bench_search,
created if missing, its schema dropped and rebuilt; with ``--reuse`` each size has its own
database, ``<name>_<size>``, and keeps the products an earlier run seeded there).
Targets: p95 <= 30 ms at 10k and <= 150 ms at 100k for each backend, PostgreSQL p95 <= 300 ms
at 1M.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))


SERVICES = [
    "gmail",
    "slack",
    "notion",
    "hubspot",
    "salesforce",
    "airtable",
    "shopify",
    "stripe",
    "discord",
    "telegram",
    "twitter",
    "linkedin",
    "openai",
    "anthropic",
    "pinecone",
    "postgres",
    "mysql",
    "sheets",
    "calendar",
    "zendesk",
    "intercom",
    "jira",
    "github",
    "gitlab",
    "trello",
    "asana",
    "clickup",
    "mailchimp",
    "sendgrid",
    "twilio",
    "whatsapp",
    "dropbox",
    "drive",
    "s3",
]
VERBS = [
    "sync",
    "send",
    "summarise",
    "classify",
    "enrich",
    "scrape",
    "monitor",
    "route",
    "translate",
    "extract",
    "generate",
    "schedule",
    "backup",
    "triage",
    "qualify",
    "score",
    "draft",
    "post",
    "transcribe",
    "index",
    "alert",
]
NOUNS = [
    "leads",
    "invoices",
    "emails",
    "tickets",
    "orders",
    "reports",
    "contacts",
    "posts",
    "documents",
    "meetings",
    "reviews",
    "candidates",
    "payments",
    "subscriptions",
    "messages",
    "calls",
    "tasks",
    "deals",
    "products",
    "prices",
    "images",
    "transcripts",
    "newsletters",
    "campaigns",
    "feedback",
    "inventory",
]
FILLER = [
    "automation",
    "workflow",
    "agent",
    "assistant",
    "pipeline",
    "template",
    "fast",
    "simple",
    "reliable",
    "team",
    "daily",
    "weekly",
    "realtime",
    "secure",
    "custom",
    "smart",
    "ai",
    "powered",
    "no",
    "code",
    "setup",
    "minutes",
    "guide",
    "support",
    "business",
    "sales",
    "marketing",
    "operations",
    "finance",
    "hr",
    "engineering",
    "startup",
    "agency",
    "ecommerce",
]
CATEGORIES = ["marketing", "sales", "support", "operations", "finance", "engineering", "data"]
TYPES = ["ai_agent", "n8n_workflow", "automation_asset"]
PRICE_TYPES = ["free", "one_time", "subscription"]
COMPLEXITIES = ["beginner", "intermediate", "advanced"]


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Plain product rows (the Product columns the index reads), deterministic for ``seed``."""
    rnd = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(1, n + 1):
        service = rnd.sample(SERVICES, 2)
        verb, noun = rnd.choice(VERBS), rnd.choice(NOUNS)
        title = f"{verb.title()} {noun} from {service[0].title()} to {service[1].title()}"
        words = rnd.choices(FILLER + VERBS + NOUNS, k=40)
        price_type = rnd.choices(PRICE_TYPES, weights=[3, 5, 2])[0]
        price = 0 if price_type == "free" else rnd.choice([500, 900, 1900, 2900, 4900, 9900, 19900])
        rows.append(
            {
                "id": i,
                "slug": f"product-{i}",
                "title": title,
                "short_description": " ".join(words[:15]),
                "description_md": " ".join(words),
                "tags": rnd.sample(FILLER, 3),
                "category": rnd.choice(CATEGORIES),
                "vendor": f"vendor-{i % 500}",
                "type": rnd.choice(TYPES),
                "price_type": price_type,
                "price_cents": price,
                "complexity": rnd.choice(COMPLEXITIES),
                "node_types": [f"n8n-nodes-base.{s}" for s in service],
                "services": service,
                "rating_avg": round(rnd.uniform(1, 5), 2),
                "rating_count": rnd.choice([0, 0, 1, 3, 12, 40, 300]),
                "popularity": rnd.randint(0, 50_000),
                "published_at": start + timedelta(minutes=i),
            }
        )
    return rows


QUERIES: list[dict[str, Any]] = [
    {"q": "slack"},  # a service: in ~6% of titles
    {"q": "invoices"},  # a noun: in ~40% of descriptions
    {"q": "agent"},  # a filler word: in ~40% of descriptions, ~9% of tags
    {"q": "transcribe"},
    {"q": "zendesk"},
    {"q": "hubspot leads"},
    {"q": "sync orders"},
    {"q": "stripe payments"},
    {"q": "notion tasks"},
    {"q": "telegram alert"},
    {"q": "summar"},  # as-you-type: a prefix
    {"q": "slak"},  # a typo: nothing matches, did-you-mean
    {"q": "slack", "type": ["ai_agent"]},
    {"q": "emails", "price": ["10_50"], "complexity": ["beginner"]},
    {"q": "", "type": ["n8n_workflow"], "rating": "4"},
    {"q": "", "category": "finance", "price_type": ["free"]},
    {"q": "reports", "category": "finance"},
    {"q": "slack", "sort": "price_asc"},
    {"q": "gmail", "sort": "rating"},
    {"q": "automation", "sort": "newest"},
    {"q": "", "sort": "popular"},
    {"q": "", "sort": "price_desc"},
    {"q": "workflow", "sort": "price_desc", "page": "3"},
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, values: list[float], unit: str = "ms") -> None:
    print(f"{name}_p50: {statistics.median(values):.2f} {unit}")
    print(f"{name}_p95: {pct(values, 95):.2f} {unit}")


def make_app(backend: str, n: int, tmp: str, pg_url: str, reuse: bool = False) -> tuple[Any, bool]:
    """The app, migrated; and whether it kept ``n`` products an earlier run seeded."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    url = f"sqlite:///{tmp}/bench.db" if backend == "whoosh" else pg_url
    app = create_app(
        env={
            "APP_ENV": "test",
            "SECRET_KEY": "b" * 40,
            "DATABASE_URL": url,
            "SEARCH_BACKEND": backend,
            "SEARCH_INDEX_DIR": f"{tmp}/search",
            # Answers kept this long (PostgreSQL) / the open index trusted (Whoosh).
            "SEARCH_REFRESH_SECONDS": "60",
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        kept = backend == "postgres" and reuse and _product_count(db) == n
        if backend == "postgres" and not kept:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        start = time.perf_counter()
        upgrade()  # with --reuse, an earlier schema's rows are carried over here
        print(f"migrate_{backend}_{n}: {time.perf_counter() - start:.1f} s")
    return app, kept


def _product_count(db: Any) -> int | None:
    """How many products a previous run left in the database (None: no schema yet)."""
    from sqlalchemy import inspect, text

    if not inspect(db.engine).has_table("products"):
        return None
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM products")).scalar_one()


def ensure_database(pg_url: str) -> None:
    import psycopg

    base, _, name = pg_url.rpartition("/")
    if not name.startswith("bench_search"):
        raise SystemExit(f"refusing to use {name!r}: benchmark databases are bench_search*")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench(backend_name: str, n: int, rounds: int, pg_url: str, reuse: bool = False) -> None:
    from _data import seed_products

    from app.extensions import db
    from app.search import services
    from app.search.backend import search_backend

    tag = f"{backend_name}_{n}"
    with tempfile.TemporaryDirectory() as tmp:
        app, kept = make_app(backend_name, n, tmp, pg_url, reuse)
        with app.app_context():
            if kept:
                print(f"seed_{tag}: reused")
            else:
                start = time.perf_counter()
                seed_products(n, db.session)
                print(f"seed_{tag}: {time.perf_counter() - start:.1f} s")
            backend = search_backend()
            start = time.perf_counter()
            backend.rebuild(services.public_documents())
            db.session.commit()
            print(f"reindex_{tag}: {time.perf_counter() - start:.1f} s")
            if backend_name == "postgres":
                # The tables as autovacuum would have left them by now (this machine's
                # PostgreSQL runs without it): statistics, and the dead rows of the rebuild
                # gone (the products too: the similar-products lookup joins them).
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(db.text("VACUUM ANALYZE"))

            # As wsgi.py does after start-up: what exists now is kept out of full collections.
            gc.collect()
            gc.freeze()
            cold: list[float] = []
            warm: list[float] = []
            if backend_name == "whoosh":
                backend.close()  # cold: a freshly opened index, nothing read yet
            for i in range(rounds):
                for args in QUERIES:
                    params = services.parse_params(args)
                    begin = time.perf_counter()
                    result = services.search(params)
                    elapsed = (time.perf_counter() - begin) * 1000
                    assert not result.unavailable and result.facets
                    (cold if i == 0 else warm).append(elapsed)
            report(f"search_cold_{tag}", cold)
            report(f"search_warm_{tag}", warm)
            print(f"search_max_{tag}: {max(warm):.1f} ms")
            if backend_name == "postgres":
                # The same queries again with nothing kept: each one's SQL every time.
                from app.search.postgres_backend import PostgresBackend

                uncached = PostgresBackend(refresh_seconds=0)
                times = []
                for _round in range(max(1, rounds - 1)):
                    for args in QUERIES:
                        begin = time.perf_counter()
                        uncached.search(services.parse_params(args))
                        times.append((time.perf_counter() - begin) * 1000)
                report(f"search_uncached_{tag}", times)

            # Worked out per product as indexing does; a sample (smaller at 1M, where each takes
            # about a second), the whole catalog estimated from it.
            ids = random.Random(3).sample(range(1, n + 1), min(n, 1000 if n <= 100_000 else 200))
            start = time.perf_counter()
            services.refresh_similar(ids)
            per = (time.perf_counter() - start) * 1000 / len(ids)
            print(f"similar_compute_{tag}: {per:.2f} ms per product")
            print(f"similar_compute_all_{tag}: {per * n / 1000:.0f} s (estimated, whole catalog)")
            lookups = []
            for product_id in ids:
                begin = time.perf_counter()
                hits = services.more_like_this(product_id, limit=4)
                lookups.append((time.perf_counter() - begin) * 1000)
                assert hits, f"no similar products for {product_id}"
            report(f"similar_lookup_{tag}", lookups)
            db.session.remove()
            if backend_name == "whoosh":
                backend.close()
            db.engine.dispose()
            gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="catalog sizes for Whoosh")
    parser.add_argument("--pg-sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="whoosh,postgres")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench_search")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: one database per size (<name>_<size>), keeping the products an "
        "earlier run seeded there (migrated to the current schema, then reindexed)",
    )
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        sizes = args.sizes if backend == "whoosh" else args.pg_sizes
        for size in (int(s) for s in sizes.split(",") if s.strip()):
            url = f"{args.pg_url}_{size}" if args.reuse else args.pg_url
            if backend == "postgres":
                ensure_database(url)
            bench(backend, size, args.rounds, url, args.reuse)


if __name__ == "__main__":
    main()
