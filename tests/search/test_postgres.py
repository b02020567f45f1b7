"""The PostgreSQL backend's own concern: answers kept for SEARCH_REFRESH_SECONDS."""

from __future__ import annotations

import pytest

from app.search import services
from app.search.postgres_backend import PostgresBackend
from tests.search.test_backends import doc


def test_answers_are_kept_until_a_write_or_refresh_seconds(app, backend_name):
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL backend's cache")
    params = services.parse_params({"q": "kept"})
    with app.app_context():
        reader = PostgresBackend(refresh_seconds=60)
        writer = PostgresBackend()  # another process, as the search worker would be
        writer.rebuild([doc(title="Kept one")])
        first = reader.search(params)
        assert first.total == 1 and reader.search(params) is first  # kept
        writer.index([doc(title="Kept two")])
        assert reader.search(params).total == 1  # another process's write: not yet
        assert PostgresBackend(refresh_seconds=0).search(params).total == 2
        reader.index([doc(title="Kept three")])  # this process's own write: at once
        assert reader.search(params).total == 3
        writer.rebuild([])


def test_grouped_ranking_matches_scoring_every_match(app, backend_name, monkeypatch):
    """Groups of equal score (each walked by popularity, or read and sorted when sparse)
    order results exactly as one query scoring every match would."""
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL backend's ranking")
    import random

    from app.search import postgres_backend

    rnd = random.Random(5)
    words = ["slack", "invoice", "lead", "digest", "alert"]
    docs = [
        doc(
            title=" ".join(rnd.sample(words, rnd.randint(0, 2))) or "plain",
            tag_names=rnd.sample(words, rnd.randint(0, 2)),
            body=" ".join(rnd.sample(words, 3)),
            popularity=rnd.randint(0, 5),  # many ties: the id settles them
            price=rnd.choice([900, 1500]),
        )
        for _ in range(200)
    ]
    queries = [
        {"q": q, "page": str(p), **filters}
        for q in ("slack", "lead alert", "inv")
        for p in (1, 3)
        for filters in ({}, {"price": ["10_50"]})
    ]
    with app.app_context():
        backend = PostgresBackend()
        backend.rebuild(docs)
        grouped = [search_ids(backend, args) for args in queries]
        # (Few rows here: read through the match's indexes and sorted.) Walked along the
        # popularity index; a walk giving up at once, then every row that passes, sorted.
        monkeypatch.setattr(postgres_backend, "FEW_ROWS", 1)
        assert [search_ids(backend, args) for args in queries] == grouped
        monkeypatch.setattr(postgres_backend, "WALK_ROWS_PER_RESULT", 1)
        assert [search_ids(backend, args) for args in queries] == grouped
        monkeypatch.setattr(postgres_backend, "SCORED_WORDS", 0)  # one query scoring all
        assert [search_ids(backend, args) for args in queries] == grouped
        assert all(grouped)
        # Column sorts: the walk and the sorted read agree too.
        sorts = [{"q": "slack", "sort": key, "page": "2"} for key in ("price_asc", "newest")]
        walked = [search_ids(backend, args) for args in sorts]
        monkeypatch.undo()
        assert [search_ids(backend, args) for args in sorts] == walked and all(walked)
        backend.rebuild([])


def search_ids(backend, args):
    return [hit.id for hit in backend.search(services.parse_params(args)).hits]


def test_migration_0021_carries_the_old_rows_over(app, backend_name):
    """Upgrading a database whose PostgreSQL index is in 0020's shape keeps it searchable."""
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL index's migration")
    import json

    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from tests.search.conftest import _env_of

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    base = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    name = "test_migration_0021"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        other = create_app(env=_env_of(app, DATABASE_URL=f"{base}/{name}"))
        with other.app_context():
            upgrade(revision="0020")
            db.session.execute(
                text(
                    """
                    INSERT INTO search_documents VALUES (7,
                        setweight(to_tsvector('english', 'Invoice chaser'), 'A')
                        || setweight(to_tsvector('english', 'billing'), 'B')
                        || setweight(to_tsvector('english', 'reminds customers'), 'C'),
                        'Invoice chaser billing', 'n8n_workflow', 'one_time', '10_50',
                        'beginner', 'none', '{finance}', '{"finance": "Finance"}', 1500, 3500,
                        4, 1700000000, CAST(:card AS json))
                    """
                ),
                {"card": json.dumps(doc(id=7, title="Invoice chaser")["card"])},
            )
            db.session.commit()
            upgrade()
            backend = PostgresBackend()
            for q in ("invoice", "billing", "customers"):
                result = backend.search(services.parse_params({"q": q, "category": "finance"}))
                assert [hit.id for hit in result.hits] == [7], q
            facets = backend.search(services.parse_params({})).facets
            assert [(v.key, v.label, v.count) for v in facets["category"]] == [
                ("finance", "Finance", 1)
            ]
            assert search_ids(backend, {"q": "invoice billing"}) == [7]
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_rebuild_rewrites_only_what_changed(app, backend_name):
    """Unchanged rows keep their row version (no dead copy left behind), changed ones are
    rewritten, products no longer given are deleted."""
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL backend's rows")
    from sqlalchemy import text

    from app.extensions import db

    def versions() -> dict[int, str]:
        rows = db.session.execute(text("SELECT product_id, xmin::text FROM search_documents"))
        cards = db.session.execute(text("SELECT product_id, xmin::text FROM search_cards"))
        return {**dict(rows.tuples().all()), **{-k: v for k, v in cards.tuples().all()}}

    same, changed, gone = doc(title="Same one"), doc(title="Changed one"), doc(title="Gone")
    with app.app_context():
        backend = PostgresBackend()
        backend.rebuild([same, changed, gone])
        before = versions()
        backend.rebuild([same, {**changed, "popularity": 99}])
        after = versions()
        assert after[same["id"]] == before[same["id"]]
        assert after[-same["id"]] == before[-same["id"]]
        assert after[changed["id"]] != before[changed["id"]]
        assert gone["id"] not in after and -gone["id"] not in after
        assert search_ids(backend, {"q": "one", "sort": "popular"}) == [changed["id"], same["id"]]
        backend.rebuild([])


def test_a_category_row_is_rewritten_only_when_renamed(app, backend_name):
    """Every batch of documents names its categories; an unchanged name writes nothing (each
    update would leave a dead row behind for every search's facet lookup to step over)."""
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL backend's rows")
    from sqlalchemy import text

    from app.extensions import db

    def version() -> str:
        query = text("SELECT xmin::text FROM search_categories WHERE slug = 'marketing'")
        return db.session.execute(query).scalar_one()

    with app.app_context():
        backend = PostgresBackend()
        backend.rebuild([doc(title="First")])
        before = version()
        backend.index([doc(title="Second")])
        assert version() == before
        backend.index([doc(title="Third", category_names={"marketing": "Growth"})])
        assert version() != before
        backend.rebuild([])


def test_the_typed_word_is_one_prefix_query_when_it_covers_the_word(app, backend_name):
    """``'order':*`` already matches ``'order'``: the planner, given ``'order' | 'order':*``,
    estimates twice the rows (and scans the table where the index is faster)."""
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL backend's queries")
    with app.app_context():
        backend = PostgresBackend()
        assert backend._words_query(("sync", "orders")).each == ("'sync'", "'order':*")
        assert backend._words_query(("the",)) is None  # a stop word: nothing to search
        assert backend._words_query(("orders", "go")).each == ("'order'", "'go'")  # too short
        assert backend._words_query(("foo_bar",)).each == ("'foo' & 'bar'",)  # no prefix
