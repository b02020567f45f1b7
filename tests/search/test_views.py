"""Search through HTTP on the real app: page and fragment, analytics, clicks, jobs, recovery."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.outbox.services import dispatch_committed, record_event
from app.search.models import SearchClick, SearchQuery

HX = {"HX-Request": "true"}


def test_page_and_fragment_from_one_url(client, make_product):
    make_product("Invoice chaser")
    page = client.get("/search?q=invoice")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body and "Invoice chaser" in body
    assert 'hx-trigger="input changed delay:300ms"' in body
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


HOSTILE = [
    "title:x",
    "*a*",
    "a" * 5000,
    '"unbalanced',
    "AND",
    "x OR",
    "or",
    "!x & y | (z",
    "x:* <-> y",
    "\x00\x1b",
    "-",
    "日本語 🤖",
    "x_y_",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_are_answered_without_an_engine_error(client, make_product, caplog, q):
    make_product("Agent x")
    caplog.set_level(logging.WARNING)
    response = client.get("/search", query_string={"q": q, "page": "-1", "sort": "x"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "being rebuilt" not in body and "could not answer" not in body
    assert re.search(r"\d+ results?", body)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


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
    response = client.get(f"/search/click/{product_id}?q=invoice&pos=1&next=https://evil.example/")
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


@pytest.mark.parametrize("query", ["", "slack & co", "日本語 🤖 a+b=c?#", "x" * 200])
@pytest.mark.parametrize("typed", [False, True])
def test_click_links_are_the_links_url_for_builds(app, query, typed):
    """click_links encodes the shared query string once per page: the plain reference is
    url_for with every argument, compared as path and parsed query."""
    from types import SimpleNamespace
    from urllib.parse import parse_qs, urlsplit

    from flask import url_for

    from app.search.views import click_links

    # A link reads a hit's id and position only.
    hits = [SimpleNamespace(id=n, position=p) for n, p in ((7, 1), (2**31 - 1, 2), (12, 20))]
    with app.test_request_context("/search"):
        links = click_links(hits, query, typed)
        assert list(links) == [h.id for h in hits]
        for h in hits:
            reference = url_for(
                "search.click_GET",
                product_id=h.id,
                pos=h.position,
                q=query or None,
                typed="1" if typed and query else None,
            )
            ours, theirs = urlsplit(links[h.id]), urlsplit(reference)
            assert ours.path == theirs.path
            assert parse_qs(ours.query) == parse_qs(theirs.query)


def test_a_settled_results_link_records_its_search_and_position(app, client, make_product):
    product_id = make_product("Invoice chaser")
    body = client.get("/search?q=invoice").get_data(as_text=True)
    link = re.search(r'href="(/search/click/[^"]+)"', body).group(1).replace("&amp;", "&")
    assert client.get(link).status_code == 303
    with app.app_context():
        click = db.session.scalar(select(SearchClick))
        query_id = db.session.scalar(select(SearchQuery.id))
        assert (click.product_id, click.search_query_id, click.position) == (
            product_id,
            query_id,
            1,
        )


def test_a_settled_click_counts_for_the_latest_search_of_its_text(app, client, make_product):
    from datetime import timedelta

    from app.search.services import CLICK_WINDOW
    from app.timeutil import utcnow

    product_id = make_product("Invoice chaser")
    for _ in range(2):
        client.get("/search?q=invoice")
    client.get("/search?q=chaser")
    with app.app_context():
        ids = dict(
            db.session.execute(select(SearchQuery.id, SearchQuery.query).order_by(SearchQuery.id))
            .tuples()
            .all()
        )
    latest = max(i for i, q in ids.items() if q == "invoice")
    # Page 2 is not logged; its clicks count for the search it continues.
    assert client.get(f"/search/click/{product_id}?pos=21&q=Invoice").status_code == 303
    with app.app_context():
        old = db.session.get(SearchQuery, latest)
        old.created_at = utcnow() - CLICK_WINDOW - timedelta(minutes=1)
        db.session.commit()
    # Only the older "invoice" search is left in the window.
    client.get(f"/search/click/{product_id}?pos=1&q=invoice")
    with app.app_context():
        for row in db.session.scalars(select(SearchQuery)):
            row.created_at = utcnow() - CLICK_WINDOW - timedelta(minutes=1)
        db.session.commit()
    client.get(f"/search/click/{product_id}?pos=1&q=invoice")  # none left: not attributed
    with app.app_context():
        clicks = db.session.execute(
            select(SearchClick.search_query_id, SearchClick.position).order_by(SearchClick.id)
        ).all()
        assert [tuple(c) for c in clicks] == [(latest, 21), (min(ids), 1), (None, 1)]
        assert db.session.scalar(select(func.count(SearchQuery.id))) == 3  # none logged


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


def test_reindex_command_rebuilds_the_index(app, client, make_product, backend):
    make_product("One", index=False)
    make_product("Two", index=False)
    assert "0 results for" in client.get("/search?q=two").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"Indexing products ({backend.name})" in result.output
    assert "indexed 2 product(s)" in result.output
    assert "1 result for" in client.get("/search?q=two").get_data(as_text=True)


def test_a_kept_result_is_rendered_once_for_every_visitor(
    app, client, make_product, backend, monkeypatch
):
    from flask import template_rendered

    if backend.name == "postgres":  # it keeps answers for SEARCH_REFRESH_SECONDS (0 in tests)
        from app.search.postgres_backend import PostgresBackend

        monkeypatch.setitem(app.extensions, "search", PostgresBackend(refresh_seconds=60))
    make_product("Invoice chaser")
    rendered = []

    def note(_app, template, context):
        rendered.append(template.name)

    with template_rendered.connected_to(note, app):
        first = client.get("/search?q=invoice").get_data(as_text=True)
        second = client.get("/search?q=invoice").get_data(as_text=True)
        typing = {**HX, "HX-Trigger": "search-q", "HX-Target": "search_results"}
        typed = client.get("/search?q=invoice", headers=typing).get_data(as_text=True)
        assert rendered.count("search/_results.html") == 2  # settled once, as-you-type once
        assert first == second and "typed=1" not in first and "typed=1" in typed
        # Both searches are logged all the same.
        with app.app_context():
            assert db.session.scalar(select(func.count(SearchQuery.id))) == 2
        make_product("Invoice reminder")  # indexed: a new answer, rendered anew
        third = client.get("/search?q=invoice").get_data(as_text=True)
        assert "Invoice reminder" in third and rendered.count("search/_results.html") == 3


def test_a_result_the_backend_does_not_keep_is_rendered_every_time(
    app, client, make_product, monkeypatch
):
    from dataclasses import replace

    from flask import template_rendered

    make_product("Invoice chaser")
    backend = app.extensions["search"]
    keeping = backend.search
    monkeypatch.setattr(backend, "search", lambda params: replace(keeping(params), token=None))
    rendered = []

    def note(_app, template, context):
        rendered.append(template.name)

    with template_rendered.connected_to(note, app):
        for _ in range(2):
            assert "Invoice chaser" in client.get("/search?q=invoice").get_data(as_text=True)
    assert rendered.count("search/_results.html") == 2


def test_description_words_are_found(client, make_product):
    # The catalog stores the description rendered and sanitised; the index reads its words.
    make_product(
        "Weekly digest",
        description_md="Sends an **invoice** reminder & more",
        description_html="<p>Sends an <strong>invoice</strong> reminder &amp; more</p>",
    )
    body = client.get("/search?q=reminder").get_data(as_text=True)
    assert "Weekly digest" in body and "1 result for" in body


def test_prices_read_as_on_the_catalog(client, make_product):
    make_product(
        "Sub agent",
        price_type="subscription",
        price_cents=0,
        monthly_price_cents=3900,
        yearly_price_cents=39000,
    )
    make_product("Yearly agent", price_type="subscription", price_cents=0, yearly_price_cents=9000)
    make_product("Free agent", price_type="free", price_cents=0)
    body = " ".join(client.get("/search?q=agent").get_data(as_text=True).split())
    assert "$39.00/month or $390.00/year" in body
    assert "$90.00/year" in body and "/month or" not in body.split("Yearly agent")[1][:300]
    assert "USD" not in body


def test_as_you_type_is_logged_once_settled(app, client, make_product):
    product_id = make_product("Invoice chaser")
    typing = {**HX, "HX-Trigger": "search-q", "HX-Target": "search_results"}
    for partial in ("inv", "invo", "invoic"):
        body = client.get(f"/search?q={partial}", headers=typing).get_data(as_text=True)
    assert "Invoice chaser" in body
    with app.app_context():
        assert db.session.scalar(select(func.count(SearchQuery.id))) == 0
    # A click on an as-you-type result settles that query: logged with the click.
    link = re.search(r'href="(/search/click/[^"]+)"', body).group(1).replace("&amp;", "&")
    assert "q=invoic" in link
    assert client.get(link).status_code == 303
    # The form submitted (or a facet ticked: the form's change) is settled too.
    client.get("/search?q=invoice", headers={**HX, "HX-Trigger": "search-form"})
    with app.app_context():
        rows = db.session.scalars(select(SearchQuery).order_by(SearchQuery.id)).all()
        assert [r.query for r in rows] == ["invoic", "invoice"]
        click = db.session.scalar(select(SearchClick))
        assert (click.product_id, click.search_query_id) == (product_id, rows[0].id)


def test_header_box_suggests_as_you_type(client, make_product):
    make_product("Invoice chaser", price_type="one_time", price_cents=1900)
    make_product("Invoice reminder")
    headers = {**HX, "HX-Trigger": "header-q", "HX-Target": "header-suggest"}
    body = client.get("/search?q=invoi", headers=headers).get_data(as_text=True)
    assert "<html" not in body and 'id="search_results"' not in body
    assert "Invoice chaser" in body and "$19.00" in body and "All 2 results" in body
    assert 'role="status"' in body
    assert client.get("/search?q=", headers=headers).get_data(as_text=True).strip() == ""
    # Without JavaScript the header box is a plain GET form to the results page.
    page = client.get("/").get_data(as_text=True)
    assert re.search(
        r'<form class="header-search" role="search" method="get" action="/search"', page
    )


def test_search_and_clicks_are_rate_limited(client, make_product):
    product_id = make_product("Invoice chaser")
    statuses = [client.get(f"/search/click/{product_id}?pos=1").status_code for _ in range(31)]
    assert statuses[:30] == [303] * 30 and statuses[30] == 429
    statuses = {client.get("/search?q=x").status_code for _ in range(121)}
    assert statuses == {200, 429}


@pytest.mark.parametrize(
    "query",
    [
        "q=never+searched&pos=1",
        "pos=999999999999999999999",
        "q=&pos=-1",
        "typed=x",
        "q=" + "x" * 5000,
        "q=%00%1b&typed=0",
    ],
)
def test_out_of_range_click_values_count_as_absent(app, client, make_product, query):
    product_id = make_product("Invoice chaser")
    assert client.get(f"/search/click/{product_id}?{query}").status_code == 303
    assert client.get(f"/search/click/999999999999999999999?{query}").status_code == 404
    with app.app_context():
        click = db.session.scalar(select(SearchClick))
        assert click.search_query_id is None and click.position in (None, 1)


def test_a_failing_query_is_logged_and_explained_but_rebuilds_nothing(
    app, client, make_product, monkeypatch, caplog
):
    from app.search import services
    from app.security import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())  # as the app's log handler does
    make_product("Invoice chaser")
    backend = app.extensions["search"]

    def broken(params):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(backend, "search", broken)
    requested = []
    monkeypatch.setattr(services, "request_rebuild", lambda: requested.append(1))
    response = client.get("/search?q=invoice", headers={"X-Request-ID": "req-12345678"})
    assert response.status_code == 500
    assert "Search could not answer this query" in response.get_data(as_text=True)
    assert requested == []
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "search failed" in record.getMessage() and record.request_id == "req-12345678"
