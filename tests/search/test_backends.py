"""Both search backends on plain documents: matching, ranking, facets, sorts, suggestions,
hostile input, similar products, threads. Each test runs once per backend (conftest)."""

from __future__ import annotations

import itertools
import logging
import threading

import pytest

from app.search import services
from app.search.backend import MAX_QUERY_CHARS
from app.search.documents import bayesian_rating, price_bucket, rating_bucket

_ids = itertools.count(1)


def doc(**fields) -> dict:
    """An index document as product_document makes them, without a database row."""
    n = fields.pop("id", None) or next(_ids)
    title = fields.pop("title", f"Product {n}")
    tags = fields.pop("tag_names", [])
    path = fields.pop("category_path", ["marketing"])
    names = fields.pop("category_names", {slug: slug.title() for slug in path})
    price = fields.pop("price", 1500)
    price_type = fields.pop("price_type", "one_time")
    rating_avg = fields.pop("rating_avg", 0.0)
    rating_count = fields.pop("rating_count", 0)
    base = {
        "id": n,
        "title": title,
        "keywords": " ".join(tags),
        "body": fields.pop("body", ""),
        "words": " ".join([title, *tags]),
        "type": "n8n_workflow",
        "category_path": path,
        "category_names": names,
        "price_type": price_type,
        "price_bucket": price_bucket(price_type, price),
        "complexity": "beginner",
        "rating_bucket": rating_bucket(rating_avg, rating_count),
        "price": price,
        "rating": round(bayesian_rating(rating_avg, rating_count) * 1000),
        "popularity": 0,
        "published": 1_700_000_000 + n,
    }
    base.update(fields)
    base["card"] = {
        "id": n,
        "slug": f"product-{n}",
        "title": title,
        "summary": "",
        "type": base["type"],
        "price_type": price_type,
        "price_cents": price,
        "monthly_price_cents": None,
        "yearly_price_cents": None,
        "currency": "USD",
        "rating_avg": rating_avg,
        "rating_count": rating_count,
        "vendor_name": "Acme Bots",
        "category_name": names[path[-1]] if path else "",
    }
    return base


@pytest.fixture
def build(app, backend):
    """build(*docs): replace the index with these documents (in an app context)."""
    contexts = []

    def run(*docs: dict) -> None:
        if not contexts:
            context = app.app_context()
            context.push()
            contexts.append(context)
        backend.rebuild(list(docs))

    yield run
    for context in contexts:
        context.pop()


def search(backend, **args):
    return backend.search(services.parse_params(args))


def titles(result) -> list[str]:
    return [hit.title for hit in result.hits]


def test_title_hit_outranks_body_hit(build, backend):
    build(
        doc(
            title="Weekly digest", body="Sends an invoice reminder invoice invoice", popularity=999
        ),
        doc(title="Invoice chaser", popularity=0),
        doc(title="Tagged thing", tag_names=["invoice"], popularity=500),
    )
    assert titles(search(backend, q="invoice")) == [
        "Invoice chaser",
        "Tagged thing",
        "Weekly digest",
    ]


def test_every_word_must_match_and_stemming(build, backend):
    build(doc(title="Email triage agent"), doc(title="Email sender"))
    assert titles(search(backend, q="emails agents")) == ["Email triage agent"]


def test_last_word_matches_as_prefix_while_typing(build, backend):
    build(doc(title="Spreadsheet sync"), doc(title="Slack bot"))
    assert titles(search(backend, q="spreads")) == ["Spreadsheet sync"]


def test_stop_words_narrow_nothing(build, backend):
    build(doc(title="Email sender"), doc(title="Slack bot"))
    assert search(backend, q="the").total == 2
    assert titles(search(backend, q="the email")) == ["Email sender"]


