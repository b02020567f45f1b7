"""A vendor uploads a workflow in a real browser (htmx posts the form with a progress bar),
watches the status change when the scan job runs, and reads the findings and the preview."""

import re

import pytest

from tests.assets.factories import draft, secret_workflow
from tests.browser.test_catalog_browser import log_in

pytestmark = pytest.mark.browser


def test_vendor_uploads_watches_the_scan_and_sees_findings_and_preview(
    app, live_server, page, make_user, run_jobs, tmp_path
):
    from app.catalog.models import Product
    from app.extensions import db

    product_id = draft(app, make_user, title="Invoice chaser")
    with app.app_context():
        user = db.session.get(Product, product_id).vendor.user
        email, name = user.email, user.display_name
    workflow = tmp_path / "invoice-chaser.json"
    workflow.write_bytes(secret_workflow())

    log_in(page, live_server, email, name)
    page.goto(f"{live_server}/vendor/products/{product_id}")
    page.get_by_role("link", name="Files and versions").click()
    page.wait_for_url(f"{live_server}/vendor/products/{product_id}/versions")
    page.get_by_label("File", exact=True).set_input_files(str(workflow))
    page.get_by_label("Version", exact=True).fill("1.0")
    page.get_by_label("What changed (Markdown)").fill("First release.")
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Version 1.0 is uploaded and waits for its scan.").wait_for()
    status = page.locator("[id^=version-status-]")
    assert status.inner_text().startswith("Quarantined")

    assert run_jobs() >= 1  # the scan job; the page polls and reloads once it is final
    page.get_by_role("status").filter(has_text=re.compile("^Clean")).wait_for(timeout=15_000)
    page.get_by_role("link", name="1.0", exact=True).click()
    page.get_by_role("heading", name="Findings").wait_for()
    assert page.get_by_text(re.compile("in node 'Call the API'")).first.is_visible()
    preview = page.get_by_role("img", name=re.compile("canvas"))
    preview.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    page.get_by_role("button", name="Acknowledge these findings").click()
    page.get_by_text("The findings of version 1.0 are acknowledged.").wait_for()
    assert not page.js_errors, page.js_errors
