"""The cart: anonymous and signed-in, merged at login, htmx and plain forms, tampering, free
products, discount codes and their messages, and the sandbox checkout walked through."""

from __future__ import annotations

import json
from datetime import timedelta

from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select

from app.accounts.models import User
from app.commerce import services
from app.commerce.models import Cart, DiscountKind, Order
from app.extensions import db
from app.licensing.models import Licence
from app.timeutil import utcnow
from tests.catalog.factories import create_product
from tests.commerce.conftest import assert_ledger_balanced
from tests.conftest import csrf_token, login


def add(client, product_id, headers=None, **extra):
    token = csrf_token(client, f"/cart/add?product={product_id}")
    data = {"product_id": product_id, "csrf_token": token, **extra}
    return client.post("/cart/items", data=data, headers=headers or {})


def code_for(app, make_user_id, code, **fields):
    with app.app_context():
        vendor = db.session.get(User, make_user_id)
        found = services.create_discount_code(vendor, code, **fields)
        db.session.commit()
        return found.id


def vendor_user_of(app, product_id):
    from app.catalog.models import Product

    with app.app_context():
        return db.session.get(Product, product_id).vendor.user_id


def test_an_anonymous_cart_is_kept_in_the_session_and_merged_at_login(app, client, make_user):
    first = create_product(app, make_user, "First", price_cents=1000)
    second = create_product(app, make_user, "Second", price_cents=2500)
    page = client.get(f"/cart/add?product={first}")
    assert page.status_code == 200 and "Add “First” to your cart?" in page.get_data(as_text=True)
    assert add(client, first).status_code == 303
    assert add(client, second).status_code == 303
    assert add(client, second).status_code == 303  # twice: still one
    cart = client.get("/cart").get_data(as_text=True)
    assert "$35.00" in cart and 'id="cart-badge"' in cart and ">2</span>" in cart
    buyer = make_user()
    assert login(client, buyer).status_code == 303
    with app.app_context():
        stored = db.session.scalar(select(Cart).where(Cart.user_id == buyer.id))
        assert sorted(item.product_id for item in stored.items) == [first, second]
    assert "$35.00" in client.get("/cart").get_data(as_text=True)


def test_htmx_adds_and_removes_and_announces_the_change(app, client, login_as, make_user):
    login_as("customer")
    product = create_product(app, make_user, "Htmx thing")
    added = add(client, product, headers={"HX-Request": "true", "HX-Target": "buy-result"})
    assert added.status_code == 200 and added.headers["HX-Trigger"] == "cart-changed"
    assert "Added “Htmx thing”" in added.get_data(as_text=True)
    assert "<html" not in added.get_data(as_text=True)
    badge = client.get("/cart", headers={"HX-Request": "true", "HX-Target": "cart-badge"})
    assert badge.get_data(as_text=True).strip().endswith(">1</span>")
    removed = client.post(
        f"/cart/items/{product}/remove",
        data={"csrf_token": csrf_token(client, "/cart")},
        headers={"HX-Request": "true", "HX-Target": "cart"},
    )
    assert removed.status_code == 200 and removed.headers["HX-Trigger"] == "cart-changed"
    assert "Your cart is empty" in removed.get_data(as_text=True)
    assert "Vary" in removed.headers and "HX-Request" in removed.headers["Vary"]


def test_a_tampered_cart_names_products_only(app, client, make_user):
    cheap = create_product(app, make_user, "Cheap", price_cents=700)
    # A form with a price and a quantity: only the product is read.
    add(client, cheap, price_cents=1, quantity=50, interval="year")
    # A session cookie rewritten by hand (signed with the app's key, as an insider could):
    # quantities, prices and junk are dropped, the products' own prices are used.
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    forged = serializer.dumps(
        {
            "cart": {
                "items": [[cheap, None], [cheap, "month"], ["1", None], [True, None], [99999, "x"]],
                "code": 5,
                "price": 1,
            }
        }
    )
    client.set_cookie("session", forged)
    page = client.get("/cart").get_data(as_text=True)
    assert "$7.00" in page and page.count("Remove</button>") == 1
    assert services.SessionCart.from_session(json.loads('{"items": [[1, "decade"]]}')).items == []


