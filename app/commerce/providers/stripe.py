"""Stripe: Checkout Sessions for one-time and subscription carts, signed webhooks, refunds.

Decisions (the README's payments section says the same):
- A cart with a subscription is one Checkout Session in mode ``subscription``; its one-time
  items ride along as one-time line items, charged with the first invoice. All its
  subscriptions share one billing interval (else ``UnsupportedCart``). Without one: mode
  ``payment``, every line an inline ``price_data`` (nothing to keep in sync on Stripe).
- Subscriptions use a Stripe Product per our product (id ``autopilot_product_<ref>``) and a
  Price per (product, interval, amount, currency) found by its ``lookup_key``. A new amount
  makes a new Price and archives the others of that product, interval and currency; an
  amount seen before reactivates its Price. Existing subscriptions keep their Price.
- Every write carries a deterministic ``Idempotency-Key``: the session and every update are
  keyed by the request's key plus the call (and object); the shared catalogue objects
  (Product, Price) by the object they create, so two orders racing create one of each.
- ``payment_ref``: the PaymentIntent for one-time checkouts; the Invoice (``in_...``) for
  subscription checkouts and renewals, since Stripe's webhook payloads carry no link from an
  invoice to its PaymentIntent. ``refund`` takes either.
- The first period of a subscription is fulfilled by ``checkout.session.completed``: the
  first invoice's ``invoice.paid`` (billing_reason ``subscription_create``) is IGNORED, and so
  is its ``invoice.payment_failed`` (the checkout itself fails then).
- ``charge.refunded`` reports this refund's amount: the charge's ``amount_refunded`` minus
  the ``previous_attributes.amount_refunded`` Stripe sends with the event (both cumulative).
  It is the one event whose parsing asks Stripe something: which invoice the charge paid, if
  any, so that a refunded renewal names the same ``payment_ref`` as its payment.
- ``fee`` is left None: Stripe's payloads do not carry the balance transaction.
- Webhook payloads are read in the shape of the library's API version (``stripe.api_version``,
  invoices' subscription under ``parent.subscription_details``); create the webhook endpoint
  with that version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe

from app.commerce.providers.base import (
    CheckoutItem,
    CheckoutRequest,
    CheckoutSession,
    EventKind,
    InvalidWebhook,
    PaymentEvent,
    ProviderError,
)
from app.commerce.providers.carts import call_key, split_cart

log = logging.getLogger(__name__)

# Stripe's own tolerance in its libraries: a signature older than this is refused (replays).
WEBHOOK_TOLERANCE_SECONDS = 300
PRODUCT_ID_PREFIX = "autopilot_product_"

_SESSION_KINDS = {
    "checkout.session.async_payment_succeeded": EventKind.PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": EventKind.PAYMENT_FAILED,
}


def price_lookup_key(item: CheckoutItem) -> str:
    """The lookup key of the Price a subscription item is bought at."""
    return (
        f"autopilot:{item.product_ref}:{item.interval}:{item.unit_amount}:{item.currency.lower()}"
    )


class StripeProvider:
    """The Stripe payment provider (see the module's docstring for its decisions)."""

    name = "stripe"
    label = "Stripe"
    is_sandbox = False

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout: float = 10.0,
        max_network_retries: int = 1,
    ) -> None:
        # Retries are safe: every write carries its idempotency key.
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._webhook_secret = webhook_secret

    # -- checkout ---------------------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A hosted Checkout Session for ``request``; raises UnsupportedCart (before any call)
        or ProviderError."""
        cart = split_cart(request)
        metadata = {"order_ref": request.order_ref, "customer_ref": request.customer_ref}
        with _calling("create a checkout"):
            line_items = [
                {"price": self._price_for(item, request.idempotency_key), "quantity": 1}
                if item.interval
                else {"price_data": _price_data(item), "quantity": 1}
                for item in request.items
            ]
            params: dict[str, Any] = {
                "mode": "subscription" if cart.recurring else "payment",
                "line_items": line_items,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "client_reference_id": request.order_ref,
                "customer_email": request.customer_email,
                "metadata": metadata,
            }
            if cart.recurring:
                # Copied onto the subscription, so its invoices and updates name the order.
                params["subscription_data"] = {"metadata": metadata}
            else:
                params["payment_intent_data"] = {"metadata": metadata}
            session = _plain(
                self._client.v1.checkout.sessions.create(
                    params, {"idempotency_key": call_key(request.idempotency_key, "session")}
                )
            )
        if not session.get("url"):
            raise ProviderError("Stripe answered without a checkout address.")
        return CheckoutSession(session_ref=session["id"], redirect_url=session["url"])

    def _product_for(self, item: CheckoutItem, request_key: str) -> str:
        product_id = PRODUCT_ID_PREFIX + item.product_ref
        try:
            product = _plain(self._client.v1.products.retrieve(product_id))
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
            product = self._client.v1.products.create(
                {
                    "id": product_id,
                    "name": item.title,
                    "metadata": {"product_ref": item.product_ref},
                },
                {"idempotency_key": call_key("product", product_id)},
            )
            return product["id"]
        if product.get("name") != item.title or not product.get("active", True):
            self._client.v1.products.update(
                product_id,
                {"name": item.title, "active": True},
                {"idempotency_key": call_key(request_key, "product-update", product_id)},
            )
        return product_id

    def _price_for(self, item: CheckoutItem, request_key: str) -> str:
        """The id of an active Price for a subscription item, created or reactivated when
        needed; the product's other active Prices for this interval and currency archived."""
        product_id = self._product_for(item, request_key)
        lookup_key = price_lookup_key(item)
        currency = item.currency.lower()
        listed = self._client.v1.prices.list(
            {"product": product_id, "type": "recurring", "limit": 100}
        )
        prices = [_plain(price) for price in listed.auto_paging_iter()]
        price = next((p for p in prices if p.get("lookup_key") == lookup_key), None)
        if price is None:
            price = _plain(
                self._client.v1.prices.create(
                    {
                        "product": product_id,
                        "currency": currency,
                        "unit_amount": item.unit_amount,
                        "recurring": {"interval": item.interval},
                        "lookup_key": lookup_key,
                        "metadata": {"product_ref": item.product_ref},
                    },
                    {"idempotency_key": call_key("price", lookup_key)},
                )
            )
        elif not price.get("active"):
            self._client.v1.prices.update(
                price["id"],
                {"active": True},
                {"idempotency_key": call_key(request_key, "price-activate", price["id"])},
            )
        for old in prices:
            recurring = old.get("recurring") or {}
            if (
                old["id"] != price["id"]
                and old.get("active")
                and old.get("currency") == currency
                and recurring.get("interval") == item.interval
            ):
                self._client.v1.prices.update(
                    old["id"],
                    {"active": False},
                    {"idempotency_key": call_key(request_key, "price-archive", old["id"])},
                )
        return price["id"]

    # -- refunds and cancellations ---------------------------------------------------------

    def refund(self, payment_ref: str, amount: int, currency: str, idempotency_key: str) -> str:
        """Refund ``amount`` of a PaymentIntent (``pi_``), Charge (``ch_``) or paid Invoice
        (``in_``); returns the Refund's id. Stripe refunds in the payment's own currency, so
        ``currency`` is not sent. Raises ValueError for an amount under 1, ProviderError."""
        if amount < 1:
            raise ValueError(f"a refund of {amount} {currency}")
        params: dict[str, Any] = {"amount": amount, "metadata": {"refund_key": idempotency_key}}
        with _calling("refund a payment"):
            if payment_ref.startswith("ch_"):
                params["charge"] = payment_ref
            elif payment_ref.startswith("in_"):
                params["payment_intent"] = self._invoice_payment_intent(payment_ref)
            else:
                params["payment_intent"] = payment_ref
            refund = self._client.v1.refunds.create(
                params, {"idempotency_key": call_key(idempotency_key, "refund")}
            )
        return refund["id"]

    def _invoice_payment_intent(self, invoice_ref: str) -> str:
        payments = _plain(
            self._client.v1.invoice_payments.list(
                {"invoice": invoice_ref, "status": "paid", "limit": 1}
            )
        )
        for payment in payments.get("data") or ():
            intent = (payment.get("payment") or {}).get("payment_intent")
            if intent:
                return _ref(intent)
        raise ProviderError(f"Stripe knows no paid payment for invoice {invoice_ref}.")

    def cancel_subscription(self, subscription_ref: str, idempotency_key: str) -> None:
        """End a subscription now (no proration); one already cancelled is left as it is.
        Raises ProviderError."""
        with _calling("cancel a subscription"):
            try:
                self._client.v1.subscriptions.cancel(
                    subscription_ref,
                    None,
                    {"idempotency_key": call_key(idempotency_key, "cancel")},
                )
            except stripe.InvalidRequestError:
                # Stripe refuses to cancel a cancelled subscription: that is the state we want.
                subscription = _plain(self._client.v1.subscriptions.retrieve(subscription_ref))
                if subscription.get("status") != "canceled":
                    raise

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify ``Stripe-Signature`` on the raw body (HMAC-SHA256 of ``timestamp.payload``,
        at most 300 s old) and translate the event. Raises InvalidWebhook; ProviderError for
        a ``charge.refunded`` while Stripe cannot be asked about the charge's invoice (answer
        with a 5xx: Stripe delivers it again later)."""
        signature = _header(headers, "Stripe-Signature")
        if not signature:
            raise InvalidWebhook("The delivery has no Stripe-Signature header.")
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(f"The Stripe signature does not verify: {exc}") from exc
        except ValueError as exc:  # not UTF-8 or not JSON, signed all the same
            raise InvalidWebhook("The Stripe delivery is not a JSON event.") from exc
        if not (
            isinstance(event, dict)
            and isinstance(event.get("id"), str)
            and isinstance(event.get("type"), str)
            and isinstance(event.get("created"), int)
            and isinstance(event.get("data"), dict)
            and isinstance(event["data"].get("object"), dict)
        ):
            raise InvalidWebhook("The Stripe delivery is not an event (id, type, created, data).")
        return self._translate(event)

    def _translate(self, event: dict[str, Any]) -> PaymentEvent:
        kind_of = event["type"]
        obj: dict[str, Any] = event["data"]["object"]
        common: dict[str, Any] = {
            "provider": self.name,
            "event_ref": event["id"],
            "created": datetime.fromtimestamp(event["created"], UTC),
            "raw_type": kind_of,
        }
        if kind_of.startswith("checkout.session."):
            return PaymentEvent(kind=_session_kind(kind_of, obj), **common, **_session_fields(obj))
        if kind_of in ("invoice.paid", "invoice.payment_failed"):
            first = obj.get("billing_reason") == "subscription_create"
            if kind_of == "invoice.paid":
                renewal = obj.get("billing_reason") == "subscription_cycle"
                kind = EventKind.RENEWAL_PAID if renewal else EventKind.IGNORED
                amount = obj.get("amount_paid")
            else:
                kind = EventKind.IGNORED if first else EventKind.RENEWAL_FAILED
                amount = obj.get("amount_due")
            return PaymentEvent(kind=kind, amount=amount, **common, **_invoice_fields(obj))
        if kind_of in ("customer.subscription.updated", "customer.subscription.deleted"):
            kind = (
                EventKind.SUBSCRIPTION_UPDATED
                if kind_of.endswith("updated")
                else EventKind.SUBSCRIPTION_CANCELLED
            )
            return PaymentEvent(kind=kind, **common, **_subscription_fields(obj))
        if kind_of == "charge.refunded":
            previous = event["data"].get("previous_attributes") or {}
            return PaymentEvent(
                kind=EventKind.REFUNDED, **common, **self._refund_fields(obj, previous)
            )
        metadata = obj.get("metadata")
        order_ref = metadata.get("order_ref") if isinstance(metadata, dict) else None
        return PaymentEvent(kind=EventKind.IGNORED, order_ref=order_ref, **common)

    def _refund_fields(self, charge: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
        now, before = charge.get("amount_refunded"), previous.get("amount_refunded")
        if not isinstance(now, int) or not isinstance(before, int) or now <= before:
            raise InvalidWebhook(
                "charge.refunded without a rise in amount_refunded (previous_attributes)."
            )
        payment_ref = _ref(charge.get("payment_intent")) or charge.get("id")
        fields: dict[str, Any] = {
            "amount": now - before,
            "currency": _currency(charge),
            "payment_ref": payment_ref,
            "order_ref": (charge.get("metadata") or {}).get("order_ref"),
        }
        if charge.get("payment_intent"):
            with _calling("look up a refunded charge's invoice"):
                found = _plain(
                    self._client.v1.invoice_payments.list(
                        {
                            "payment": {"type": "payment_intent", "payment_intent": payment_ref},
                            "limit": 1,
                            "expand": ["data.invoice"],
                        }
                    )
                )
            for invoice_payment in found.get("data") or ():
                invoice = invoice_payment.get("invoice")
                if isinstance(invoice, dict):
                    # A subscription's payment: named by its invoice, as when it was paid.
                    paid = _invoice_fields(invoice)
                    fields["payment_ref"] = paid["payment_ref"]
                    fields["subscription_ref"] = paid["subscription_ref"]
                    fields["order_ref"] = paid["order_ref"] or fields["order_ref"]
        return fields


def _price_data(item: CheckoutItem) -> dict[str, Any]:
    return {
        "currency": item.currency.lower(),
        "unit_amount": item.unit_amount,
        "product_data": {
            "name": item.title,
            "metadata": {"product_ref": item.product_ref, "line_ref": item.line_ref},
        },
    }


def _session_kind(kind_of: str, session: dict[str, Any]) -> EventKind:
    if kind_of == "checkout.session.completed":
        if session.get("payment_status") in ("paid", "no_payment_required"):
            return EventKind.PAYMENT_SUCCEEDED
        return EventKind.PAYMENT_PENDING  # "unpaid": an async method, settled by a later event
    return _SESSION_KINDS.get(kind_of, EventKind.IGNORED)


def _session_fields(session: dict[str, Any]) -> dict[str, Any]:
    metadata = session.get("metadata") or {}
    subscription = _ref(session.get("subscription"))
    return {
        "order_ref": metadata.get("order_ref") or session.get("client_reference_id"),
        "session_ref": session.get("id"),
        "payment_ref": _ref(session.get("invoice"))
        if subscription
        else _ref(session.get("payment_intent")),
        "subscription_ref": subscription,
        "amount": session.get("amount_total"),
        "currency": _currency(session),
    }


def _invoice_fields(invoice: dict[str, Any]) -> dict[str, Any]:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    # Before API version 2025-03-31 these sat on the invoice itself.
    subscription = details.get("subscription") or invoice.get("subscription")
    metadata = (
        details.get("metadata") or (invoice.get("subscription_details") or {}).get("metadata") or {}
    )
    lines = (invoice.get("lines") or {}).get("data") or []
    ends = [
        line["period"]["end"]
        for line in lines
        if isinstance((line.get("period") or {}).get("end"), int)
    ]
    return {
        "order_ref": metadata.get("order_ref"),
        "payment_ref": invoice.get("id"),
        "subscription_ref": _ref(subscription),
        "currency": _currency(invoice),
        "period_end": datetime.fromtimestamp(max(ends), UTC) if ends else None,
    }


def _subscription_fields(subscription: dict[str, Any]) -> dict[str, Any]:
    items = (subscription.get("items") or {}).get("data") or []
    # Since API version 2025-03-31 the period is per item; before, on the subscription.
    ends = [i["current_period_end"] for i in items if isinstance(i.get("current_period_end"), int)]
    if not ends and isinstance(subscription.get("current_period_end"), int):
        ends = [subscription["current_period_end"]]
    return {
        "order_ref": (subscription.get("metadata") or {}).get("order_ref"),
        "subscription_ref": subscription.get("id"),
        "subscription_status": subscription.get("status"),
        "period_end": datetime.fromtimestamp(max(ends), UTC) if ends else None,
    }


def _plain(obj: Any) -> dict[str, Any]:
    """The library's object as plain dicts and lists, read the same way as webhook payloads."""
    return obj.to_dict()


def _ref(value: Any) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) and value else None


def _currency(obj: dict[str, Any]) -> str | None:
    currency = obj.get("currency")
    return currency.upper() if isinstance(currency, str) else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


@contextmanager
def _calling(what: str) -> Iterator[None]:
    """Stripe's errors (refusals, timeouts, 5xx) become ProviderError; nothing else is caught."""
    try:
        yield
    except stripe.StripeError as exc:
        log.warning(
            "Stripe could not %s: %s (%s, status %s, request %s)",
            what,
            exc.user_message or exc,
            type(exc).__name__,
            exc.http_status,
            exc.request_id,
        )
        raise ProviderError() from exc
