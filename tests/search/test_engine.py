"""The index and query engine on plain documents: no database, no Flask app."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from app.search import index as search_index
from app.search import services
from app.search.documents import bayesian_rating, price_bucket, rating_bucket

_ids = itertools.count(1)


def doc(**fields) -> dict:
    n = next(_ids)
    base = {
        "id": str(n),
        "slug": f"product-{n}",
        "title": f"Product {n}",
        "summary": "",
        "description": "",
        "tags": "",
        "category": "Marketing",
        "vendor": "Acme Bots",
        "nodes": "",
        "services": "",
        "type": "n8n_workflow",
        "category_path": "marketing",
        "category_slug": "marketing",
        "category_name": "Marketing",
        "category_trail": {"marketing": "Marketing"},
        "vendor_slug": "acme",
        "vendor_name": "Acme Bots",
        "price_type": "one_time",
        "complexity": "beginner",
        "tag_names": [],
        "currency": "USD",
        "price": 1500,
        "rating_avg": 0.0,
        "rating_count": 0,
        "popularity": 0,
        "published": 1_700_000_000 + n,
    }
    base.update(fields)
    base["words"] = " ".join([base["title"], *base["tag_names"]])
    base["price_bucket"] = price_bucket(base["price_type"], base["price"])
    base["rating_bucket"] = rating_bucket(base["rating_avg"], base["rating_count"])
    base["rating"] = round(bayesian_rating(base["rating_avg"], base["rating_count"]) * 1000)
    return base


@pytest.fixture
def index_dir(tmp_path: Path):
    yield tmp_path / "search"
    search_index.reset_searchers()


def build(path: Path, *docs: dict) -> None:
    search_index.write_generation(path, docs)


def write_elsewhere(path: Path, *docs: dict, merge: bool = True) -> None:
    """Add documents as another process would: not through this process's writer()."""
    ix = search_index.open_index(path)
    w = ix.writer()
    for document in docs:
        w.add_document(**document)
    w.commit(merge=merge)
    ix.close()


def run(path: Path, **args) -> services.SearchResult:
    return services.search(services.parse_params(args), path)


def titles(result: services.SearchResult) -> list[str]:
    return [hit.title for hit in result.hits]


def test_title_hit_outranks_body_hit(index_dir):
    build(
        index_dir,
        doc(title="Weekly digest", description="Sends an invoice reminder", popularity=999),
        doc(title="Invoice chaser", popularity=0),
    )
    assert titles(run(index_dir, q="invoice")) == ["Invoice chaser", "Weekly digest"]


def test_every_word_must_match_and_stemming(index_dir):
    build(index_dir, doc(title="Email triage agent"), doc(title="Email sender"))
    assert titles(run(index_dir, q="emails agents")) == ["Email triage agent"]


def test_last_word_matches_as_prefix_while_typing(index_dir):
    build(index_dir, doc(title="Spreadsheet sync"), doc(title="Slack bot"))
    assert titles(run(index_dir, q="spreads")) == ["Spreadsheet sync"]


def test_facet_counts_leave_their_own_group_out(index_dir):
    build(
        index_dir,
        doc(title="Lead agent", type="ai_agent", price_type="free", price=0),
        doc(title="Lead flow", type="n8n_workflow", price=2500),
        doc(title="Lead sheet", type="automation_asset", price=20000, complexity="advanced"),
        doc(title="Other", type="ai_agent"),
    )
    result = run(index_dir, q="lead", type=["ai_agent", "n8n_workflow"])
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


def test_rating_and_category_facets(index_dir):
    build(
        index_dir,
        doc(
            title="A",
            rating_avg=4.8,
            rating_count=10,
            category_path="sales,sales-crm",
            category_trail={"sales": "Sales", "sales-crm": "CRM"},
        ),
        doc(title="B", rating_avg=3.2, rating_count=5),
        doc(title="C"),
    )
    result = run(index_dir)
    assert {f.key: f.count for f in result.facets["rating"]} == {"4": 1, "3": 2, "2": 2, "1": 2}
    cats = {f.key: (f.label, f.count) for f in result.facets["category"]}
    assert cats["sales-crm"] == ("CRM", 1) and cats["marketing"] == ("Marketing", 2)
    assert titles(run(index_dir, rating="3")) == ["B", "A"]
    assert titles(run(index_dir, category="sales")) == ["A"]


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
def test_sort_orders(index_dir, sort, expected):
    build(
        index_dir,
        # 300 reviews at 4.5 beat 3 reviews at 5.0 (Bayesian mean).
        doc(title="Alpha", price=9000, popularity=50, rating_avg=4.5, rating_count=300),
        doc(title="Beta", price=500, popularity=10, rating_avg=5.0, rating_count=3),
        doc(title="Gamma", price=1000, popularity=90),
    )
    assert titles(run(index_dir, sort=sort)) == expected


