"""Search through HTTP on the real app: page and fragment, analytics, clicks, jobs, recovery."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.services import dispatch_committed, record_event
from app.search import index as search_index
from app.search.models import SearchClick, SearchQuery

HX = {"HX-Request": "true"}


def test_page_and_fragment_from_one_url(client, make_product):
    make_product("Invoice chaser")
    page = client.get("/search?q=invoice")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body and "Invoice chaser" in body
    assert 'hx-trigger="input changed delay:300ms, search"' in body
    fragment = client.get("/search?q=invoice", headers=HX)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert text.lstrip().startswith('<div id="search_results"') and "Invoice chaser" in text
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_filters_and_facets_without_javascript(client, make_product):
    make_product("Lead agent", type="ai_agent")
    make_product("Lead flow", type="n8n_workflow")
    body = client.get("/search?q=lead&type=ai_agent&type=nonsense&page=77").get_data(as_text=True)
    assert "Lead agent" in body and "Lead flow" not in body
    assert 'name="type" value="ai_agent" type="checkbox" checked' in " ".join(body.split())
    assert "1 result for" in body


@pytest.mark.parametrize(
    "q", ["title:x", "*a*", "a" * 5000, '"unbalanced', "AND", "\x00\x1b", "-", "日本語 🤖"]
)
def test_hostile_queries_get_200(client, make_product, q):
    make_product("Agent x")
    assert (
        client.get("/search", query_string={"q": q, "page": "-1", "sort": "x"}).status_code == 200
    )


def test_queries_are_logged_with_counts(app, client, make_product):
    make_product("Invoice chaser")
    client.get("/search?q=  Invoice  &type=ai_agent")
    client.get("/search?q=zzzyx")
    client.get("/search")  # browsing is not a search
    with app.app_context():
        rows = db.session.scalars(select(SearchQuery).order_by(SearchQuery.id)).all()
        assert [(r.query, r.result_count) for r in rows] == [("invoice", 0), ("zzzyx", 0)]
        assert rows[0].filters == {"type": ["ai_agent"]}


def test_click_is_recorded_and_never_redirects_off_site(app, client, make_product):
    product_id = make_product("Invoice chaser")
    client.get("/search?q=invoice")
    with app.app_context():
        query_id = db.session.scalar(select(SearchQuery.id))
    response = client.get(
        f"/search/click/{product_id}?qid={query_id}&pos=1&next=https://evil.example/"
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and "evil" not in location and "product-" in location
    with app.app_context():
        click = db.session.scalar(select(SearchClick))
        assert (click.product_id, click.search_query_id, click.position) == (
            product_id,
            query_id,
            1,
        )


def test_click_on_hidden_product_is_404(client, make_product):
    hidden = make_product("Draft thing", status="draft", index=False)
    assert client.get(f"/search/click/{hidden}").status_code == 404


def test_admin_report(app, client, make_product, login_as):
    product_id = make_product("Invoice chaser")
    client.get("/search?q=invoice")
    client.get("/search?q=nothingmatches")
    client.get(f"/search/click/{product_id}?pos=1")
    login_as("admin")
    body = client.get("/admin/search?days=7").get_data(as_text=True)
    assert "invoice" in body and "nothingmatches" in body and "click-through" in body


def test_jobs_index_and_remove_on_events(app, client, make_product, run_jobs):
    from app.catalog.models import Product

    product_id = make_product("Webhook relay", index=False)
    assert "Webhook relay" not in client.get("/search?q=webhook").get_data(as_text=True)
    with app.app_context():
        record_event("product.approved", product_id=product_id)
        db.session.commit()
        dispatch_committed()
    run_jobs()
    assert "Webhook relay" in client.get("/search?q=webhook").get_data(as_text=True)
    with app.app_context():
        db.session.get(Product, product_id).status = "suspended"
        record_event("product.suspended", product_id=product_id)
        db.session.commit()
        dispatch_committed()
    run_jobs()
    assert "Webhook relay" not in client.get("/search?q=webhook").get_data(as_text=True)


def test_reindex_command_swaps_a_new_directory_in(app, client, make_product, index_path):
    make_product("One", index=False)
    make_product("Two", index=False)
    before = index_path.resolve()
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing products" in result.output and "indexed 2 product(s)" in result.output
    assert index_path.is_symlink() and index_path.resolve() != before
    assert "1 result for" in client.get("/search?q=two").get_data(as_text=True)


@pytest.mark.parametrize("damage", ["deleted", "garbage"])
def test_broken_index_degrades_then_is_rebuilt(client, make_product, index_path, run_jobs, damage):
    make_product("Survivor")
    search_index.reset_searchers()
    target = index_path.resolve()
    index_path.unlink()
    shutil.rmtree(target)
    if damage == "garbage":
        index_path.mkdir()
        (index_path / "_products_3.toc").write_bytes(b"\x00garbage" * 50)
        (index_path / "products_x.seg").write_bytes(b"junk")
    response = client.get("/search?q=survivor")
    assert response.status_code == 200
    assert "Search is being rebuilt" in response.get_data(as_text=True)
    run_jobs()
    assert "Survivor" in client.get("/search?q=survivor").get_data(as_text=True)


def test_results_are_rendered_once_per_index_state_but_clicks_stay_per_search(
    app, client, make_product, monkeypatch
):
    import re

    from app.search import services

    searches = []
    search = services.search

    def counted(params):
        searches.append(params)
        return search(params)

    monkeypatch.setattr(services, "search", counted)
    make_product("Invoice chaser")
    first = client.get("/search?q=invoice").get_data(as_text=True)
    second = client.get("/search?q=invoice").get_data(as_text=True)
    assert len(searches) == 1
    ids = [re.search(r"qid=(\d+)", body).group(1) for body in (first, second)]
    with app.app_context():
        logged = [
            str(q.id) for q in db.session.scalars(select(SearchQuery).order_by(SearchQuery.id))
        ]
    assert ids == logged and ids[0] != ids[1]
    make_product("Invoice reminder")  # indexed: the next search sees a new index state
    assert "Invoice reminder" in client.get("/search?q=invoice").get_data(as_text=True)
    assert len(searches) == 2


def test_description_words_are_found(client, make_product):
    # The catalog stores the description rendered and sanitised; the index reads its words.
    make_product(
        "Weekly digest",
        description_md="Sends an **invoice** reminder & more",
        description_html="<p>Sends an <strong>invoice</strong> reminder &amp; more</p>",
    )
    body = client.get("/search?q=reminder").get_data(as_text=True)
    assert "Weekly digest" in body and "1 result for" in body
