"""Search in a real browser: facets apply as they are ticked, the header box suggests."""

import re

import pytest

from app.search.backend import search_backend
from app.search.services import reindex_all
from tests.catalog.factories import create_product

pytestmark = pytest.mark.browser


@pytest.fixture
def catalog(app, make_user):
    create_product(app, make_user, "Quokka lead agent", type="ai_agent")
    create_product(app, make_user, "Quokka lead flow", type="n8n_workflow")
    create_product(app, make_user, "Quokka invoice sheet", type="automation_asset")
    with app.app_context():
        reindex_all()
    yield
    with app.app_context():
        search_backend().rebuild([])


def test_ticking_a_facet_updates_the_results_at_once(live_server, page, catalog):
    page.goto(f"{live_server}/search?q=quokka")
    results = page.locator("#search_results")
    results.get_by_text("3 results for “quokka”").wait_for()
    page.locator("#f-type-ai_agent").check()
    results.get_by_text("1 result for “quokka”").wait_for()  # no "Apply filters" pressed
    assert results.get_by_role("link", name="Quokka lead agent").is_visible()
    assert "type=ai_agent" in page.url
    assert page.js_errors == []


def test_apply_filters_works_without_javascript(browser, live_server, catalog):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/search?q=quokka")
    page.locator("#f-type-n8n_workflow").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"type=n8n_workflow"))
    assert page.get_by_text("1 result for “quokka”").is_visible()
    context.close()


def test_the_header_box_suggests_as_you_type(live_server, page, catalog):
    page.goto(f"{live_server}/about")
    header = page.get_by_role("banner")
    box = header.get_by_role("searchbox", name="Search the marketplace")
    box.press_sequentially("quokka lea", delay=30)
    suggestions = header.get_by_role("list", name="Suggestions")
    suggestions.get_by_role("link", name="All 2 results for “quokka lea”").wait_for()
    assert suggestions.get_by_role("link", name="Quokka lead agent").is_visible()
    assert header.get_by_role("status").inner_text().startswith("2 results")
    # Keyboard: Tab from the box reaches the first suggestion, Enter opens it.
    box.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Quokka lead")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/products/"))
    assert page.js_errors == []


def test_long_queries_wrap_on_the_search_analytics_page(app, live_server, page, make_user):
    from app.extensions import db
    from app.search.models import SearchQuery
    from tests.browser.test_catalog_browser import log_in

    with app.app_context():
        db.session.add(SearchQuery(query="x" * 200, result_count=0, filters={}))
        db.session.add(SearchQuery(query="word " * 40, result_count=3, filters={}))
        db.session.commit()
    admin = make_user("admin", first_name="Ada", last_name="Admin")
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, admin.email, "Ada Admin")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server}/admin/search")
        page.get_by_role("heading", name="Search analytics").wait_for()
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (width, scroll)
