"""Races: buyers paying at once for the last use of a code (run on PostgreSQL too)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.accounts.models import User
from app.commerce import services
from app.commerce.models import DiscountCode, DiscountKind, DiscountRedemption, Order
from app.extensions import db
from app.licensing.models import Licence
from tests.catalog.factories import create_product
from tests.commerce.conftest import assert_ledger_balanced
from tests.conftest import csrf_token, login


def test_two_buyers_racing_for_the_last_use_of_a_code(shop, make_user, stripe_fake, run_shop_jobs):
    product = create_product(shop, make_user, "Popular", price_cents=2000)
    with shop.app_context():
        from app.catalog.models import Product

        vendor = db.session.get(User, db.session.get(Product, product).vendor.user_id)
        services.create_discount_code(vendor, "LAST", DiscountKind.PERCENT, 5000, max_uses=1)
        db.session.commit()
    deliveries = []
    for _ in range(4):
        client = shop.test_client()
        login(client, make_user())
        token = csrf_token(client, "/cart")
        client.post("/cart/items", data={"product_id": product, "csrf_token": token})
        assert (
            client.post("/cart/code", data={"code": "LAST", "csrf_token": token}).status_code == 303
        )
        assert client.post("/checkout", data={"csrf_token": token}).status_code == 303
        with shop.app_context():
            order = db.session.scalar(select(Order).order_by(Order.id.desc()))
            assert order.total_cents == 1000  # everyone saw the code as still available
            session_ref = order.provider_session_ref
        deliveries.append(stripe_fake.complete_session(session_ref)[-1])

    barrier = threading.Barrier(len(deliveries))
    answers = []

    def deliver(delivery):
        client = shop.test_client()
        barrier.wait()
        response = client.post("/webhooks/stripe", data=delivery.payload, headers=delivery.headers)
        answers.append(response.status_code)

    threads = [threading.Thread(target=deliver, args=(d,)) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4
    with shop.app_context():
        assert db.session.scalar(select(DiscountCode.uses)) == 1
        assert db.session.scalar(select(func.count()).select_from(DiscountRedemption)) == 1
        statuses = sorted(db.session.scalars(select(Order.status)))
        assert statuses == ["failed", "failed", "failed", "paid"]
        assert db.session.scalar(select(func.count()).select_from(Licence)) == 1
        reasons = set(
            db.session.scalars(select(Order.status_reason).where(Order.status == "failed"))
        )
        assert reasons == {"discount code: the code's last use went to another order"}
    assert_ledger_balanced(shop)
    # The losers' money goes back in full, through the provider, from a job.
    run_shop_jobs()
    assert sorted(r["amount"] for r in stripe_fake.refunds.values()) == [1000, 1000, 1000]


def test_a_code_is_used_once_per_customer(app, client, login_as, make_user):
    buyer = login_as("customer")
    first = create_product(app, make_user, "One", price_cents=1000)
    with app.app_context():
        from app.catalog.models import Product

        vendor_id = db.session.get(Product, first).vendor_id
        vendor_user = db.session.get(Product, first).vendor.user_id
    second = create_product(app, make_user, "Two", price_cents=1000)
    with app.app_context():
        from app.catalog.models import Product

        db.session.get(Product, second).vendor_id = vendor_id
        db.session.commit()
        services.create_discount_code(
            db.session.get(User, vendor_user), "ONCE", DiscountKind.FIXED, 300
        )
        db.session.commit()
    for product in (first,):
        token = csrf_token(client, "/cart")
        client.post("/cart/items", data={"product_id": product, "csrf_token": token})
        client.post("/cart/code", data={"code": "ONCE", "csrf_token": token})
        checkout = client.post("/checkout", data={"csrf_token": token})
        location = checkout.headers["Location"]
        client.post(location, data={"csrf_token": csrf_token(client, location), "action": "pay"})
    token = csrf_token(client, "/cart")
    client.post("/cart/items", data={"product_id": second, "csrf_token": token})
    again = client.post("/cart/code", data={"code": "ONCE", "csrf_token": token})
    assert again.status_code == 422 and "already used" in again.get_data(as_text=True)
    assert buyer.id
