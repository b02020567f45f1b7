"""The two backends answer alike on the same seeded catalog (PostgreSQL pass only)."""

from __future__ import annotations

import random

import pytest

from app.search import services
from app.search.backend import search_backend
from tests.search.test_backends import doc

QUERIES = [
    {"q": "quokka"},
    {"q": "slack"},
    {"q": "invoice"},
    {"q": "lead alerts"},
    {"q": "slack", "type": ["ai_agent"]},
    {"q": "", "type": ["n8n_workflow"], "rating": "3"},
    {"q": "report", "category": "finance"},
    {"q": "", "sort": "popular"},
    {"q": "gmail", "sort": "price_asc", "price": ["10_50", "free"]},
    {"q": "", "complexity": ["advanced"], "sort": "newest"},
]


def catalog() -> list[dict]:
    rnd = random.Random(11)
    words = ["slack", "invoice", "lead", "alerts", "report", "gmail", "sync", "digest"]
    docs = []
    for i in range(1, 301):
        title_words = rnd.sample(words, 3)
        category = rnd.choice(["finance", "sales", "ops"])
        rating_count = rnd.choice([0, 3, 40])
        docs.append(
            doc(
                id=100_000 + i,
                title=" ".join(title_words).title(),
                tag_names=rnd.sample(words, 1),
                body=" ".join(rnd.sample(words, 4)),
                type=rnd.choice(["ai_agent", "n8n_workflow", "automation_asset"]),
                complexity=rnd.choice(["beginner", "advanced"]),
                category_path=[category],
                price=rnd.choice([0, 900, 1900, 4900]),
                rating_avg=rnd.choice([2.5, 3.5, 4.5]) if rating_count else 0.0,
                rating_count=rating_count,
                popularity=i * 7 % 301,  # all different: ties cannot differ between engines
            )
        )
    # A word in six titles (once, nowhere else in them) and in 20 descriptions.
    for i in range(6):
        docs.append(doc(id=200_000 + i, title=f"Quokka {words[i]}", popularity=500 + i * 13 % 6))
    for i in range(20):
        docs.append(doc(id=300_000 + i, title=f"Other {i}", body="about a quokka", popularity=900))
    return docs


def facet_counts(result) -> dict:
    return {
        key: {(v.key, v.count, v.selected) for v in values} for key, values in result.facets.items()
    }


def test_backends_agree_on_totals_facets_and_top_title_hits(app, twins, backend_name):
    if backend_name != "whoosh":
        pytest.skip("compares from the Whoosh run; needs the PostgreSQL twin")
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the PostgreSQL search backend needs TEST_DATABASE_URL (PostgreSQL pass)")
    from tests.search.conftest import _env_of

    if "postgres" not in twins:
        from app import create_app

        twins["postgres"] = create_app(env=_env_of(app, SEARCH_BACKEND="postgres"))
    apps = {"whoosh": app, "postgres": twins["postgres"]}
    docs = catalog()
    answers = {}
    for name, each in apps.items():
        with each.app_context():
            backend = search_backend()
            backend.rebuild(docs)
            answers[name] = [backend.search(services.parse_params(q)) for q in QUERIES]
    pairs = zip(QUERIES, answers["whoosh"], answers["postgres"], strict=True)
    for query, whoosh, postgres in pairs:
        assert whoosh.total == postgres.total, query
        assert facet_counts(whoosh) == facet_counts(postgres), query
        if not query["q"] or "sort" in query:  # an order by a column: the same everywhere
            assert [h.id for h in whoosh.hits] == [h.id for h in postgres.hits], query
    # Title hits first, in the same order (by popularity: their scores are equal), then the
    # description hits (whose order among equals each engine settles its own way).
    whoosh, postgres = answers["whoosh"][0], answers["postgres"][0]
    titled = [h.id for h in whoosh.hits[:6]]
    assert sorted(titled) == list(range(200_000, 200_006))
    assert [h.id for h in postgres.hits[:6]] == titled
    assert {h.id for h in whoosh.hits[6:]} == {h.id for h in postgres.hits[6:]}
    with app.app_context():
        search_backend().rebuild([])
