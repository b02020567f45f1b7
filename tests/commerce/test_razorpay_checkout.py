"""Buying through Razorpay: Payment Links and Subscriptions with the real razorpay library
against the local fake, webhooks signed as Razorpay signs them."""

from __future__ import annotations

from sqlalchemy import select

from app.commerce.models import Order, Subscription
from app.extensions import db
from app.licensing.models import Licence
from tests.catalog.factories import create_product
from tests.commerce.conftest import assert_ledger_balanced
from tests.conftest import csrf_token, login


def _buy(rzp_shop, make_user, **product):
    client = rzp_shop.test_client()
    buyer = make_user()
    login(client, buyer)
    product_id = create_product(rzp_shop, make_user, product.pop("title", "Rupee thing"), **product)
    token = csrf_token(client, "/cart")
    data = {"product_id": product_id, "csrf_token": token}
    if product.get("price_type") == "subscription":
        data["interval"] = "month"
    client.post("/cart/items", data=data)
    response = client.post("/checkout", data={"csrf_token": token})
    assert response.status_code == 303
    with rzp_shop.app_context():
        order = db.session.scalar(select(Order).order_by(Order.id.desc()))
        db.session.expunge(order)
    return client, buyer, order, response


def post_all(client, deliveries):
    outcomes = []
    for delivery in deliveries:
        response = client.post(
            "/webhooks/razorpay", data=delivery.payload, headers=delivery.headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        outcomes.append(response.json["outcome"])
    return outcomes


def test_a_payment_link_is_paid_refunded_and_replayed(rzp_shop, make_user, razorpay_fake):
    client, buyer, order, response = _buy(rzp_shop, make_user, currency="INR", price_cents=49900)
    link = razorpay_fake.payment_links[order.provider_session_ref]
    assert response.headers["Location"] == link["short_url"]
    deliveries = razorpay_fake.pay_link(link["id"])
    assert "processed" in post_all(client, deliveries)
    assert set(post_all(client, deliveries)) == {"duplicate"}
    with rzp_shop.app_context():
        paid = db.session.get(Order, order.id)
        assert paid.status == "paid" and paid.currency == "INR" and paid.provider == "razorpay"
        payment_ref = paid.provider_payment_ref
        assert db.session.scalar(select(Licence.status)) == "active"
    assert_ledger_balanced(rzp_shop)

    post_all(client, razorpay_fake.refund(payment_ref, amount=9900))
    with rzp_shop.app_context():
        assert db.session.get(Order, order.id).status == "partially_refunded"
    post_all(client, razorpay_fake.refund(payment_ref))
    with rzp_shop.app_context():
        assert db.session.get(Order, order.id).status == "refunded"
        assert db.session.scalar(select(Licence.status)) == "revoked"
    assert_ledger_balanced(rzp_shop)
    # The first payment's deliveries replayed after the refund: nothing comes back to life.
    assert set(post_all(client, deliveries)) == {"duplicate"}
    with rzp_shop.app_context():
        assert db.session.scalar(select(Licence.status)) == "revoked"


def test_a_razorpay_subscription_starts_renews_and_ends(rzp_shop, make_user, razorpay_fake):
    client, buyer, order, _ = _buy(
        rzp_shop,
        make_user,
        title="Monthly rupees",
        currency="INR",
        price_type="subscription",
        monthly_price_cents=29900,
    )
    sub_ref = order.provider_session_ref
    post_all(client, razorpay_fake.authorize_subscription(sub_ref))
    with rzp_shop.app_context():
        assert db.session.get(Order, order.id).status == "paid"
        licence = db.session.scalar(select(Licence))
        first_end = licence.expires_at
        assert licence.kind == "subscription" and licence.is_valid()
    post_all(client, razorpay_fake.renew(sub_ref))
    with rzp_shop.app_context():
        assert db.session.scalar(select(Licence)).expires_at > first_end
    post_all(client, razorpay_fake.cancel(sub_ref))
    with rzp_shop.app_context():
        assert db.session.scalar(select(Subscription.status)) == "canceled"
    assert_ledger_balanced(rzp_shop)
