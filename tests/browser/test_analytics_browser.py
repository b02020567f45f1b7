"""A vendor switches the analytics range in a real browser: htmx swaps the block in place (no
page load), the address follows, and the custom range works the same way."""

import pytest

from app.timeutil import utcnow
from app.vendors import analytics
from tests.catalog.factories import create_product
from tests.vendors.factories import add_views, at, create_sale, days_ago

pytestmark = pytest.mark.browser


def _summary(page, measure: str) -> str:
    row = page.locator("#summary tr", has=page.locator("th", has_text=measure)).first
    return row.locator("td").first.inner_text()


def test_vendor_switches_the_range(app, live_server, page, make_user):
    from tests.browser.test_catalog_browser import log_in

    vendor = make_user("vendor", first_name="Vera", last_name="Vendor")
    product = create_product(app, lambda role="vendor", **kw: vendor, "Range listing")
    buyer = make_user("customer")
    add_views(app, product, days_ago(2), [("v1", "n1"), ("v2", "n2")], referrer="news.example")
    add_views(app, product, days_ago(20), [("v3", "n3"), ("v4", "n4"), ("v5", "n5")])
    create_sale(app, buyer.id, product, at(days_ago(20)))
    with app.app_context():
        analytics.aggregate_range(days_ago(25), utcnow().date())

    log_in(page, live_server, vendor.email, "Vera Vendor")
    page.goto(f"{live_server}/vendor/analytics?range=7")
    assert _summary(page, "Page views") == "2"
    assert _summary(page, "Sales") == "0"
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Last 30 days").click()
    page.wait_for_url(f"{live_server}/vendor/analytics?range=30")
    page.locator('#analytics nav a[aria-current="page"]', has_text="Last 30 days").wait_for()
    assert _summary(page, "Page views") == "5"
    assert _summary(page, "Sales") == "1"
    assert page.evaluate("window.notReloaded") is True  # swapped by htmx, not a page load
    assert page.locator("#analytics svg.chart").count() == 2

    page.get_by_label("From").fill(days_ago(21).isoformat())
    page.get_by_label("to", exact=True).fill(days_ago(19).isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**range=custom**")
    page.get_by_text("(3 days)").wait_for()
    assert _summary(page, "Page views") == "3"
    assert page.evaluate("window.notReloaded") is True
    assert page.js_errors == []
