"""A buyer is told about a new version and downloads it: the vendor's new file goes through
the real pipeline (upload, scan job, announcement job), the buyer sees the notification in the
header's bell and the list, opens it to the library and downloads the new version."""

from __future__ import annotations

import re

import pytest

from app.accounts.models import User
from app.commerce import fulfilment
from app.extensions import db
from tests.assets.factories import draft, upload
from tests.assets.test_version_notifications import workflow
from tests.browser.test_catalog_browser import log_in

pytestmark = pytest.mark.browser


def test_a_buyer_is_told_about_a_new_version_and_downloads_it(
    app, live_server, page, make_user, run_jobs
):
    product_id = draft(
        app, make_user, title="Lead router", status="approved", price_type="free", price_cents=0
    )
    with app.app_context():
        upload(product_id, workflow("Lead router 1.0"), "lead-router.json", label="1.0")
    run_jobs()
    buyer = make_user(first_name="Nia", last_name="Owner")
    with app.app_context():
        fulfilment.get_free(db.session.get(User, buyer.id), product_id)
        db.session.commit()
    run_jobs()

    log_in(page, live_server, buyer.email, "Nia Owner")
    page.locator("#bell[aria-label='Notifications: 0 unread']").wait_for()

    new_file = workflow("Lead router 1.1")
    with app.app_context():
        upload(product_id, new_file, "lead-router.json", label="1.1")
    run_jobs()  # the scan, then the announcement, then the buyer's notification

    page.goto(f"{live_server}/")
    bell = page.locator("#bell")
    bell.filter(has_text="1").wait_for()
    assert bell.get_attribute("aria-label") == "Notifications: 1 unread"
    bell.click()
    page.wait_for_url(f"{live_server}/notifications")
    notice = page.locator("article.notification", has_text="Version 1.1 of “Lead router” is out")
    notice.get_by_text("Download it from your library.").wait_for()
    notice.get_by_role("button", name="Open").click()

    page.wait_for_url(f"{live_server}/library")
    entry = page.locator("article.library-entry", has_text="Lead router")
    entry.get_by_text(re.compile(r"version 1\.1")).wait_for()
    with page.expect_download() as download_info:
        entry.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "lead-router.json"
    with open(download.path(), "rb") as saved:
        assert saved.read() == new_file
    page.goto(f"{live_server}/notifications")
    page.locator("#bell[aria-label='Notifications: 0 unread']").wait_for()  # read once opened
    assert page.js_errors == []
