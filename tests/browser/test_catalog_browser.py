"""A listing's life in a real browser: a vendor writes and submits it, an admin approves it,
the search job indexes it and a shopper finds it from the header search box and opens it."""

import re

import pytest

from tests.assets.factories import give_clean_version
from tests.catalog.factories import create_category
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "Quokkaflow invoice chaser"


@pytest.fixture
def fresh_index(app) -> None:
    """An empty search index, so nothing indexed by earlier tests shows up."""
    from app.search.backend import search_backend

    with app.app_context():
        search_backend().rebuild([])


def log_in(page, live_server: str, email: str, name: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Welcome back, {name}.").wait_for()


def open_menu(page, name: str) -> None:
    page.locator("summary", has_text=name).click()


def log_out(page, name: str) -> None:
    open_menu(page, name)
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for()


def test_vendor_lists_admin_approves_shopper_finds(
    app, live_server, page, make_user, run_jobs, fresh_index
):
    create_category(app, "Finance Ops")
    vendor = make_user("vendor", first_name="Vera", last_name="Vendor")
    admin = make_user("admin", first_name="Ada", last_name="Admin")

    # The vendor writes a draft and submits it.
    log_in(page, live_server, vendor.email, "Vera Vendor")
    open_menu(page, "Vera Vendor")
    page.get_by_role("link", name="Your listings").click()
    page.get_by_role("link", name="New listing").click()
    page.wait_for_url(f"{live_server}/vendor/products/new")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Short description", exact=True).fill("Chases unpaid invoices politely.")
    page.get_by_label("Description (Markdown)", exact=True).fill(
        "## What it does\n\n- reads overdue invoices\n- sends a **friendly** reminder\n"
    )
    page.get_by_label("Category", exact=True).select_option(label="Finance Ops")
    page.get_by_label("Pricing", exact=True).select_option(label="One-time purchase")
    page.get_by_label("One-time price", exact=True).fill("19.00")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Draft saved. Submit it for review when it is ready.").wait_for()
    page.wait_for_url(re.compile(r"/vendor/products/\d+$"))
    assert page.get_by_role("heading", name=TITLE).is_visible()
    # Its file was uploaded and scanned clean (tests/browser/test_versions_browser.py).
    give_clean_version(app, int(page.url.rsplit("/", 1)[-1]))
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review. We will email you.").wait_for()
    assert page.get_by_role("button", name="Withdraw from review").is_visible()
    log_out(page, "Vera Vendor")

    # The admin approves it from the moderation queue.
    log_in(page, live_server, admin.email, "Ada Admin")
    open_menu(page, "Ada Admin")
    page.get_by_role("link", name="Moderation", exact=True).click()
    page.wait_for_url(f"{live_server}/admin/moderation")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name="Decision").wait_for()
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("Approved: it is live.").wait_for()
    assert page.url == f"{live_server}/admin/moderation"
    assert page.get_by_text("Nothing waiting for review.").is_visible()
    log_out(page, "Ada Admin")

    # product.approved: the search job indexes it, the vendor's notice is mailed.
    assert run_jobs() == 2

    # An anonymous shopper searches from the header, finds it and opens it.
    page.goto(f"{live_server}/")
    header = page.get_by_role("banner")
    header.get_by_role("searchbox", name="Search the marketplace").fill("quokkaflow")
    header.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=quokkaflow"))
    results = page.locator("#search_results")
    results.get_by_text("1 result for “quokkaflow”").wait_for()
    results.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"{live_server}/products/quokkaflow-invoice-chaser")
    assert page.get_by_role("heading", name=TITLE, level=1).is_visible()
    assert page.locator(".price").inner_text() == "$19.00"
    assert page.js_errors == []


LONG_WORD = "Supercalifragilisticexpialidocious" * 2  # fits every column, PostgreSQL too
LONG_NODES = [
    "@n8n/n8n-nodes-langchain.textSplitterRecursiveCharacterTextSplitter",
    "@acme-automation/n8n-nodes-enterprise.veryLongVendorSpecificNodeForSalesforceSync",
    "n8n-nodes-base.httpRequest",
]


def test_catalog_pages_do_not_scroll_sideways_with_long_words(app, page, live_server, make_user):
    """Long node types, titles, tags and store names wrap at a phone's and a laptop's width."""
    from tests.catalog.factories import create_product, slug_of

    create_category(app, "Ops")
    long_fields = {
        "category_slug": "ops",
        "store_name": f"Store {LONG_WORD}",
        "short_description": LONG_WORD,
        "node_types": [*LONG_NODES, LONG_WORD],
        "credentials_required": [LONG_WORD],
    }
    live = create_product(app, make_user, f"Live {LONG_WORD}", tags=["t" * 40], **long_fields)
    waiting = create_product(
        app, make_user, f"Waiting {LONG_WORD}", status="pending", **long_fields
    )
    with app.app_context():
        from app.catalog.models import Product
        from app.extensions import db

        vendor_slug = db.session.get(Product, live).vendor.slug
    admin = make_user("admin", first_name="Ada", last_name="Admin")
    log_in(page, live_server, admin.email, "Ada Admin")
    urls = [
        f"/products/{slug_of(app, live)}",
        "/categories/ops",
        f"/vendors/{vendor_slug}",
        "/",
        "/admin/moderation",
        f"/admin/moderation/{waiting}",
    ]
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            page.goto(f"{live_server}{url}")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{url} at {width} px is {scroll} px wide"
