"""Who hears about money moving: each vendor of a paid order (sale_made), the buyer and the
vendors of a refund (refund), the subscriber of a failed renewal (renewal_failed), through the
real webhooks (Stripe and Razorpay fakes), the outbox and a real worker; once per event."""

from __future__ import annotations

from sqlalchemy import select

from app.commerce.models import Order
from app.extensions import db
from app.notifications.models import EmailState
from tests.catalog.factories import create_product
from tests.commerce.test_razorpay_checkout import _buy
from tests.commerce.test_razorpay_checkout import post_all as rzp_post_all
from tests.commerce.test_stripe_checkout import add, checkout, latest_order, post, post_all
from tests.notifications.factories import choose, notices, subject_of
from tests.support.services import body_text


def _vendor_user_id(shop, product_id: int) -> int:
    from app.catalog.models import Product

    with shop.app_context():
        return db.session.get(Product, product_id).vendor.user_id


def _email_of(shop, user_id: int) -> str:
    from app.accounts.models import User

    with shop.app_context():
        return db.session.get(User, user_id).email


def _two_vendor_order(shop, shop_client, shop_login, make_user, stripe_fake):
    """A buyer pays one order of two products from two stores ($10 and $30)."""
    buyer = shop_login()
    first = create_product(shop, make_user, "First", price_cents=1000)
    second = create_product(shop, make_user, "Second", price_cents=3000)
    add(shop_client, first)
    add(shop_client, second)
    checkout(shop_client)
    order = latest_order(shop)
    deliveries = stripe_fake.complete_session(order.provider_session_ref)
    post_all(shop_client, deliveries)
    return buyer, first, second, latest_order(shop), deliveries


def test_each_vendor_of_a_paid_order_hears_of_its_sale_once(
    shop, shop_client, shop_login, make_user, stripe_fake, run_shop_jobs, mailbox
):
    buyer, first, second, order, deliveries = _two_vendor_order(
        shop, shop_client, shop_login, make_user, stripe_fake
    )
    first_vendor, second_vendor = _vendor_user_id(shop, first), _vendor_user_id(shop, second)
    choose(shop, second_vendor, "sale_made", email=False)
    run_shop_jobs()
    [sale] = notices(shop, first_vendor)
    assert sale.kind == "sale_made" and sale.title == "You sold “First” for $10.00"
    assert sale.link == "/vendor/analytics" and sale.email_state == EmailState.SENT
    [mail] = mailbox.to(_email_of(shop, first_vendor))
    assert subject_of(mail) == "You sold “First” for $10.00"
    assert "First: $10.00" in body_text(mail) and mail["List-Unsubscribe"]
    # The second store switched sale emails off: the notice, and no email.
    [quiet] = notices(shop, second_vendor)
    assert quiet.title == "You sold “Second” for $30.00"
    assert quiet.email_state == EmailState.NONE
    assert mailbox.to(_email_of(shop, second_vendor)) == []
    assert notices(shop, buyer.id) == []  # the buyer has the receipt, not a sale notice

    # The provider delivers the payment again: no second sale, no second notice.
    assert set(post_all(shop_client, deliveries)) == {"duplicate"}
    run_shop_jobs()
    assert len(notices(shop, first_vendor)) == 1 and len(notices(shop, second_vendor)) == 1
    assert len(mailbox.to(_email_of(shop, first_vendor))) == 1


