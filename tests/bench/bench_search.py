"""Search benchmark: seed N generated products, index them, measure in-process search latency.

Run: .venv/bin/python tests/bench/bench_search.py [--sizes 10000,100000]
Prints `name: value unit` lines: search latency, and similar products as a product page asks
for them. Products are bulk-inserted into a temporary SQLite database and indexed from it (the
real reindex path); ``--no-db`` indexes the generated rows directly.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.search import index as search_index  # noqa: E402
from app.search import services  # noqa: E402
from app.search.documents import product_document  # noqa: E402

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


# Generated row keys that are Product attributes as they are.
PRODUCT_COLUMNS = (
    "id",
    "slug",
    "title",
    "short_description",
    "type",
    "price_type",
    "complexity",
    "node_types",
    "services",
    "rating_avg",
    "rating_count",
    "popularity",
    "published_at",
)


def row_document(row: dict[str, Any]) -> dict[str, Any]:
    """The index document for a generated row: the row dressed as a Product for the real
    product_document, so this mode indexes exactly what the app would."""
    category = SimpleNamespace(slug=row["category"], name=row["category"].title())
    category.path = [category]
    product = SimpleNamespace(
        **{name: row[name] for name in PRODUCT_COLUMNS},
        description_html=row["description_md"],
        tags=[SimpleNamespace(name=tag) for tag in row["tags"]],
        category=category,
        vendor=SimpleNamespace(slug=row["vendor"], store_name=row["vendor"]),
        display_price_cents=row["price_cents"],
        currency="USD",
        created_at=None,
    )
    return product_document(product)


def seed_products(n: int, session: Any) -> int:
    """Bulk-insert ``n`` approved products (vendors, categories, tags too); see _data.py."""
    from _data import seed_products as insert_products

    return len(insert_products(n, session))


QUERIES: list[dict[str, Any]] = [
    {"q": "slack"},
    {"q": "invoices"},
    {"q": "gmail"},
    {"q": "agent"},
    {"q": "summarise"},
    {"q": "hubspot leads"},
    {"q": "sync orders"},
    {"q": "stripe payments"},
    {"q": "notion tasks"},
    {"q": "slack", "type": ["ai_agent"]},
    {"q": "emails", "price": ["10_50"], "complexity": ["beginner"]},
    {"q": "", "type": ["n8n_workflow"], "rating": "4"},
    {"q": "reports", "category": "finance"},
    {"q": "slack", "sort": "price_asc"},
    {"q": "gmail", "sort": "rating"},
    {"q": "automation", "sort": "newest"},
    {"q": "", "sort": "popular"},
    {"q": "workflow", "sort": "price_desc", "page": "3"},
    {"q": "telegram alert"},
    {"q": "slak"},
]


def measure(path: Path, rounds: int) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for i in range(rounds):
        for args in QUERIES:
            params = services.parse_params(args)
            start = time.perf_counter()
            result = services.search(params, path)
            elapsed = (time.perf_counter() - start) * 1000
            assert not result.unavailable
            (cold if i == 0 else warm).append(elapsed)
    return cold, warm


def measure_similar(path: Path, n: int, count: int = 2000) -> list[float]:
    """A product page's similar products, each product's first time (nothing memoised for
    it), after 500 others have warmed the shared postings."""
    ids = random.Random(3).sample(range(1, n), min(n - 1, count + 500))
    times = []
    for i, product_id in enumerate(ids):
        start = time.perf_counter()
        hits = services.more_like_this(product_id, limit=4, index_dir=path)
        if i >= 500:
            times.append((time.perf_counter() - start) * 1000)
        assert hits, f"no similar products for {product_id}"
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench(n: int, use_db: bool, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "search"
        start = time.perf_counter()
        if use_db:
            from flask_migrate import upgrade

            from app import create_app
            from app.extensions import db

            app = create_app(
                env={
                    "APP_ENV": "test",
                    "SECRET_KEY": "b" * 40,
                    "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                    "SEARCH_INDEX_DIR": str(path),
                    "LOG_LEVEL": "WARNING",
                }
            )
            with app.app_context():
                upgrade()
                seed_products(n, db.session)
                print(f"seed_{n}: {time.perf_counter() - start:.1f} s")
                start = time.perf_counter()
                services.reindex_all(path)
        else:
            documents = (row_document(r) for r in generate(n))
            search_index.write_generation(path, documents, large=n > 5000)
        print(f"index_{n}: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        services.search(services.parse_params({}), path)
        print(f"first_search_{n}: {(time.perf_counter() - start) * 1000:.1f} ms")
        cold, warm = measure(path, rounds)
        print(f"search_cold_p50_{n}: {statistics.median(cold):.1f} ms")
        print(f"search_cold_p95_{n}: {pct(cold, 95):.1f} ms")
        print(f"search_p50_{n}: {statistics.median(warm):.1f} ms")
        print(f"search_p95_{n}: {pct(warm, 95):.1f} ms")
        print(f"search_max_{n}: {max(warm):.1f} ms")
        similar = measure_similar(path, n)
        print(f"similar_p50_{n}: {statistics.median(similar):.2f} ms")
        print(f"similar_p95_{n}: {pct(similar, 95):.2f} ms")
        search_index.reset_searchers()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-db", action="store_true", help="index generated documents only")
    args = parser.parse_args()
    use_db = not args.no_db
    print(f"mode: {'database' if use_db else 'documents'}")
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        bench(size, use_db, args.rounds)


if __name__ == "__main__":
    main()
