"""Support in a real browser: the buyer asks for help from the order page (an htmx multipart
form with a screenshot, a 422 first), sees the image, and the vendor answers from its inbox."""

import pytest

from app.commerce.models import OrderLine
from app.extensions import db
from tests.browser.test_catalog_browser import log_in, log_out
from tests.support_threads.factories import png_bytes, purchase

pytestmark = pytest.mark.browser


def test_a_buyer_asks_for_help_and_the_vendor_answers(app, live_server, page, make_user, tmp_path):
    bought = purchase(app, make_user, title="Wombat invoice sync", store_name="Wombat Works")
    with app.app_context():
        order_id = db.session.get(OrderLine, bought.line_id).order_id
    screenshot = tmp_path / "error.png"
    screenshot.write_bytes(png_bytes((120, 80)))

    log_in(page, live_server, bought.buyer.email, bought.buyer.display_name)
    page.goto(f"{live_server}/orders/{order_id}")
    page.get_by_role("link", name="Get help / contact the vendor").click()
    form = page.locator("#thread_form")
    form.get_by_label("Your message").fill("The sync stops with a 401 from the invoice API.")
    form.get_by_label("Images").set_input_files(str(screenshot))
    form.get_by_role("button", name="Send to the vendor").click()
    # No subject: htmx swaps the form with its errors (422) in place.
    page.locator("#thread_form .field-error").first.wait_for()
    page.locator("#thread_form").get_by_label("Subject").fill("401 from the invoice API")
    page.locator("#thread_form").get_by_label("Images").set_input_files(str(screenshot))
    page.locator("#thread_form").get_by_role("button", name="Send to the vendor").click()
    page.get_by_text("Your message is sent to the vendor.").wait_for()
    assert page.get_by_role("heading", name="401 from the invoice API").is_visible()
    image = page.get_by_role("img", name="Attached image error.png")
    image.wait_for()
    assert image.evaluate("img => img.naturalWidth") == 120
    log_out(page, bought.buyer.display_name)

    log_in(page, live_server, bought.vendor.email, bought.vendor.display_name)
    page.goto(f"{live_server}/vendor/support")
    page.get_by_role("link", name="Open 1").click()
    page.locator("#inbox").get_by_role("link", name="401 from the invoice API").click()
    page.get_by_label("Your message").fill("Reconnect the invoice credential; the token expired.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Your message is sent.").wait_for()
    assert "Answered" in page.locator(".status").first.inner_text()
    assert page.js_errors == []