def test_facet_counts_leave_their_own_group_out(build, backend):
    build(
        doc(title="Lead agent", type="ai_agent", price_type="free", price=0),
        doc(title="Lead flow", type="n8n_workflow", price=2500),
        doc(title="Lead sheet", type="automation_asset", price=20000, complexity="advanced"),
        doc(title="Other", type="ai_agent"),
    )
    result = search(backend, q="lead", type=["ai_agent", "n8n_workflow"])
    assert result.total == 2
    counts = {f.key: (f.count, f.selected) for f in result.facets["type"]}
    assert counts == {
        "ai_agent": (1, True),
        "n8n_workflow": (1, True),
        "automation_asset": (1, False),
    }
    prices = {f.key: f.count for f in result.facets["price"]}
    assert prices == {"free": 1, "under_10": 0, "10_50": 1, "50_100": 0, "100_up": 0}
    assert {f.key: f.count for f in result.facets["complexity"]}["advanced"] == 0


def test_rating_and_category_facets(build, backend):
    build(
        doc(
            title="A",
            rating_avg=4.8,
            rating_count=10,
            category_path=["sales", "sales-crm"],
            category_names={"sales": "Sales", "sales-crm": "CRM"},
        ),
        doc(title="Bravo", rating_avg=3.2, rating_count=5),
        doc(title="Charlie"),
    )
    result = search(backend)
    assert {f.key: f.count for f in result.facets["rating"]} == {"4": 1, "3": 2, "2": 2, "1": 2}
    cats = {f.key: (f.label, f.count) for f in result.facets["category"]}
    assert cats["sales-crm"] == ("CRM", 1) and cats["marketing"] == ("Marketing", 2)
    assert titles(search(backend, rating="3")) == ["Bravo", "A"]
    assert titles(search(backend, category="sales")) == ["A"]
    chosen = search(backend, category="sales", q="bravo")
    assert [(f.key, f.count, f.selected) for f in chosen.facets["category"]][0] == (
        "marketing",
        1,
        False,
    )
    assert ("sales", 0, True) in [(f.key, f.count, f.selected) for f in chosen.facets["category"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Gamma", "Beta", "Alpha"]),
        ("price_asc", ["Beta", "Gamma", "Alpha"]),
        ("price_desc", ["Alpha", "Gamma", "Beta"]),
        ("popular", ["Gamma", "Alpha", "Beta"]),
        ("rating", ["Alpha", "Beta", "Gamma"]),
    ],
)
def test_sort_orders(build, backend, sort, expected):
    build(
        # 300 reviews at 4.5 beat 3 reviews at 5.0 (Bayesian mean).
        doc(title="Alpha", price=9000, popularity=50, rating_avg=4.5, rating_count=300),
        doc(title="Beta", price=500, popularity=10, rating_avg=5.0, rating_count=3),
        doc(title="Gamma", price=1000, popularity=90),
    )
    assert titles(search(backend, sort=sort)) == expected


def test_pagination_and_clamping(build, backend):
    build(*[doc(title=f"Widget {i}", popularity=i) for i in range(45)])
    first = search(backend, q="widget")
    assert (first.total, first.pages, len(first.hits)) == (45, 3, 20)
    last = search(backend, q="widget", page="99")
    assert (last.page, len(last.hits)) == (3, 5)
    assert last.hits[0].position == 41
    assert search(backend, q="widget", page="-3").page == 1
    assert search(backend, q="widget", page="x").page == 1
    seen = {h.id for p in (1, 2, 3) for h in search(backend, q="widget", page=str(p)).hits}
    assert len(seen) == 45


def test_unknown_filter_values_are_ignored():
    params = services.parse_params(
        {
            "type": ["ai_agent", "bogus"],
            "price": ["free", "1e9"],
            "rating": "9",
            "category": "../etc",
            "sort": "drop table",
            "complexity": ["beginner"] * 50,
            "page": "9" * 25,
        }
    )
    assert params.filters == {
        "type": ("ai_agent",),
        "price": ("free",),
        "complexity": ("beginner",),
    }
    assert params.rating is None and params.category is None and params.sort == "newest"
    assert params.page == 1


