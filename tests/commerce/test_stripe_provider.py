"""StripeProvider with the real stripe library against the local Stripe fake: checkouts, prices
kept in sync, idempotency keys, signatures, the events' meaning, refunds, cancellations, faults."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import stripe

from app.commerce.providers.base import (
    CheckoutItem,
    CheckoutRequest,
    EventKind,
    InvalidWebhook,
    ProviderError,
)
from app.commerce.providers.carts import UnsupportedCart
from app.commerce.providers.stripe import StripeProvider, price_lookup_key
from tests.support.services import free_port


def item(ref="5", amount=1500, interval=None, title="Lead agent", currency="USD", line="line_1"):
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
def provider(stripe_fake):
    return stripe_fake.provider()


# -- checkout -------------------------------------------------------------------------------


def test_one_time_checkout_is_a_payment_session_naming_the_order(stripe_fake, provider):
    session = provider.create_checkout(
        request(item(), item(ref="6", amount=900, title="Invoice flow", line="line_2"))
    )

    stored = stripe_fake.sessions[session.session_ref]
    assert session.redirect_url == stored["url"]
    assert stored["mode"] == "payment"
    assert stored["amount_total"] == 2400 and stored["currency"] == "usd"
    assert stored["client_reference_id"] == "order_1"
    assert stored["metadata"] == {"order_ref": "order_1", "customer_ref": "42"}
    assert stored["customer_email"] == "buyer@example.com"
    assert stored["success_url"] == "http://localhost/checkout/done"
    (call,) = stripe_fake.calls_to("POST", "/v1/checkout/sessions")
    assert call.params["payment_intent_data"] == {
        "metadata": {"order_ref": "order_1", "customer_ref": "42"}
    }
    assert "subscription_data" not in call.params
    assert call.params["line_items"][1]["price_data"]["product_data"]["name"] == "Invoice flow"
    # One-time lines are inline prices: nothing to keep in sync on Stripe.
    assert stripe_fake.products == {} and stripe_fake.prices == {}


def test_subscription_checkout_creates_product_and_price_once(stripe_fake, provider):
    first = provider.create_checkout(request(item(interval="month")))

    stored = stripe_fake.sessions[first.session_ref]
    assert stored["mode"] == "subscription"
    (product,) = stripe_fake.products.values()
    assert product["id"] == "autopilot_product_5" and product["name"] == "Lead agent"
    (price,) = stripe_fake.prices.values()
    assert price["lookup_key"] == price_lookup_key(item(interval="month"))
    assert (price["unit_amount"], price["currency"], price["recurring"]["interval"]) == (
        1500,
        "usd",
        "month",
    )
    (call,) = stripe_fake.calls_to("POST", "/v1/checkout/sessions")
    assert call.params["line_items"] == [{"price": price["id"], "quantity": "1"}]
    assert call.params["subscription_data"] == {
        "metadata": {"order_ref": "order_1", "customer_ref": "42"}
    }

    # Another order for the same plan, from another process (a provider of its own).
    stripe_fake.calls.clear()
    stripe_fake.provider().create_checkout(request(item(interval="month"), order="order_2"))
    writes = [call.path for call in stripe_fake.writes()]
    assert writes == ["/v1/checkout/sessions"]
    assert len(stripe_fake.prices) == 1 and len(stripe_fake.products) == 1


def test_a_price_change_makes_a_new_price_and_archives_the_old(stripe_fake, provider):
    provider.create_checkout(request(item(interval="month", amount=1500), order="order_1"))
    provider.create_checkout(request(item(interval="year", amount=15000), order="order_2"))
    provider.create_checkout(request(item(interval="month", amount=1900), order="order_3"))

    by_key = {p["lookup_key"]: p for p in stripe_fake.prices.values()}
    old = by_key[price_lookup_key(item(interval="month", amount=1500))]
    new = by_key[price_lookup_key(item(interval="month", amount=1900))]
    yearly = by_key[price_lookup_key(item(interval="year", amount=15000))]
    assert not old["active"] and new["active"]
    assert yearly["active"]  # another interval: left alone
    last = stripe_fake.calls_to("POST", "/v1/checkout/sessions")[-1]
    assert last.params["line_items"][0]["price"] == new["id"]

    # Back to the old amount: its price comes back, nothing new is made.
    provider.create_checkout(request(item(interval="month", amount=1500), order="order_4"))
    assert len(stripe_fake.prices) == 3
    assert old["active"] and not new["active"]


def test_a_renamed_product_is_renamed_on_stripe(stripe_fake, provider):
    provider.create_checkout(request(item(interval="month")))
    provider.create_checkout(request(item(interval="month", title="Lead agent 2"), order="o2"))
    assert stripe_fake.products["autopilot_product_5"]["name"] == "Lead agent 2"


def test_a_mixed_cart_is_one_subscription_session_with_one_time_lines(stripe_fake, provider):
    session = provider.create_checkout(
        request(
            item(interval="month", amount=1500),
            item(ref="6", amount=900, title="Invoice flow", line="line_2"),
        )
    )
    stored = stripe_fake.sessions[session.session_ref]
    assert stored["mode"] == "subscription" and stored["amount_total"] == 2400
    (call,) = stripe_fake.calls_to("POST", "/v1/checkout/sessions")
    assert "price" in call.params["line_items"][0]
    assert call.params["line_items"][1]["price_data"]["unit_amount"] == "900"
    # The first invoice charges both; the subscription renews the recurring price only.
    first = events(provider, stripe_fake.complete_session(session.session_ref))
    (paid,) = [e for e in first if e.kind is EventKind.PAYMENT_SUCCEEDED]
    assert paid.amount == 2400
    renewal = events(provider, stripe_fake.renew(paid.subscription_ref))
    assert [e.amount for e in renewal if e.kind is EventKind.RENEWAL_PAID] == [1500]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((), "nothing to pay"),
        ((item(interval="month"), item(ref="6", interval="year")), "billed separately"),
        ((item(), item(ref="6", currency="EUR")), "one currency"),
    ],
)
def test_carts_stripe_cannot_take_are_refused_before_any_call(
    stripe_fake, provider, items, message
):
    with pytest.raises(UnsupportedCart, match=message) as refused:
        provider.create_checkout(request(*items))
    assert refused.value.status == 422
    assert stripe_fake.calls == []


# -- idempotency ----------------------------------------------------------------------------


def test_every_write_carries_a_deterministic_idempotency_key(stripe_fake, provider):
    cart = request(item(interval="month"), item(ref="6", amount=900, line="line_2"))
    first = provider.create_checkout(cart)
    keys = [(call.path, call.idempotency_key) for call in stripe_fake.writes()]
    assert keys == [
        ("/v1/products", "product:autopilot_product_5"),
        ("/v1/prices", "price:" + price_lookup_key(item(interval="month"))),
        ("/v1/checkout/sessions", "order_1:attempt-1:session"),
    ]

    # The same request again, from another process: the same keys, the same session.
    stripe_fake.calls.clear()
    again = stripe_fake.provider().create_checkout(cart)
    assert again == first
    assert len(stripe_fake.sessions) == 1
    assert [c.idempotency_key for c in stripe_fake.writes()] == ["order_1:attempt-1:session"]

    # Updates are keyed by the request and the object: a price change archives the old price.
    stripe_fake.calls.clear()
    provider.create_checkout(request(item(interval="month", amount=1900), order="order_2"))
    (old_price,) = [p["id"] for p in stripe_fake.prices.values() if p["unit_amount"] == 1500]
    assert [c.idempotency_key for c in stripe_fake.writes()] == [
        "price:" + price_lookup_key(item(interval="month", amount=1900)),
        f"order_2:attempt-1:price-archive:{old_price}",
        "order_2:attempt-1:session",
    ]
    assert all(call.idempotency_key for call in stripe_fake.writes())


def test_a_failed_call_is_retried_with_the_same_key_and_creates_one_session(stripe_fake):
    provider = stripe_fake.provider(max_network_retries=1)
    stripe_fake.fail_next(500)
    session = provider.create_checkout(request(item()))

    posts = stripe_fake.calls_to("POST", "/v1/checkout/sessions")
    assert len(posts) == 2
    assert posts[0].idempotency_key == posts[1].idempotency_key == "order_1:attempt-1:session"
    assert list(stripe_fake.sessions) == [session.session_ref]


def test_a_checkout_retried_by_the_caller_after_an_error_reuses_its_key(stripe_fake):
    provider = stripe_fake.provider(max_network_retries=0)
    stripe_fake.fail_next(500)
    with pytest.raises(ProviderError):
        provider.create_checkout(request(item()))
    session = provider.create_checkout(request(item()))
    assert list(stripe_fake.sessions) == [session.session_ref]
    keys = {c.idempotency_key for c in stripe_fake.calls_to("POST", "/v1/checkout/sessions")}
    assert keys == {"order_1:attempt-1:session"}


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 400, 401, 429])
def test_stripe_errors_become_provider_errors(stripe_fake, status):
    provider = stripe_fake.provider(max_network_retries=0)
    stripe_fake.fail_next(status)
    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(request(item()))
    assert type(failed.value) is ProviderError and failed.value.status == 502
    assert isinstance(failed.value.__cause__, stripe.StripeError)


def test_a_stripe_that_does_not_answer_in_time_is_a_provider_error(stripe_fake):
    provider = stripe_fake.provider(timeout=0.3, max_network_retries=0)
    stripe_fake.hang_next(1.5)
    started = time.monotonic()
    with pytest.raises(ProviderError) as failed:
        provider.create_checkout(request(item()))
    assert time.monotonic() - started < 1.4
    assert isinstance(failed.value.__cause__, stripe.APIConnectionError)


def test_a_stripe_that_refuses_connections_is_a_provider_error():
    provider = StripeProvider(
        "sk_test_x", "whsec_x", api_base=f"http://127.0.0.1:{free_port()}", max_network_retries=0
    )
    with pytest.raises(ProviderError):
        provider.create_checkout(request(item()))
    with pytest.raises(ProviderError):
        provider.refund("pi_x", 100, "USD", "refund-1")
    with pytest.raises(ProviderError):
        provider.cancel_subscription("sub_x", "cancel-1")


def test_an_answer_without_a_checkout_address_is_a_provider_error(stripe_fake, provider):
    stripe_fake.answer_next(200, {"id": "cs_test_x", "object": "checkout.session", "url": None})
    with pytest.raises(ProviderError, match="checkout address"):
        provider.create_checkout(request(item()))


# -- signatures -----------------------------------------------------------------------------


def test_a_delivery_signed_by_stripe_verifies(stripe_fake, provider):
    session = provider.create_checkout(request(item()))
    delivery = stripe_fake.complete_session(session.session_ref)[-1]
    event = provider.parse_webhook(delivery.payload, delivery.headers)
    assert event.event_ref == delivery.body["id"] and event.provider == "stripe"
    assert event.created.tzinfo is UTC
    # Header names are case-insensitive (a WSGI server may lower them).
    lowered = {k.lower(): v for k, v in delivery.headers.items()}
    assert provider.parse_webhook(delivery.payload, lowered).event_ref == event.event_ref


def _signed(stripe_fake, body=None, **sign):
    payload = json.dumps(
        body
        or {
            "id": "evt_test_1",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    ).encode()
    return payload, stripe_fake.sign(payload, **sign)


def test_bad_signatures_are_refused(stripe_fake, provider):
    payload, headers = _signed(stripe_fake)
    assert provider.parse_webhook(payload, headers).kind is EventKind.IGNORED

    with pytest.raises(InvalidWebhook, match="does not verify"):
        provider.parse_webhook(*_signed(stripe_fake, secret="whsec_someone_else"))
    with pytest.raises(InvalidWebhook, match="does not verify"):  # tampered body
        provider.parse_webhook(payload.replace(b"cus_1", b"cus_2"), headers)
    with pytest.raises(InvalidWebhook, match="no Stripe-Signature"):
        provider.parse_webhook(payload, {"Content-Type": "application/json"})
    for garbage in ("t=abc,v1=00", "v1=00", "t=1", ""):
        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(payload, {"Stripe-Signature": garbage})


def test_stale_signatures_are_refused(stripe_fake, provider):
    now = int(time.time())
    assert provider.parse_webhook(*_signed(stripe_fake, timestamp=now - 290))
    with pytest.raises(InvalidWebhook, match="tolerance"):
        provider.parse_webhook(*_signed(stripe_fake, timestamp=now - 301))


def test_signed_bodies_that_are_not_events_are_refused(stripe_fake, provider):
    for payload in (b"not json", b"\xff\xfe", b"[]", b'{"id": "evt_1", "type": "x"}'):
        with pytest.raises(InvalidWebhook):
            provider.parse_webhook(payload, stripe_fake.sign(payload))


# -- what events mean -----------------------------------------------------------------------


def test_a_paid_one_time_checkout(stripe_fake, provider):
    session = provider.create_checkout(request(item(), item(ref="6", amount=900, line="l2")))
    seen = events(provider, stripe_fake.complete_session(session.session_ref))

    assert [(e.raw_type, e.kind) for e in seen] == [
        ("charge.succeeded", EventKind.IGNORED),
        ("payment_intent.succeeded", EventKind.IGNORED),
        ("checkout.session.completed", EventKind.PAYMENT_SUCCEEDED),
    ]
    paid = seen[-1]
    intent = stripe_fake.sessions[session.session_ref]["payment_intent"]
    assert (paid.order_ref, paid.session_ref, paid.payment_ref) == (
        "order_1",
        session.session_ref,
        intent,
    )
    assert (paid.amount, paid.currency, paid.subscription_ref) == (2400, "USD", None)


def test_an_async_payment_is_pending_then_settles(stripe_fake, provider):
    session = provider.create_checkout(request(item()))
    (completed,) = events(provider, stripe_fake.complete_session(session.session_ref, True))
    assert completed.kind is EventKind.PAYMENT_PENDING and completed.order_ref == "order_1"
    settled = events(provider, stripe_fake.settle_async(session.session_ref))
    assert [e.kind for e in settled] == [EventKind.IGNORED, EventKind.PAYMENT_SUCCEEDED]
    assert settled[-1].amount == 1500 and settled[-1].payment_ref == completed.payment_ref

    other = provider.create_checkout(request(item(), order="order_2"))
    stripe_fake.complete_session(other.session_ref, async_payment=True)
    failed = events(provider, stripe_fake.settle_async(other.session_ref, succeeded=False))
    assert failed[-1].kind is EventKind.PAYMENT_FAILED and failed[-1].order_ref == "order_2"


def test_a_subscription_start_is_fulfilled_once(stripe_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    seen = events(provider, stripe_fake.complete_session(session.session_ref))

    assert [(e.raw_type, e.kind) for e in seen] == [
        ("customer.subscription.created", EventKind.IGNORED),
        ("invoice.paid", EventKind.IGNORED),  # billing_reason subscription_create
        ("invoice.payment_succeeded", EventKind.IGNORED),
        ("checkout.session.completed", EventKind.PAYMENT_SUCCEEDED),
    ]
    paid = seen[-1]
    subscription = stripe_fake.subscriptions[paid.subscription_ref]
    assert paid.payment_ref == subscription["latest_invoice"]
    assert (paid.order_ref, paid.amount) == ("order_1", 1500)


def test_renewals_paid_and_failed(stripe_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    stripe_fake.complete_session(session.session_ref)
    subscription_ref = stripe_fake.sessions[session.session_ref]["subscription"]
    item_period = stripe_fake.subscriptions[subscription_ref]["items"]["data"][0]

    renewed = events(provider, stripe_fake.renew(subscription_ref))
    assert [e.kind for e in renewed] == [
        EventKind.RENEWAL_PAID,
        EventKind.IGNORED,
        EventKind.SUBSCRIPTION_UPDATED,
    ]
    paid, updated = renewed[0], renewed[2]
    end = datetime.fromtimestamp(item_period["current_period_end"], UTC)
    assert (paid.order_ref, paid.subscription_ref, paid.amount, paid.currency) == (
        "order_1",
        subscription_ref,
        1500,
        "USD",
    )
    assert paid.period_end == end and paid.payment_ref.startswith("in_")
    assert (updated.subscription_status, updated.period_end) == ("active", end)

    failed = events(provider, stripe_fake.renew(subscription_ref, paid=False))
    assert [e.kind for e in failed] == [EventKind.RENEWAL_FAILED, EventKind.SUBSCRIPTION_UPDATED]
    assert failed[0].amount == 1500 and failed[0].order_ref == "order_1"
    assert failed[1].subscription_status == "past_due"


def test_a_failed_first_invoice_is_left_to_the_checkout(stripe_fake, provider):
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "billing_reason": "subscription_create",
        "amount_due": 1500,
        "currency": "usd",
        "parent": {"subscription_details": {"subscription": "sub_1", "metadata": {}}},
    }
    delivery = stripe_fake.event("invoice.payment_failed", invoice)
    assert provider.parse_webhook(delivery.payload, delivery.headers).kind is EventKind.IGNORED
    delivery = stripe_fake.event("invoice.paid", dict(invoice, billing_reason="manual"))
    assert provider.parse_webhook(delivery.payload, delivery.headers).kind is EventKind.IGNORED


def test_invoices_in_the_shape_of_older_api_versions(stripe_fake, provider):
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "billing_reason": "subscription_cycle",
        "amount_paid": 1500,
        "currency": "usd",
        "subscription": "sub_1",
        "subscription_details": {"metadata": {"order_ref": "order_9"}},
        "lines": {"data": [{"period": {"start": 1, "end": 1_800_000_000}}]},
    }
    delivery = stripe_fake.event("invoice.paid", invoice)
    event = provider.parse_webhook(delivery.payload, delivery.headers)
    assert (event.kind, event.subscription_ref, event.order_ref) == (
        EventKind.RENEWAL_PAID,
        "sub_1",
        "order_9",
    )
    assert event.period_end == datetime.fromtimestamp(1_800_000_000, UTC)


def test_a_cancelled_subscription(stripe_fake, provider):
    session = provider.create_checkout(request(item(interval="year", amount=15000)))
    stripe_fake.complete_session(session.session_ref)
    subscription_ref = stripe_fake.sessions[session.session_ref]["subscription"]
    (ended,) = events(provider, stripe_fake.cancel(subscription_ref))
    assert ended.kind is EventKind.SUBSCRIPTION_CANCELLED
    assert (ended.subscription_ref, ended.subscription_status, ended.order_ref) == (
        subscription_ref,
        "canceled",
        "order_1",
    )


def test_refund_events_carry_this_refunds_amount(stripe_fake, provider):
    session = provider.create_checkout(request(item(amount=1000)))
    stripe_fake.complete_session(session.session_ref)
    intent = stripe_fake.sessions[session.session_ref]["payment_intent"]

    first = events(provider, stripe_fake.refund(intent, 300))
    second = events(provider, stripe_fake.refund(intent))  # the 700 left
    for seen, amount in ((first, 300), (second, 700)):
        assert [e.kind for e in seen] == [EventKind.IGNORED, EventKind.REFUNDED]
        refunded = seen[-1]
        assert (refunded.amount, refunded.currency, refunded.payment_ref) == (amount, "USD", intent)
    # The charge itself says 1000 refunded by now: the event is not the running total.
    assert next(iter(stripe_fake.charges.values()))["amount_refunded"] == 1000


def test_a_refunded_renewal_names_its_invoice_and_order(stripe_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    stripe_fake.complete_session(session.session_ref)
    subscription_ref = stripe_fake.sessions[session.session_ref]["subscription"]
    (renewal, *_) = events(provider, stripe_fake.renew(subscription_ref))

    refunded = events(provider, stripe_fake.refund(renewal.payment_ref, 500))[-1]
    assert refunded.kind is EventKind.REFUNDED
    assert (refunded.payment_ref, refunded.order_ref, refunded.subscription_ref) == (
        renewal.payment_ref,
        "order_1",
        subscription_ref,
    )
    assert refunded.amount == 500


def test_a_refund_event_without_its_previous_amount_is_refused(stripe_fake, provider):
    charge = {"id": "ch_1", "object": "charge", "amount": 1000, "amount_refunded": 1000}
    delivery = stripe_fake.event("charge.refunded", charge)
    with pytest.raises(InvalidWebhook, match="previous_attributes"):
        provider.parse_webhook(delivery.payload, delivery.headers)


def test_other_events_are_ignored(stripe_fake, provider):
    for kind in ("checkout.session.expired", "customer.created", "invoice.finalized"):
        delivery = stripe_fake.event(kind, {"id": "x_1", "metadata": {"order_ref": "order_7"}})
        event = provider.parse_webhook(delivery.payload, delivery.headers)
        assert (event.kind, event.raw_type, event.order_ref) == (EventKind.IGNORED, kind, "order_7")


# -- refunds and cancellations --------------------------------------------------------------


def test_refunds_are_idempotent_by_key(stripe_fake, provider):
    session = provider.create_checkout(request(item(amount=1000)))
    stripe_fake.complete_session(session.session_ref)
    intent = stripe_fake.sessions[session.session_ref]["payment_intent"]

    refund_ref = provider.refund(intent, 400, "USD", "refund-77")
    assert provider.refund(intent, 400, "USD", "refund-77") == refund_ref
    assert list(stripe_fake.refunds) == [refund_ref]
    (call, again) = stripe_fake.calls_to("POST", "/v1/refunds")
    assert call.idempotency_key == again.idempotency_key == "refund-77:refund"
    assert call.params == {
        "amount": "400",
        "payment_intent": intent,
        "metadata": {"refund_key": "refund-77"},
    }
    # The money moves when Stripe says so: a charge.refunded delivery for this refund.
    assert (
        provider.parse_webhook(
            stripe_fake.deliveries[-1].payload, stripe_fake.deliveries[-1].headers
        ).amount
        == 400
    )

    with pytest.raises(ProviderError):  # more than is left
        provider.refund(intent, 700, "USD", "refund-78")
    with pytest.raises(ValueError):
        provider.refund(intent, 0, "USD", "refund-79")


def test_a_subscription_payment_is_refunded_through_its_invoice(stripe_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    (*_, paid) = events(provider, stripe_fake.complete_session(session.session_ref))
    refund_ref = provider.refund(paid.payment_ref, 1500, "USD", "refund-1")
    refund = stripe_fake.refunds[refund_ref]
    intent = stripe_fake.invoice_payments[next(iter(stripe_fake.invoice_payments))]
    assert refund["payment_intent"] == intent["payment"]["payment_intent"]
    assert refund["amount"] == 1500


def test_cancel_subscription(stripe_fake, provider):
    session = provider.create_checkout(request(item(interval="month")))
    stripe_fake.complete_session(session.session_ref)
    subscription_ref = stripe_fake.sessions[session.session_ref]["subscription"]

    provider.cancel_subscription(subscription_ref, "cancel-1")
    assert stripe_fake.subscriptions[subscription_ref]["status"] == "canceled"
    (call,) = stripe_fake.calls_to("DELETE", "/v1/subscriptions/")
    assert call.idempotency_key == "cancel-1:cancel"
    assert stripe_fake.deliveries[-1].type == "customer.subscription.deleted"

    provider.cancel_subscription(subscription_ref, "cancel-2")  # already ended: fine
    with pytest.raises(ProviderError):
        provider.cancel_subscription("sub_test_unknown", "cancel-3")