def test_free_products_go_straight_to_the_library(app, client, login_as, make_user):
    buyer = login_as("customer")
    free = create_product(app, make_user, "Free tool", price_type="free", price_cents=0)
    refused = add(client, free)
    assert refused.status_code == 422 and "free" in refused.get_data(as_text=True)
    got = client.post(f"/products/{free}/get", data={"csrf_token": csrf_token(client, "/cart")})
    assert got.status_code == 303
    page = client.get(got.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        [licence] = db.session.scalars(select(Licence).where(Licence.user_id == buyer.id))
        order = db.session.scalar(select(Order))
        assert order.total_cents == 0 and order.status == "paid" and order.invoice_number is None
        assert order.provider == "free"
    assert licence.key in page
    again = client.post(f"/products/{free}/get", data={"csrf_token": csrf_token(client, "/cart")})
    assert again.status_code == 422 and "already own" in again.get_data(as_text=True)
    assert_ledger_balanced(app)


def test_the_product_page_offers_the_right_action(app, client, login_as, make_user):
    from tests.catalog.factories import slug_of

    paid = slug_of(app, create_product(app, make_user, "Paid page"))
    free = slug_of(app, create_product(app, make_user, "Free page", price_type="free"))
    anonymous = client.get(f"/products/{paid}").get_data(as_text=True)
    assert 'action="/cart/add"' in anonymous and "csrf_token" not in anonymous
    assert "Log in to get it free" in client.get(f"/products/{free}").get_data(as_text=True)
    login_as("customer")
    signed_in = client.get(f"/products/{paid}").get_data(as_text=True)
    assert 'hx-post="/cart/items"' in signed_in
    assert "Get it free" in client.get(f"/products/{free}").get_data(as_text=True)
    with app.app_context():
        from app.catalog.models import Product

        free_id = db.session.scalar(select(Product.id).where(Product.slug == free))
    client.post(f"/products/{free_id}/get", data={"csrf_token": csrf_token(client, "/cart")})
    owned = client.get(f"/products/{free}").get_data(as_text=True)
    assert "You own this product" in owned and "Get it free" not in owned


def test_discount_codes_say_why_they_do_not_apply(app, client, login_as, make_user):
    buyer = login_as("customer")
    product = create_product(app, make_user, "Discounted", price_cents=2000)
    other = create_product(app, make_user, "Other store's")
    vendor = vendor_user_of(app, product)
    code_for(app, vendor, "TWENTY", kind=DiscountKind.PERCENT, value=2000)
    code_for(
        app, vendor, "OLD", kind=DiscountKind.FIXED, value=500, ends_at=utcnow() - timedelta(days=1)
    )
    code_for(
        app,
        vendor,
        "SOON",
        kind=DiscountKind.FIXED,
        value=500,
        starts_at=utcnow() + timedelta(days=1),
    )
    full = code_for(app, vendor, "GONE", kind=DiscountKind.FIXED, value=500, max_uses=1)
    code_for(app, vendor_user_of(app, other), "ELSEWHERE", kind=DiscountKind.PERCENT, value=1000)
    with app.app_context():
        from app.commerce.models import DiscountCode

        db.session.get(DiscountCode, full).uses = 1
        db.session.commit()
    add(client, product)

    def apply(code):
        token = csrf_token(client, "/cart")
        return client.post("/cart/code", data={"code": code, "csrf_token": token})

    for code, message in [
        ("NOPE", "We do not know that discount code"),
        ("OLD", "has expired"),
        ("SOON", "not valid yet"),
        ("GONE", "has been used up"),
        ("ELSEWHERE", "not for the products in your cart"),
    ]:
        response = apply(code)
        assert response.status_code == 422 and message in response.get_data(as_text=True), code
    assert apply(" twenty ").status_code == 303
    page = client.get("/cart").get_data(as_text=True)
    assert "TWENTY</strong> applied" in page and "$16.00" in page and "−$4.00" in page
    with app.app_context():
        assert (
            db.session.scalar(select(Cart.discount_code).where(Cart.user_id == buyer.id))
            == "TWENTY"
        )


def test_the_sandbox_walks_the_same_fulfilment(app, client, login_as, make_user):
    buyer = login_as("customer")
    product = create_product(app, make_user, "Sandboxed", price_cents=4200)
    add(client, product)
    response = client.post("/checkout", data={"csrf_token": csrf_token(client, "/cart")})
    assert response.status_code == 303 and response.headers["Location"].startswith(
        "/checkout/sandbox/"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "SANDBOX" in page and "$42.00" in page
    token = csrf_token(client, response.headers["Location"])
    paid = client.post(response.headers["Location"], data={"csrf_token": token, "action": "pay"})
    assert paid.status_code == 303 and "/checkout/success" in paid.headers["Location"]
    assert "payment is confirmed" in client.get(paid.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.status == "paid" and order.provider == "sandbox" and order.invoice_number == 1
        assert db.session.scalar(select(func.count()).select_from(Licence)) == 1
    # Paying again (a second click, a replayed form) changes nothing.
    client.post(response.headers["Location"], data={"csrf_token": token, "action": "pay"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Licence)) == 1
    # The admin refunds it: the sandbox answers at once through the same event path.
    admin = app.test_client()
    login(admin, make_user("admin"))
    refund = admin.post(
        f"/admin/orders/{order.id}/refund",
        data={"csrf_token": csrf_token(admin, "/"), "reason": "Asked", "confirm": "y"},
    )
    assert refund.status_code == 303
    with app.app_context():
        assert db.session.get(Order, order.id).status == "refunded"
        assert db.session.scalar(select(Licence.status)) == "revoked"
    assert_ledger_balanced(app)
    assert buyer.id


def test_a_hundred_percent_code_needs_no_payment(app, client, login_as, make_user):
    login_as("customer")
    product = create_product(app, make_user, "Given away", price_cents=1000)
    code_for(app, vendor_user_of(app, product), "ALLFREE", kind=DiscountKind.PERCENT, value=10_000)
    add(client, product)
    client.post("/cart/code", data={"code": "ALLFREE", "csrf_token": csrf_token(client, "/cart")})
    response = client.post("/checkout", data={"csrf_token": csrf_token(client, "/cart")})
    assert response.status_code == 303 and response.headers["Location"].startswith("/orders/")
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.status == "paid" and order.total_cents == 0 and order.provider == "free"
        from app.commerce.models import DiscountCode

        assert db.session.scalar(select(DiscountCode.uses)) == 1


def test_a_vendor_creates_a_code_and_sees_sales_on_the_dashboard(app, client, make_user):
    product = create_product(app, make_user, "Coded", price_cents=5000)
    vendor_id = vendor_user_of(app, product)
    with app.app_context():
        vendor = db.session.get(User, vendor_id)
        db.session.expunge(vendor)
    login(client, vendor)
    token = csrf_token(client, "/vendor/discounts")
    created = client.post(
        "/vendor/discounts",
        data={
            "csrf_token": token,
            "code": "spring-10",
            "kind": "percent",
            "value": "10",
            "products": [str(product)],
            "max_uses": "5",
        },
    )
    assert created.status_code == 303
    page = client.get("/vendor/discounts").get_data(as_text=True)
    assert "SPRING-10" in page and "10 %" in page and "0 / 5" in page
    taken = client.post(
        "/vendor/discounts",
        data={"csrf_token": token, "code": "SPRING-10", "kind": "fixed", "value": "1"},
    )
    assert taken.status_code == 422 and "taken" in taken.get_data(as_text=True)
    assert "No sales yet" in client.get("/vendor/products").get_data(as_text=True)

    buyer = app.test_client()
    login(buyer, make_user())
    token = csrf_token(buyer, "/cart")
    buyer.post("/cart/items", data={"product_id": product, "csrf_token": token})
    buyer.post("/cart/code", data={"code": "SPRING-10", "csrf_token": token})
    location = buyer.post("/checkout", data={"csrf_token": token}).headers["Location"]
    buyer.post(location, data={"csrf_token": csrf_token(buyer, location), "action": "pay"})
    dashboard = client.get("/vendor/products").get_data(as_text=True)
    # $45.00 paid, 20 % platform commission ($9.00), $36.00 to the store.
    assert "$45.00" in dashboard and "$9.00" in dashboard and "$36.00" in dashboard