def test_did_you_mean(build, backend):
    build(doc(title="Invoice reminder", tag_names=["billing"]))
    result = search(backend, q="invoise")
    assert result.total == 0 and result.suggestion == "invoice"
    assert search(backend, q="biling").suggestion == "billing"
    assert search(backend, q="reminder").suggestion is None


HOSTILE = [
    "title:x",
    "*a*",
    "a" * 5000,
    'unbalanced "quote',
    "AND",
    "OR NOT",
    "or",
    "x or",
    "x:* & y",
    "!x | (y <-> z)",
    "\x00\x07\x1b[31m ctrl",
    "(",
    ")",
    "-",
    "+",
    "~2",
    "^3",
    "[a TO z]",
    "{}",
    "\\",
    "'",
    "🤖 emoji ünïcödé 日本語",
    "\u202e\u200b rtl",
    "x" * 199 + "é",
    " ".join(["word"] * 500),
    "a_b_c",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_are_answered_sanely(build, backend, caplog, q):
    """The backend itself: no exception, nothing logged, a result that makes sense."""
    build(doc(title="Title x agent"), doc(title="Another word"))
    caplog.set_level(logging.WARNING)
    result = search(backend, q=q)
    assert len(result.params.q) <= MAX_QUERY_CHARS and "\x00" not in result.params.q
    assert 0 <= result.total <= 2 and len(result.hits) == result.total
    assert sum(f.count for f in result.facets["type"]) == result.total
    assert caplog.records == []


def test_field_syntax_is_not_interpreted(build, backend):
    build(doc(title="Alpha", body="by Zeta"), doc(title="Zeta"))
    # "vendor:zeta" is two plain words, not a field query: nothing has "vendor" in it.
    assert search(backend, q="vendor:zeta").total == 0
    assert search(backend, q="*eta").total == 0  # no wildcard expansion


def test_index_and_delete_show_at_once(build, backend):
    build(doc(id=7, title="Old title"))
    backend.index([doc(id=7, title="New title"), doc(id=8, title="Other title")])
    assert titles(search(backend, q="title")) in (
        ["New title", "Other title"],
        ["Other title", "New title"],
    )
    backend.delete([7, 12345])
    assert titles(search(backend, q="title")) == ["Other title"]


def test_similar_ids_draw_on_the_whole_catalog(build, backend):
    # The best match is the least popular product of another category: still found.
    docs = [doc(title=f"Quote builder {i}", popularity=100 + i) for i in range(30)]
    me = doc(title="Slack lead alerts", tag_names=["slack", "leads"], category_path=["sales"])
    twin = doc(
        title="Slack lead alerts digest",
        tag_names=["slack", "leads"],
        category_path=["ops"],
        popularity=0,
    )
    build(*docs, me, twin)
    assert backend.similar_ids(me["id"], 3)[0] == twin["id"]
    assert me["id"] not in backend.similar_ids(me["id"], 10)
    assert backend.similar_ids(999_999, 3) == []


def test_threads_hammering_search_and_similar(build, backend, app, monkeypatch):
    import sys

    from app.search import whoosh_backend

    # A cache far too small for the work, so threads evict each other's entries all the time,
    # and thread switches as often as the interpreter allows.
    monkeypatch.setattr(whoosh_backend, "CACHE_ELEMENTS", 2000)
    interval = sys.getswitchinterval()
    docs = [
        doc(title=f"Slack lead {i} alerts", tag_names=["slack"], popularity=i) for i in range(200)
    ]
    build(*docs)
    ids = [d["id"] for d in docs]
    expected = {"slack": 200, "lead alerts": 200, "slak": 0, "": 200, "zzz": 0}
    errors: list[BaseException] = []

    def hammer(n: int) -> None:
        try:
            with app.app_context():
                for i in range(40):
                    q = list(expected)[(n + i) % len(expected)]
                    params = services.parse_params({"q": q, "page": str(i % 3 + 1)})
                    result = backend.search(params)
                    assert result.total == expected[q], q
                    assert len(result.hits) == (20 if expected[q] else 0)
                    assert len(backend.similar_ids(ids[(n * 40 + i) % 200], 4)) == 4
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(16)]
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