def test_a_free_product_tells_its_vendor_of_the_new_owner(
    app, client, login_as, make_user, run_jobs
):
    from tests.conftest import csrf_token

    login_as("customer")
    product_id = create_product(app, make_user, "Freebie", price_type="free", price_cents=0)
    token = csrf_token(client, "/cart")
    response = client.post(f"/products/{product_id}/get", data={"csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    run_jobs()
    [notice] = notices(app, _vendor_user_id(app, product_id), "sale_made")
    assert notice.title == "A buyer got “Freebie” for free"


def test_a_refund_tells_the_buyer_and_the_vendors_whose_lines_it_took(
    shop, shop_client, shop_login, make_user, stripe_fake, run_shop_jobs, mailbox
):
    buyer, first, second, order, _ = _two_vendor_order(
        shop, shop_client, shop_login, make_user, stripe_fake
    )
    first_vendor, second_vendor = _vendor_user_id(shop, first), _vendor_user_id(shop, second)
    choose(shop, first_vendor, "refund", email=False)
    run_shop_jobs()
    mailbox.clear()

    # $5 back from the dashboard: it comes off the first line only, whose licence stays.
    deliveries = stripe_fake.refund(order.provider_payment_ref, amount=500)
    post_all(shop_client, deliveries)
    run_shop_jobs()
    [refund] = notices(shop, buyer.id, "refund")
    assert refund.title == f"Refund of $5.00 for order {order.number}"
    assert refund.body == "Your licence stays valid."
    assert refund.link == f"/orders/{order.id}"
    [mail] = mailbox.to(buyer.email)
    assert subject_of(mail) == refund.title
    [vendor_refund] = notices(shop, first_vendor, "refund")
    assert vendor_refund.title == "Refund of $5.00 on “First”"
    assert vendor_refund.email_state == EmailState.NONE  # refund emails switched off
    assert mailbox.to(_email_of(shop, first_vendor)) == []
    assert notices(shop, second_vendor, "refund") == []

    # A replay changes nothing; the rest of the order back: both stores and the buyer hear.
    assert set(post_all(shop_client, deliveries)) == {"duplicate"}
    post_all(shop_client, stripe_fake.refund(order.provider_payment_ref))
    run_shop_jobs()
    titles = [n.title for n in notices(shop, buyer.id, "refund")]
    assert titles == [refund.title, f"Refund of $35.00 for order {order.number}"]
    assert notices(shop, buyer.id, "refund")[1].body == (
        "The licences for “First”, “Second” are revoked."
    )
    assert [n.title for n in notices(shop, first_vendor, "refund")] == [
        "Refund of $5.00 on “First”",
        "Refund of $5.00 on “First”",
    ]
    assert [n.title for n in notices(shop, second_vendor, "refund")] == [
        "Refund of $30.00 on “Second”"
    ]


def _subscribed(shop, shop_client, shop_login, make_user, stripe_fake):
    buyer = shop_login()
    product_id = create_product(
        shop, make_user, "Monthly agent", price_type="subscription", monthly_price_cents=900
    )
    add(shop_client, product_id, "month")
    checkout(shop_client)
    order = latest_order(shop)
    post_all(shop_client, stripe_fake.complete_session(order.provider_session_ref))
    return buyer, order, stripe_fake.sessions[order.provider_session_ref]["subscription"]


def test_a_failed_renewal_tells_the_subscriber_once_per_lapse(
    shop, shop_client, shop_login, make_user, stripe_fake, run_shop_jobs, mailbox
):
    buyer, order, sub_ref = _subscribed(shop, shop_client, shop_login, make_user, stripe_fake)
    run_shop_jobs()
    failed = stripe_fake.renew(sub_ref, paid=False)
    post_all(shop_client, failed)
    run_shop_jobs()
    [notice] = notices(shop, buyer.id, "renewal_failed")
    assert notice.title == "Your subscription to “Monthly agent” could not be renewed"
    assert "Your licence runs until" in notice.body and notice.link == f"/orders/{order.id}"
    [mail] = [m for m in mailbox.to(buyer.email) if subject_of(m) == notice.title]
    assert "could not be renewed" in subject_of(mail)

    # The same event again, and the provider's next retry while still past due: no more.
    post(shop_client, failed[-1])
    post_all(shop_client, stripe_fake.renew(sub_ref, paid=False))
    run_shop_jobs()
    assert len(notices(shop, buyer.id, "renewal_failed")) == 1
    # Paid again, then a later renewal fails: that is news, once, whichever of the failed
    # charge and the subscription's update the provider delivers first.
    post_all(shop_client, stripe_fake.renew(sub_ref))
    post_all(shop_client, list(reversed(stripe_fake.renew(sub_ref, paid=False))))
    run_shop_jobs()
    assert len(notices(shop, buyer.id, "renewal_failed")) == 2


def test_a_failed_razorpay_renewal_tells_the_subscriber(
    rzp_shop, make_user, razorpay_fake, mailbox
):
    from tests.commerce.conftest import worker_for

    # Another amount than test_razorpay_checkout's: the provider caches plans by product and
    # amount for the app's life, and product ids start again in every test.
    client, buyer, order, _ = _buy(
        rzp_shop,
        make_user,
        title="Monthly rupees",
        currency="INR",
        price_type="subscription",
        monthly_price_cents=19900,
    )
    sub_ref = order.provider_session_ref
    rzp_post_all(client, razorpay_fake.authorize_subscription(sub_ref))
    choose(rzp_shop, buyer.id, "renewal_failed", email=False)
    rzp_post_all(client, razorpay_fake.renew(sub_ref, paid=False))
    worker_for(rzp_shop)()
    [notice] = notices(rzp_shop, buyer.id, "renewal_failed")
    assert notice.title == "Your subscription to “Monthly rupees” could not be renewed"
    assert notice.email_state == EmailState.NONE  # switched off: in the app only
    assert not [m for m in mailbox.to(buyer.email) if "renewed" in subject_of(m)]
    with rzp_shop.app_context():
        assert db.session.scalar(select(Order.status).where(Order.id == order.id)) == "paid"


def test_a_paid_renewal_tells_the_vendor_once(
    shop, shop_client, shop_login, make_user, stripe_fake, run_shop_jobs
):
    buyer, order, sub_ref = _subscribed(shop, shop_client, shop_login, make_user, stripe_fake)
    vendor_user_id = _vendor_user_id(shop, order.lines[0].product_id)
    run_shop_jobs()
    assert len(notices(shop, vendor_user_id, "sale_made")) == 1  # the first month
    renewal = stripe_fake.renew(sub_ref)
    post_all(shop_client, renewal)
    post_all(shop_client, renewal)  # delivered twice: still one sale
    run_shop_jobs()
    sales = notices(shop, vendor_user_id, "sale_made")
    assert len(sales) == 2
    assert sales[-1].title == "A subscription to “Monthly agent” renewed for $9.00"
    assert sales[-1].link == "/vendor/analytics"
