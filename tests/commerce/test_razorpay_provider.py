"""RazorpayProvider with the real razorpay library against the local Razorpay fake: payment
links and subscriptions, retries that find what they made, signatures, the events' meaning,
refunds, cancellations, faults, and the library's base address."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import razorpay

from app.commerce.providers.base import (
    CheckoutItem,
    CheckoutRequest,
    EventKind,
    InvalidWebhook,
    ProviderError,
)
from app.commerce.providers.carts import UnsupportedCart
from app.commerce.providers.razorpay import RazorpayProvider, plan_lookup_key, reference_id
from app.commerce.providers.razorpay_client import make_client
from tests.support.services import free_port


def item(ref="5", amount=150000, interval=None, title="Lead agent", currency="INR", line="l1"):
    return CheckoutItem(line, ref, title, amount, currency, interval)


def request(*items, order="order_1", key=None):
    return CheckoutRequest(
        order_ref=order,
        customer_ref="42",
        customer_email="buyer@example.com",
        items=items,
        success_url="http://localhost/checkout/done",
        cancel_url="http://localhost/cart",
        idempotency_key=key or f"{order}:attempt-1",
    )


def events(provider, deliveries):
    return [provider.parse_webhook(d.payload, d.headers) for d in deliveries]


@pytest.fixture
def provider(razorpay_fake):
    return razorpay_fake.provider()


# -- the library's base address (razorpay_client.py's one private reliance) -----------------


def test_the_library_still_takes_a_base_url():
    client = make_client("rzp_test_x", "secret", "http://127.0.0.1:9/", timeout=1)
    assert client.base_url == "http://127.0.0.1:9"
    assert razorpay.Client(auth=("a", "b")).base_url == "https://api.razorpay.com"
    assert make_client("rzp_test_x", "secret", None, timeout=1).base_url == (
        "https://api.razorpay.com"
    )


def test_requests_reach_the_base_url_with_the_key(razorpay_fake, provider):
    provider.create_checkout(request(item()))
    assert razorpay_fake.calls and all(c.path.startswith("/v1/") for c in razorpay_fake.calls)


# -- checkout -------------------------------------------------------------------------------


def test_one_time_checkout_is_a_payment_link_back_to_our_page(razorpay_fake, provider):
    before = int(time.time())
    session = provider.create_checkout(
        request(item(), item(ref="6", amount=90000, title="Invoice flow", line="l2"))
    )

    link = razorpay_fake.payment_links[session.session_ref]
    assert session.redirect_url == link["short_url"]
    assert (link["amount"], link["currency"], link["accept_partial"]) == (240000, "INR", False)
    assert link["reference_id"] == reference_id("order_1:attempt-1")
    assert len(link["reference_id"]) <= 40
    assert (link["callback_url"], link["callback_method"]) == (
        "http://localhost/checkout/done",
        "get",
    )
    assert link["notes"] == {"order_ref": "order_1", "customer_ref": "42"}
    assert link["customer"] == {"email": "buyer@example.com"}
    assert link["description"] == "Lead agent, Invoice flow"
    assert before + 23 * 3600 < link["expire_by"] <= int(time.time()) + 24 * 3600
    assert razorpay_fake.plans == {} and razorpay_fake.subscriptions == {}


def test_a_retried_checkout_finds_its_link(razorpay_fake, provider):
    first = provider.create_checkout(request(item()))
    again = razorpay_fake.provider().create_checkout(request(item()))  # another process
    assert again == first
    assert len(razorpay_fake.payment_links) == 1
    assert len(razorpay_fake.calls_to("POST", "/v1/payment_links")) == 1


def test_a_twin_request_that_created_the_link_first_is_joined(razorpay_fake, provider):
    first = provider.create_checkout(request(item()))
    # The twin's lookup ran before the first link existed; its create is then refused
    # (reference_id is unique on Razorpay) and it takes the link that won.
    razorpay_fake.answer_next(200, {"payment_links": []})
    assert razorpay_fake.provider().create_checkout(request(item())) == first
    assert len(razorpay_fake.payment_links) == 1


def test_an_expired_checkout_is_not_handed_out_again(razorpay_fake, provider):
    session = provider.create_checkout(request(item()))
    razorpay_fake.expire_link(session.session_ref)
    with pytest.raises(ProviderError, match="expired"):
        provider.create_checkout(request(item()))
    assert provider.create_checkout(request(item(), key="order_1:attempt-2")) != session


def test_subscription_checkout_with_a_plan_and_addons(razorpay_fake, provider):
    session = provider.create_checkout(
        request(
            item(interval="month"), item(ref="6", amount=90000, title="Invoice flow", line="l2")
        )
    )

    subscription = razorpay_fake.subscriptions[session.session_ref]
    assert session.redirect_url == subscription["short_url"]
    (plan,) = razorpay_fake.plans.values()
    assert (plan["period"], plan["interval"]) == ("monthly", 1)
    assert (plan["item"]["amount"], plan["item"]["currency"], plan["item"]["name"]) == (
        150000,
        "INR",
        "Lead agent",
    )
    assert plan["notes"]["lookup_key"] == plan_lookup_key(item(interval="month"))
    assert subscription["plan_id"] == plan["id"]
    assert subscription["total_count"] == 120 and subscription["quantity"] == 1
    assert subscription["notes"] == {
        "order_ref": "order_1",
        "customer_ref": "42",
        "checkout_key": "order_1:attempt-1",
    }
    (call,) = razorpay_fake.calls_to("POST", "/v1/subscriptions")
    assert call.params["addons"] == [
        {"item": {"name": "Invoice flow", "amount": 90000, "currency": "INR"}}
    ]


def test_plans_are_made_once_and_a_new_amount_makes_a_new_plan(razorpay_fake, provider):
    provider.create_checkout(request(item(interval="month")))
    again = provider.create_checkout(request(item(interval="month")))  # the same request
    assert len(razorpay_fake.subscriptions) == 1
    assert razorpay_fake.subscriptions[again.session_ref]

    razorpay_fake.calls.clear()
    fresh = razorpay_fake.provider()  # no cache: finds the plan by its lookup key
    fresh.create_checkout(request(item(interval="month"), order="order_2"))
    assert [c.path for c in razorpay_fake.writes()] == ["/v1/subscriptions"]

    razorpay_fake.calls.clear()
    fresh.create_checkout(request(item(interval="month"), order="order_3"))
    # Cached now: no plan listing either.
    assert razorpay_fake.calls_to("GET", "/v1/plans") == []

    fresh.create_checkout(request(item(interval="month", amount=190000), order="order_4"))
    fresh.create_checkout(request(item(interval="year", amount=1500000), order="order_5"))
    plans = sorted((p["period"], p["item"]["amount"]) for p in razorpay_fake.plans.values())
    assert plans == [("monthly", 150000), ("monthly", 190000), ("yearly", 1500000)]
    yearly = [s for s in razorpay_fake.subscriptions.values() if s["total_count"] == 10]
    assert len(yearly) == 1


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((), "nothing to pay"),
        ((item(interval="month"), item(ref="6", interval="month")), "one subscription"),
        ((item(interval="month"), item(ref="6", interval="year")), "billed separately"),
        ((item(), item(ref="6", currency="USD")), "one currency"),
    ],
)
def test_carts_razorpay_cannot_take_are_refused_before_any_call(
    razorpay_fake, provider, items, message
):
    with pytest.raises(UnsupportedCart, match=message):
        provider.create_checkout(request(*items))
    assert razorpay_fake.calls == []


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 400, 401])
def test_razorpay_errors_become_provider_errors(razorpay_fake, provider, status):
    razorpay_fake.fail_next(status)
    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(request(item()))
    assert type(failed.value) is ProviderError and failed.value.status == 502


def test_a_proxy_error_page_is_a_provider_error(razorpay_fake, provider):
    razorpay_fake.answer_next(502, "<html>Bad gateway</html>")
    with pytest.raises(ProviderError):
        provider.create_checkout(request(item()))


def test_a_razorpay_that_does_not_answer_in_time_is_a_provider_error(razorpay_fake):
    provider = razorpay_fake.provider(timeout=0.3)
    razorpay_fake.hang_next(1.5)
    started = time.monotonic()
    with pytest.raises(ProviderError):
        provider.create_checkout(request(item()))
    assert time.monotonic() - started < 1.4


def test_a_razorpay_that_refuses_connections_is_a_provider_error():
    provider = RazorpayProvider(
        "rzp_test_x", "s", "w", api_base=f"http://127.0.0.1:{free_port()}", timeout=1
    )
    with pytest.raises(ProviderError):
        provider.create_checkout(request(item()))
    with pytest.raises(ProviderError):
        provider.refund("pay_x", 100, "INR", "refund-1")
    with pytest.raises(ProviderError):
        provider.cancel_subscription("sub_x", "cancel-1")


# -- signatures -----------------------------------------------------------------------------


def test_a_delivery_signed_by_razorpay_verifies(razorpay_fake, provider):
    session = provider.create_checkout(request(item()))
    delivery = razorpay_fake.pay_link(session.session_ref)[-1]
    event = provider.parse_webhook(delivery.payload, delivery.headers)
    assert event.event_ref == delivery.headers["X-Razorpay-Event-Id"]
    assert event.provider == "razorpay" and event.created.tzinfo is UTC
    lowered = {k.lower(): v for k, v in delivery.headers.items()}
    assert provider.parse_webhook(delivery.payload, lowered).event_ref == event.event_ref


def test_bad_signatures_are_refused(razorpay_fake, provider):
    payload = json.dumps(
        {"entity": "event", "event": "order.paid", "payload": {}, "created_at": 1}
    ).encode()
    headers = razorpay_fake.sign(payload, event_id="evt_1")
    assert provider.parse_webhook(payload, headers).kind is EventKind.IGNORED
    # The rule, by hand: the HMAC-SHA256 hex of the raw body with the webhook secret.
    assert (
        headers["X-Razorpay-Signature"]
        == hmac.new(razorpay_fake.WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
    )

    with pytest.raises(InvalidWebhook, match="does not verify"):
        provider.parse_webhook(payload, razorpay_fake.sign(payload, secret="someone else"))
    with pytest.raises(InvalidWebhook, match="does not verify"):
        provider.parse_webhook(payload.replace(b"order.paid", b"payment.captured"), headers)
    with pytest.raises(InvalidWebhook, match="no X-Razorpay-Signature"):
        provider.parse_webhook(payload, {"X-Razorpay-Event-Id": "evt_1"})
    with pytest.raises(InvalidWebhook, match="Event-Id"):
        no_id = {k: v for k, v in headers.items() if k != "X-Razorpay-Event-Id"}
        provider.parse_webhook(payload, no_id)
    for body in (b"not json", b"[]", b'{"event": "x"}'):
        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(body, razorpay_fake.sign(body))


# -- what events mean -----------------------------------------------------------------------


def test_a_paid_link_is_fulfilled_once(razorpay_fake, provider):
    session = provider.create_checkout(request(item(), item(ref="6", amount=90000, line="l2")))
    seen = events(provider, razorpay_fake.pay_link(session.session_ref))

    assert [(e.raw_type, e.kind) for e in seen] == [
        ("payment.authorized", EventKind.IGNORED),
        ("payment.captured", EventKind.IGNORED),
        ("order.paid", EventKind.IGNORED),
        ("payment_link.paid", EventKind.PAYMENT_SUCCEEDED),
    ]
    paid = seen[-1]
    payment = razorpay_fake.payments[paid.payment_ref]
    assert (paid.order_ref, paid.session_ref, paid.amount, paid.currency) == (
        "order_1",
        session.session_ref,
        240000,
        "INR",
    )
    assert paid.fee == payment["fee"] == 4800


def test_a_failed_attempt_leaves_the_link_open_and_expiry_fails_the_order(razorpay_fake, provider):
    session = provider.create_checkout(request(item()))
    (attempt,) = events(provider, razorpay_fake.fail_link_payment(session.session_ref))
    assert attempt.kind is EventKind.IGNORED
    (expired,) = events(provider, razorpay_fake.expire_link(session.session_ref))
    assert expired.kind is EventKind.PAYMENT_FAILED
    assert (expired.order_ref, expired.session_ref) == ("order_1", session.session_ref)


def test_a_subscription_start_is_fulfilled_once(razorpay_fake, provider):
    session = provider.create_checkout(
        request(item(interval="month"), item(ref="6", amount=90000, line="l2"))
    )
    seen = events(provider, razorpay_fake.authorize_subscription(session.session_ref))

    assert [(e.raw_type, e.kind) for e in seen] == [
        ("subscription.authenticated", EventKind.IGNORED),
        ("payment.authorized", EventKind.IGNORED),
        ("payment.captured", EventKind.IGNORED),
        ("subscription.activated", EventKind.SUBSCRIPTION_UPDATED),
        ("subscription.charged", EventKind.PAYMENT_SUCCEEDED),
    ]
    first = seen[-1]
    subscription = razorpay_fake.subscriptions[session.session_ref]
    assert (first.order_ref, first.session_ref, first.subscription_ref) == (
        "order_1",
        session.session_ref,
        session.session_ref,
    )
    assert first.amount == 240000  # the plan and the addon
    assert first.period_end == datetime.fromtimestamp(subscription["current_end"], UTC)
    assert first.payment_ref in razorpay_fake.payments and first.fee == 4800


def test_renewals_failures_and_the_end(razorpay_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    razorpay_fake.authorize_subscription(session.session_ref)

    renewed = events(provider, razorpay_fake.renew(session.session_ref))
    assert [e.kind for e in renewed] == [EventKind.IGNORED, EventKind.RENEWAL_PAID]
    assert renewed[-1].amount == 150000 and renewed[-1].order_ref == "order_1"
    end = razorpay_fake.subscriptions[session.session_ref]["current_end"]
    assert renewed[-1].period_end == datetime.fromtimestamp(end, UTC)

    failed = events(provider, razorpay_fake.renew(session.session_ref, paid=False))
    assert [e.kind for e in failed] == [EventKind.IGNORED, EventKind.RENEWAL_FAILED]
    assert failed[-1].subscription_status == "pending"

    (halted,) = events(provider, razorpay_fake.halt(session.session_ref))
    assert halted.kind is EventKind.SUBSCRIPTION_CANCELLED
    assert halted.subscription_status == "halted"

    other = provider.create_checkout(request(item(interval="month"), order="order_2"))
    razorpay_fake.authorize_subscription(other.session_ref)
    (cancelled,) = events(provider, razorpay_fake.cancel(other.session_ref))
    assert cancelled.kind is EventKind.SUBSCRIPTION_CANCELLED
    assert (cancelled.order_ref, cancelled.subscription_status) == ("order_2", "cancelled")


def test_refund_events_carry_this_refunds_amount(razorpay_fake, provider):
    session = provider.create_checkout(request(item(amount=100000)))
    (*_, paid) = events(provider, razorpay_fake.pay_link(session.session_ref))

    for amount in (30000, 70000):
        seen = events(provider, razorpay_fake.refund(paid.payment_ref, amount))
        assert [e.kind for e in seen] == [EventKind.IGNORED, EventKind.REFUNDED]  # created
        refunded = seen[-1]
        assert (refunded.amount, refunded.currency, refunded.payment_ref) == (
            amount,
            "INR",
            paid.payment_ref,
        )
        assert refunded.refund_ref in razorpay_fake.refunds


def test_malformed_refund_events_are_refused(razorpay_fake, provider):
    delivery = razorpay_fake.event("refund.processed", refund={"id": "rfnd_1"})
    with pytest.raises(InvalidWebhook, match="refund"):
        provider.parse_webhook(delivery.payload, delivery.headers)


def test_other_events_are_ignored(razorpay_fake, provider):
    for name in ("invoice.paid", "settlement.processed", "payment.dispute.created"):
        delivery = razorpay_fake.event(name, payment={"id": "pay_1", "notes": []})
        event = provider.parse_webhook(delivery.payload, delivery.headers)
        assert (event.kind, event.raw_type) == (EventKind.IGNORED, name)


# -- refunds and cancellations --------------------------------------------------------------


def test_refunds_made_once_per_key(razorpay_fake, provider):
    session = provider.create_checkout(request(item(amount=100000)))
    razorpay_fake.pay_link(session.session_ref)
    payment_ref = next(iter(razorpay_fake.payments))

    refund_ref = provider.refund(payment_ref, 40000, "INR", "refund-77")
    assert provider.refund(payment_ref, 40000, "INR", "refund-77") == refund_ref
    assert list(razorpay_fake.refunds) == [refund_ref]
    (call,) = razorpay_fake.calls_to("POST", f"/v1/payments/{payment_ref}/refund")
    assert call.params == {"amount": 40000, "speed": "normal", "notes": {"refund_key": "refund-77"}}
    other = provider.refund(payment_ref, 10000, "INR", "refund-78")
    assert other != refund_ref and len(razorpay_fake.refunds) == 2

    with pytest.raises(ProviderError):  # more than is left
        provider.refund(payment_ref, 60000, "INR", "refund-79")
    with pytest.raises(ValueError):
        provider.refund(payment_ref, 0, "INR", "refund-80")


def test_cancel_subscription(razorpay_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    razorpay_fake.authorize_subscription(session.session_ref)

    provider.cancel_subscription(session.session_ref, "cancel-1")
    assert razorpay_fake.subscriptions[session.session_ref]["status"] == "cancelled"
    (call,) = razorpay_fake.calls_to("POST", "/v1/subscriptions/")
    assert call.params == {"cancel_at_cycle_end": 0}
    assert razorpay_fake.deliveries[-1].type == "subscription.cancelled"

    provider.cancel_subscription(session.session_ref, "cancel-2")  # already ended: fine
    with pytest.raises(ProviderError):
        provider.cancel_subscription("sub_unknown", "cancel-3")


def test_links_expire_after_the_lifetime_given(razorpay_fake):
    provider = razorpay_fake.provider(link_lifetime=timedelta(hours=1))
    session = provider.create_checkout(request(item()))
    expire_by = razorpay_fake.payment_links[session.session_ref]["expire_by"]
    assert abs(expire_by - (time.time() + 3600)) < 60