def test_pagination_and_clamping(index_dir):
    build(index_dir, *[doc(title=f"Widget {i}") for i in range(45)])
    first = run(index_dir, q="widget")
    assert (first.total, first.pages, len(first.hits)) == (45, 3, 20)
    last = run(index_dir, q="widget", page="99")
    assert (last.page, len(last.hits)) == (3, 5)
    assert last.hits[0].position == 41
    assert run(index_dir, q="widget", page="-3").page == 1
    assert run(index_dir, q="widget", page="x").page == 1
    seen = {h.id for p in (1, 2, 3) for h in run(index_dir, q="widget", page=str(p)).hits}
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
        }
    )
    assert params.filters == {
        "type": ("ai_agent",),
        "price": ("free",),
        "complexity": ("beginner",),
    }
    assert params.rating is None and params.category is None and params.sort == "newest"


def test_did_you_mean(index_dir):
    build(index_dir, doc(title="Invoice reminder", tag_names=["billing"]))
    result = run(index_dir, q="invoise")
    assert result.total == 0 and result.suggestion == "invoice"
    assert run(index_dir, q="biling").suggestion == "billing"


HOSTILE = [
    "title:x",
    "*a*",
    "a" * 5000,
    'unbalanced "quote',
    "AND",
    "OR NOT",
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
    "🤖 emoji ünïcödé 日本語",
    "\u202e\u200b rtl",
    "x" * 199 + "é",
    " ".join(["word"] * 500),
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_raise(index_dir, q):
    build(index_dir, doc(title="Title x agent"))
    result = run(index_dir, q=q)
    assert not result.unavailable
    assert len(result.params.q) <= services.MAX_QUERY_CHARS
    assert "\x00" not in result.params.q


def test_long_queries_are_kept_up_to_the_cap():
    words = " ".join(f"word{i}" for i in range(100))
    assert services.parse_params({"q": words}).q == words[: services.MAX_QUERY_CHARS].strip()


def test_field_syntax_is_not_interpreted(index_dir):
    build(index_dir, doc(title="Alpha", vendor="Zeta"), doc(title="Zeta"))
    # "vendor:zeta" is two plain words, not a field query: nothing has "vendor" in it.
    assert run(index_dir, q="vendor:zeta").total == 0
    assert run(index_dir, q="*eta").total == 0  # no wildcard expansion


def test_missing_and_corrupt_index_degrade(index_dir):
    assert run(index_dir, q="x").unavailable
    index_dir.mkdir(parents=True)
    (index_dir / "_products_1.toc").write_bytes(b"garbage" * 10)
    (index_dir / "junk.seg").write_bytes(b"\x00\xff" * 100)
    assert run(index_dir, q="x").unavailable
    build(index_dir, doc(title="Recovered"))  # a rebuild swaps a real index in
    assert titles(run(index_dir, q="recovered")) == ["Recovered"]
    assert index_dir.is_symlink()


def test_swap_keeps_readers_working_and_drops_old_generations(index_dir):
    build(index_dir, doc(title="First"))
    assert run(index_dir, q="first").total == 1
    build(index_dir, doc(title="Second"))
    assert run(index_dir, q="first").total == 0 and run(index_dir, q="second").total == 1
    build(index_dir, doc(title="Third"))
    generations = list(index_dir.parent.glob("search.gen-*"))
    assert len(generations) == 2  # the current one and the one readers may still hold


def test_live_writer_updates_and_deletes(index_dir):
    build(index_dir, doc(id="7", title="Old title"))
    with search_index.writer(index_dir) as w:
        w.update_document(**doc(id="7", title="New title"))
    assert titles(run(index_dir, q="title")) == ["New title"]
    with search_index.writer(index_dir) as w:
        w.delete_by_term("id", "7")
    assert run(index_dir).total == 0


def test_searcher_trusts_its_last_look_for_max_age(index_dir):
    build(index_dir, doc(id="1", title="Before"))
    first, _ = search_index.current_searcher(index_dir, max_age=60)
    write_elsewhere(index_dir, doc(title="After"))
    assert search_index.current_searcher(index_dir, max_age=60)[0] is first
    fresh, _ = search_index.current_searcher(index_dir, max_age=0)
    assert fresh is not first and fresh.doc_count() == 2
    with search_index.writer(index_dir) as w:  # this process's own write shows at once
        w.delete_by_term("id", "1")
    assert search_index.current_searcher(index_dir, max_age=60)[0].doc_count() == 1


def test_search_trusts_the_index_for_search_refresh_seconds(app, index_path, monkeypatch):
    settings = app.config["APP_CONFIG"]
    trusting = dataclasses.replace(settings, search_refresh_seconds=60)
    monkeypatch.setitem(app.config, "APP_CONFIG", trusting)
    everything = services.parse_params({})
    with app.app_context():
        assert services.search(everything).total == 0  # opens the searcher
        write_elsewhere(index_path, doc(title="Elsewhere"))
        assert services.search(everything).total == 0
        monkeypatch.setitem(app.config, "APP_CONFIG", settings)  # APP_ENV=test: 0 s
        assert services.search(everything).total == 1


def test_block_reads_match_whoosh(index_dir):
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.columns import NumericColumn

    def same_as_whoosh(searcher) -> int:
        reader, checked = searcher.reader(), 0
        for fieldname in ["tags", "id", "category_path", "type", "price_bucket"]:
            for term in reader.lexicon(fieldname):
                expected = set(reader.postings(fieldname, term).all_ids())
                assert services._posting_ids(reader, fieldname, term) == expected, term
                checked += 1
        assert services._all_docs(searcher, {}) == set(reader.all_doc_ids())
        everyone = range(reader.doc_count_all())
        for fieldname in ["price", "popularity", "rating", "published"]:
            values = list(reader.column_reader(fieldname))
            keys = services._sort_keys(searcher, {}, fieldname)
            assert len(keys) == len(values)
            by_value = sorted(everyone, key=lambda d: (values[d], d))
            assert sorted(everyone, key=lambda d: (keys[d], d)) == by_value, fieldname
        return checked

    # Several posting blocks per term; then three segments, each with deletions.
    build(
        index_dir,
        *(
            doc(id=str(i), tags=f"common t{i % 3}", price=i * 37 % 1000, popularity=i * 13 % 50)
            for i in range(1, 400)
        ),
    )
    searcher, _ = search_index.current_searcher(index_dir)
    [(leaf, _base)] = searcher.reader().leaf_readers()
    assert type(leaf.postings("tags", "common")) is W3LeafMatcher  # the block paths are taken
    assert type(leaf.column_reader("price", translate=False)) is NumericColumn.Reader
    assert same_as_whoosh(searcher) > 400
    with search_index.writer(index_dir) as w:
        w.add_document(**doc(id="400", tags="common late", price=5, popularity=99))
        w.delete_by_term("id", "7")
    # A later segment of several blocks: its documents start at an offset.
    later = (doc(id=str(i), tags="common", price=i % 7, popularity=i % 11) for i in range(401, 701))
    write_elsewhere(index_dir, *later, merge=False)
    with search_index.writer(index_dir) as w:
        w.delete_by_term("id", "401")
        w.delete_by_term("id", "400")
    searcher, _ = search_index.current_searcher(index_dir)
    reader = searcher.reader()
    assert len(reader.leaf_readers()) == 3
    leaf, base = reader.leaf_readers()[2]
    matcher = leaf.postings("tags", "common")
    assert base > 0 and type(matcher.child) is W3LeafMatcher and matcher._exclude
    assert same_as_whoosh(searcher) > 700
    assert len(services._posting_ids(reader, "tags", "common")) == 398 + 299
    with pytest.raises(services.TermNotFound):
        services._posting_ids(reader, "tags", "absent")


def test_more_like_this_ranks_as_a_plain_count_would(index_dir, monkeypatch):
    """The bitmask scoring against the rule it implements, counted the plain way: two points
    a shared title word, one a shared tag, within the category's pool of most popular
    documents; ties by popularity, then age; then the pool's most popular fill the rest."""
    import random

    monkeypatch.setattr(services, "MLT_POOL", 25)
    monkeypatch.setattr(services, "MLT_WORDS", 4)  # titles and tags hold up to 7 words
    rnd = random.Random(4)
    vocabulary = ["slack", "lead", "invoice", "sync", "report", "alert", "crm", "sheet"]
    docs = []
    for i in range(150):
        tags = rnd.sample(vocabulary, rnd.randint(0, 3))
        category = "tiny" if i < 3 else rnd.choice(["sales", "ops"])
        docs.append(
            doc(
                title=" ".join(rnd.sample(vocabulary, rnd.randint(1, 4))).title(),
                tags=" ".join(tags),
                tag_names=tags,
                category_path=category,
                category_slug=category,
                popularity=rnd.randint(0, 5),  # many ties
            )
        )
    build(index_dir, *docs)
    searcher, _ = search_index.current_searcher(index_dir)
    number = {d["id"]: searcher.document_number(id=d["id"]) for d in docs}
    popularity = {number[d["id"]]: d["popularity"] for d in docs}

    def pool(category):
        members = [number[d["id"]] for d in docs if category in (None, d["category_slug"])]
        return sorted(members, key=lambda n: (-popularity[n], n))[: services.MLT_POOL]

    def expected(d, limit):
        me, category = number[d["id"]], d["category_slug"]
        if len([n for n in pool(category) if n != me]) < limit:
            category = None
        candidates = [n for n in pool(category) if n != me]
        score = dict.fromkeys(candidates, 0)
        words = list(dict.fromkeys([*d["title"].lower().split(), *d["tag_names"]]))
        for other in docs:
            n = number[other["id"]]
            if n in score:
                for word in words[: services.MLT_WORDS]:
                    score[n] += 2 * (word in other["title"].lower().split())
                    score[n] += word in other["tag_names"]
        ranked = sorted(candidates, key=lambda n: (-score[n], -popularity[n], n))
        return [int(searcher.stored_fields(n)["id"]) for n in ranked[:limit]]

    # (The three in "tiny" draw on the catalog's pool: too few neighbours in their own.)
    for d in docs:
        for limit in (1, 4, 6):
            got = services.more_like_this(int(d["id"]), limit=limit, index_dir=index_dir)
            assert [hit.id for hit in got] == expected(d, limit), (d["title"], limit)
            assert [hit.position for hit in got] == list(range(1, len(got) + 1))


def test_bayesian_rating_prefers_many_good_reviews():
    assert bayesian_rating(4.5, 300) > bayesian_rating(5.0, 3) > bayesian_rating(0, 0)


def test_more_like_this_prefers_shared_words_in_the_same_category(app, make_product):
    from app.search.services import more_like_this

    base = make_product("Slack lead alerts", tags=["slack", "leads"], category_slug="sales")
    close = make_product("Slack deal alerts", tags=["slack"], category_slug="sales")
    same_category = make_product("Invoice export", category_slug="sales", popularity=5)
    popular = make_product("Quote builder", category_slug="sales", popularity=50)
    make_product("Slack standup bot", tags=["slack"], category_slug="productivity")
    make_product("Weather report", category_slug="productivity")
    with app.app_context():
        hits = more_like_this(base, limit=2)
        assert [h.id for h in hits] == [close, popular]
        assert more_like_this(base, limit=2) is hits  # remembered per index generation
        # Products sharing no word fill the rest, the most popular first.
        assert [h.id for h in more_like_this(base, limit=3)] == [close, popular, same_category]
    closest = make_product("Slack lead router", tags=["slack", "leads"], category_slug="sales")
    with app.app_context():
        assert [h.id for h in more_like_this(base, limit=1)] == [closest]
        assert [h.id for h in more_like_this(base, limit=2)] == [closest, close]
        assert more_like_this(999_999) == []


def test_more_like_this_draws_from_the_most_popular_of_the_category(app, make_product, monkeypatch):
    from app.search import services
    from app.search.services import more_like_this

    monkeypatch.setattr(services, "MLT_POOL", 2)
    base = make_product("Slack lead alerts", tags=["slack", "leads"], category_slug="sales")
    make_product("Slack lead digest", tags=["slack", "leads"], category_slug="sales")
    reporter = make_product("Quote report", category_slug="sales", popularity=50)
    exporter = make_product("Slack invoice export", category_slug="sales", popularity=40)
    make_product("Quote builder", category_slug="sales", popularity=30)
    loner = make_product("Invoice lead scorer", tags=["leads"], category_slug="solo")
    with app.app_context():
        # The best match is not among the category's two most popular: it is not suggested;
        # of those two, the one sharing a word comes first.
        assert [h.id for h in more_like_this(base, limit=2)] == [exporter, reporter]
        # Alone in its category, a product's neighbours come from the catalog's most popular.
        assert [h.id for h in more_like_this(loner, limit=2)] == [exporter, reporter]
