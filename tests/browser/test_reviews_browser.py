"""Reviews in a real browser: a buyer writes one on the product page (htmx form, a 422 first),
and the product's vendor replies to it in public."""

import pytest

from tests.browser.test_catalog_browser import log_in, log_out
from tests.catalog.factories import create_product, slug_of
from tests.reviews.factories import make_buyer, vendor_of

pytestmark = pytest.mark.browser


def test_a_buyer_writes_a_review_and_the_vendor_replies(app, live_server, page, make_user):
    product_id = create_product(app, make_user, "Quokka lead router", store_name="Quokka Tools")
    url = f"{live_server}/products/{slug_of(app, product_id)}"
    buyer = make_buyer(app, make_user, product_id, first_name="Bea", last_name="Buyer")
    vendor = vendor_of(app, product_id)

    log_in(page, live_server, buyer.email, "Bea Buyer")
    page.goto(url)
    form = page.locator("#review_form")
    form.get_by_label("4 stars").check()
    form.get_by_label("Title").fill("ok")
    form.get_by_label("Your review").fill("Routes every lead to the right rep within a minute.")
    form.get_by_role("button", name="Publish your review").click()
    # htmx swaps the form with its errors (422) in place.
    page.locator("#review_form .field-error").first.wait_for()
    assert page.url == url
    page.locator("#review_form").get_by_label("Title").fill("Fast and accurate")
    page.locator("#review_form").get_by_role("button", name="Publish your review").click()
    page.get_by_text("Thanks: your review is published.").wait_for()
    review = page.locator(".review-list .review").first
    assert "Fast and accurate" in review.inner_text() and "Bea B." in review.inner_text()
    assert "out of 5 · 1 review" in page.locator(".review-summary").inner_text()
    log_out(page, "Bea Buyer")

    log_in(page, live_server, vendor.email, vendor.display_name)
    page.goto(url)
    page.get_by_role("link", name="Reply publicly").click()
    page.get_by_label("Your reply").fill("Thanks Bea! Round-robin routing is coming next month.")
    page.get_by_role("button", name="Publish your reply").click()
    page.get_by_text("Your reply is published under the review.").wait_for()
    reply = page.locator(".review-reply")
    assert "Reply from Quokka Tools" in reply.inner_text()
    assert "Round-robin routing" in reply.inner_text()
    assert page.get_by_role("link", name="Reply publicly").count() == 0
    assert page.js_errors == []
