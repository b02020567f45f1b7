"""Buying in a real browser: a paid product through the sandbox (the key shown at the end, then
its file downloaded from the library), a free product, and a Stripe checkout whose redirect the
CSP's form-action lets through."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app.commerce.models import Order
from app.extensions import db
from app.licensing.models import Licence
from tests.assets.factories import stored_version_here
from tests.browser.test_catalog_browser import log_in
from tests.catalog.factories import create_product, slug_of

pytestmark = pytest.mark.browser


def _key_of(app, user_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Licence.key).where(Licence.user_id == user_id))


def test_a_shopper_buys_with_the_sandbox_sees_the_key_and_downloads(
    app, live_server, page, make_user
):
    product = create_product(app, make_user, "Browser bought", price_cents=2900)
    data = b'{"nodes": [], "connections": {}, "name": "bought"}'
    with app.test_request_context():
        stored_version_here(product, data, "browser-bought.json", "1.0")
    buyer = make_user(first_name="Bea", last_name="Buyer")
    log_in(page, live_server, buyer.email, "Bea Buyer")
    page.goto(f"{live_server}/products/{slug_of(app, product)}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_text("Added “Browser bought” to your cart.").wait_for()
    # The header's count followed the cart-changed event.
    page.locator("#cart-badge", has_text="1").wait_for()
    page.get_by_role("link", name="View your cart").click()
    page.get_by_text("$29.00").first.wait_for()
    page.get_by_role("button", name="Check out").click()
    page.wait_for_url(re.compile(r".*/checkout/sandbox/sbx_cs_.*"))
    page.get_by_text("SANDBOX").first.wait_for()
    page.get_by_role("button", name=re.compile(r"Pay \$29\.00")).click()
    page.get_by_text("Your payment is confirmed").wait_for()
    page.get_by_role("link", name="See your licence keys").click()
    key = _key_of(app, buyer.id)
    page.locator("code.licence-key", has_text=key).wait_for()
    page.locator("#cart-badge", has_text="0").wait_for()
    page.goto(f"{live_server}/library")
    entry = page.locator("article.library-entry", has_text="Browser bought")
    with page.expect_download() as download_info:
        entry.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "browser-bought.json"
    with open(download.path(), "rb") as saved:
        assert saved.read() == data
    assert page.js_errors == []


def test_a_shopper_gets_a_free_product(app, live_server, page, make_user):
    product = create_product(app, make_user, "Browser freebie", price_type="free", price_cents=0)
    buyer = make_user(first_name="Fay", last_name="Free")
    log_in(page, live_server, buyer.email, "Fay Free")
    page.goto(f"{live_server}/products/{slug_of(app, product)}")
    page.get_by_role("button", name="Get it free").click()
    page.get_by_text("It is yours").wait_for()
    page.locator("code.licence-key", has_text=_key_of(app, buyer.id)).wait_for()
    assert page.js_errors == []


@pytest.fixture
def stripe_server(app, app_env, stripe_fake) -> Iterator[tuple[object, str]]:
    shop = create_app(env={**app_env, **stripe_fake.app_env(), "PAYMENT_PROVIDER": "stripe"})
    server = make_server("127.0.0.1", 0, shop, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield shop, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with shop.app_context():
        db.engine.dispose()


def test_the_checkout_form_may_go_to_stripe(stripe_server, page, make_user, stripe_fake):
    shop, base = stripe_server
    product = create_product(shop, make_user, "Stripe bought", price_cents=1900)
    buyer = make_user(first_name="Sam", last_name="Stripe")
    log_in(page, base, buyer.email, "Sam Stripe")
    page.goto(f"{base}/products/{slug_of(shop, product)}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_text("Added “Stripe bought” to your cart.").wait_for()
    page.goto(f"{base}/cart")
    page.get_by_role("button", name="Check out").click()
    # The 303 after the form's POST leads to Stripe's page: form-action allows its origin.
    page.get_by_text("Stripe test checkout cs_").wait_for()
    assert page.url.startswith(stripe_fake.url)
    with shop.app_context():
        order = db.session.scalar(select(Order))
        session_ref = order.provider_session_ref
    for delivery in stripe_fake.complete_session(session_ref):
        response = shop.test_client().post(
            "/webhooks/stripe", data=delivery.payload, headers=delivery.headers
        )
        assert response.status_code == 200
    page.goto(f"{base}/checkout/success?order={order.number}")
    page.get_by_role("link", name="See your licence keys").click()
    page.locator("code.licence-key", has_text=_key_of(shop, buyer.id)).wait_for()
    assert page.js_errors == []
