"""An admin bans a vendor in a real browser; the vendor's next page load is signed out."""

import re

import pytest

from tests.browser.test_catalog_browser import log_in
from tests.catalog.factories import create_product

pytestmark = pytest.mark.browser


def test_admin_bans_a_vendor_and_the_vendors_session_ends(
    app, browser, live_server, page, make_user
):
    product_id = create_product(app, make_user, "Soon gone")
    from app.catalog.models import Product
    from app.extensions import db

    with app.app_context():
        vendor = db.session.get(Product, product_id).vendor.user
        email, name = vendor.email, vendor.display_name
    vendor_context = browser.new_context()
    vendor_page = vendor_context.new_page()
    try:
        log_in(vendor_page, live_server, email, name)
        vendor_page.goto(f"{live_server}/vendor/products")
        vendor_page.get_by_text("Soon gone").first.wait_for()

        make_user("admin", first_name="Ada", last_name="Admin", email="ada@example.com")
        log_in(page, live_server, "ada@example.com", "Ada Admin")
        page.goto(f"{live_server}/admin/users")
        page.get_by_role("searchbox", name="Search", exact=True).fill(email)
        page.get_by_role("button", name="Apply").click()
        page.get_by_role("link", name=email).click()
        page.get_by_role("heading", name=email).wait_for()
        # No confirmation ticked: asked again, nothing done.
        page.get_by_label("Reason (kept in the audit log)").first.fill("Selling malware")
        page.get_by_role("button", name="Ban").click()
        page.get_by_text("Tick the box to confirm.").wait_for()
        page.get_by_label("Reason (kept in the audit log)").first.fill("Selling malware")
        page.get_by_label("I have checked this and want to go ahead").first.check()
        page.get_by_role("button", name="Ban").click()
        page.get_by_text("Account banned").wait_for()
        assert "user.ban" in page.content()

        # The vendor's next page load: signed out, sent to log in.
        vendor_page.goto(f"{live_server}/vendor/products")
        vendor_page.wait_for_url(re.compile(r"/login\?next="))
        assert vendor_page.get_by_role("link", name="Log in").is_visible()
        page.goto(f"{live_server}/admin/products?filter=suspended")
        page.get_by_text("Soon gone").wait_for()
        assert page.js_errors == []
    finally:
        vendor_context.close()
