"""Razorpay: Payment Links and Subscriptions (hosted pages, no script on ours), webhooks, refunds.

Decisions (the README's payments section says the same):
- Our CSP allows scripts and form targets from 'self' only, so Razorpay's Checkout script is
  out: one-time carts become a Payment Link (hosted page, ``callback_url`` back to our success
  page, expiring after ``link_lifetime``) for the cart's total; a cart with a subscription
  becomes a Subscription (hosted page at its ``short_url``) whose plan is the subscription
  item's and whose one-time items are addons charged with the first payment. One
  subscription per checkout (a Razorpay subscription has one plan). Razorpay's subscription
  page has no redirect back: the buyer returns by themselves, and the webhook fulfils.
- Plans per (product, interval, amount, currency), found by ``notes.lookup_key`` and kept in
  a per-process cache (plans cannot change or be deleted on Razorpay, so a cached id never
  goes stale). A new amount makes a new plan; old plans cannot be archived on Razorpay.
- Razorpay's payment APIs take no idempotency key. A retried checkout finds what it created
  before instead: the Payment Link by its ``reference_id`` (derived from the request's key;
  Razorpay refuses a second link with it), the Subscription by ``notes.checkout_key`` among
  the plan's recent subscriptions, a refund by ``notes.refund_key`` among the payment's
  refunds. Two identical subscription checkouts at the same instant can still make two
  subscriptions: the caller holds one attempt per order at a time.
- Webhooks: ``X-Razorpay-Signature`` is the HMAC-SHA256 hex of the raw body with the webhook
  secret (no timestamp in it: replays are stopped by storing each ``X-Razorpay-Event-Id``).
  ``payment_link.paid`` fulfils a one-time order and ``payment.captured`` is IGNORED (both
  come for one payment). ``subscription.charged`` with ``paid_count`` 1 is the first payment
  (PAYMENT_SUCCEEDED: fulfil the order), later ones are RENEWAL_PAID. ``payment.failed`` is
  IGNORED (the buyer may try again on the same page); the link expiring or being cancelled
  is PAYMENT_FAILED. ``subscription.pending`` (a renewal charge failed, Razorpay retries) is
  RENEWAL_FAILED; ``halted`` (retries exhausted), ``cancelled`` and ``completed`` are
  SUBSCRIPTION_CANCELLED. Amounts are in the smallest unit (paise), as ours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import razorpay.errors
import requests

from app.commerce.providers.base import (
    CheckoutItem,
    CheckoutRequest,
    CheckoutSession,
    EventKind,
    InvalidWebhook,
    PaymentEvent,
    ProviderError,
)
from app.commerce.providers.carts import UnsupportedCart, split_cart
from app.commerce.providers.razorpay_client import make_client

log = logging.getLogger(__name__)

PERIODS = {"month": "monthly", "year": "yearly"}
# Razorpay needs a number of billing cycles: ten years either way.
TOTAL_COUNTS = {"month": 120, "year": 10}
PAGE = 100  # the most a Razorpay list returns at once
_OPEN_LINK = {"created", "partially_paid", "paid"}
_OPEN_SUBSCRIPTION = {"created", "authenticated", "active"}
_SUBSCRIPTION_KINDS = {
    "subscription.activated": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.updated": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.paused": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.resumed": EventKind.SUBSCRIPTION_UPDATED,
    "subscription.pending": EventKind.RENEWAL_FAILED,
    "subscription.halted": EventKind.SUBSCRIPTION_CANCELLED,
    "subscription.cancelled": EventKind.SUBSCRIPTION_CANCELLED,
    "subscription.completed": EventKind.SUBSCRIPTION_CANCELLED,
}
_RAZORPAY_ERRORS = (
    razorpay.errors.BadRequestError,
    razorpay.errors.GatewayError,
    razorpay.errors.ServerError,
    requests.RequestException,  # timeouts, refused connections, a body that is not JSON
)


def plan_lookup_key(item: CheckoutItem) -> str:
    """The lookup key (in the plan's notes) of the plan a subscription item is bought on."""
    return (
        f"autopilot:{item.product_ref}:{item.interval}:{item.unit_amount}:{item.currency.upper()}"
    )


def reference_id(idempotency_key: str) -> str:
    """A Payment Link's ``reference_id`` for a request key (Razorpay allows 40 characters)."""
    return "am_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:37]


class RazorpayProvider:
    """The Razorpay payment provider (see the module's docstring for its decisions)."""

    name = "razorpay"
    label = "Razorpay"
    is_sandbox = False

    def __init__(
        self,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout: float = 10.0,
        link_lifetime: timedelta = timedelta(hours=24),
    ) -> None:
        self._client = make_client(key_id, key_secret, api_base, timeout)
        self._webhook_secret = webhook_secret.encode()
        self._link_lifetime = link_lifetime
        self._plans: dict[str, str] = {}  # lookup key -> plan id (plans never change)
        self._plans_lock = threading.Lock()

    # -- checkout ---------------------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A Payment Link (one-time carts) or a Subscription (a cart with one subscription);
        raises UnsupportedCart (before any call) or ProviderError."""
        cart = split_cart(request)
        if len(cart.recurring) > 1:
            raise UnsupportedCart(
                "Razorpay takes one subscription per checkout: buy the others separately."
            )
        with _calling("create a checkout"):
            if cart.recurring:
                found = self._subscription_checkout(request, cart.recurring[0], cart.one_time)
            else:
                found = self._link_checkout(request, cart.one_time_total, cart.currency)
        if not found.get("id") or not found.get("short_url"):
            raise ProviderError("Razorpay answered without a payment page.")
        return CheckoutSession(session_ref=found["id"], redirect_url=found["short_url"])

    def _link_checkout(self, request: CheckoutRequest, amount: int, currency: str) -> dict:
        reference = reference_id(request.idempotency_key)
        link = self._find_link(reference)
        if link is None:
            titles = ", ".join(item.title for item in request.items)
            params = {
                "amount": amount,
                "currency": currency,
                "accept_partial": False,
                "reference_id": reference,
                "description": titles[:2048],
                "customer": {"email": request.customer_email},
                "notify": {"sms": False, "email": False},
                "reminder_enable": False,
                "notes": _notes(request),
                "callback_url": request.success_url,
                "callback_method": "get",
                "expire_by": int(time.time() + self._link_lifetime.total_seconds()),
            }
            try:
                link = self._client.payment_link.create(params)
            except razorpay.errors.BadRequestError:
                # A twin request made it first (reference_id is unique): use its link.
                link = self._find_link(reference)
                if link is None:
                    raise
        if link.get("status") not in _OPEN_LINK:
            raise ProviderError("This checkout has expired. Please start it again.")
        return link

    def _find_link(self, reference: str) -> dict | None:
        answer = self._client.payment_link.all({"reference_id": reference})
        links = answer.get("payment_links") or answer.get("items") or []
        return next((link for link in links if link.get("reference_id") == reference), None)

    def _subscription_checkout(
        self, request: CheckoutRequest, item: CheckoutItem, one_time: tuple[CheckoutItem, ...]
    ) -> dict:
        plan_id = self._plan_for(item)
        since = int(time.time() - self._link_lifetime.total_seconds() - 3600)
        subscription = self._find_subscription(plan_id, request.idempotency_key, since)
        if subscription is None:
            interval = item.interval or "month"
            subscription = self._client.subscription.create(
                {
                    "plan_id": plan_id,
                    "total_count": TOTAL_COUNTS[interval],
                    "quantity": 1,
                    "customer_notify": False,  # the buyer is sent to the page at once
                    "notes": {**_notes(request), "checkout_key": request.idempotency_key[:256]},
                    "addons": [
                        {
                            "item": {
                                "name": x.title[:250],
                                "amount": x.unit_amount,
                                "currency": x.currency,
                            }
                        }
                        for x in one_time
                    ],
                    "expire_by": int(time.time() + self._link_lifetime.total_seconds()),
                }
            )
        if subscription.get("status") not in _OPEN_SUBSCRIPTION:
            raise ProviderError("This checkout has expired. Please start it again.")
        return subscription

    def _find_subscription(self, plan_id: str, checkout_key: str, since: int) -> dict | None:
        for subscription in self._pages(
            self._client.subscription.all, {"plan_id": plan_id, "from": since}
        ):
            if (subscription.get("notes") or {}).get("checkout_key") == checkout_key[:256]:
                return subscription
        return None

    def _plan_for(self, item: CheckoutItem) -> str:
        lookup_key = plan_lookup_key(item)
        with self._plans_lock:
            cached = self._plans.get(lookup_key)
        if cached:
            return cached
        plan = next(
            (
                plan
                for plan in self._pages(self._client.plan.all, {})
                if (plan.get("notes") or {}).get("lookup_key") == lookup_key
            ),
            None,
        )
        if plan is None:
            plan = self._client.plan.create(
                {
                    "period": PERIODS[item.interval or "month"],
                    "interval": 1,
                    "item": {
                        "name": item.title[:250],
                        "amount": item.unit_amount,
                        "currency": item.currency.upper(),
                    },
                    "notes": {"lookup_key": lookup_key, "product_ref": item.product_ref},
                }
            )
        with self._plans_lock:
            self._plans[lookup_key] = plan["id"]
        return plan["id"]

    @staticmethod
    def _pages(fetch: Any, query: dict[str, Any]) -> Iterator[dict]:
        skip = 0
        while True:
            items = fetch({**query, "count": PAGE, "skip": skip}).get("items") or []
            yield from items
            if len(items) < PAGE:
                return
            skip += PAGE

    # -- refunds and cancellations ---------------------------------------------------------

    def refund(self, payment_ref: str, amount: int, currency: str, idempotency_key: str) -> str:
        """Refund ``amount`` (paise) of a payment (``pay_...``); a retry with the same key
        returns the refund made before. Raises ValueError for an amount under 1, ProviderError."""
        if amount < 1:
            raise ValueError(f"a refund of {amount} {currency}")
        key = idempotency_key[:256]
        with _calling("refund a payment"):
            for refund in self._pages(
                lambda query: self._client.payment.fetch_multiple_refund(payment_ref, query), {}
            ):
                if (refund.get("notes") or {}).get("refund_key") == key:
                    return refund["id"]
            refund = self._client.payment.refund(
                payment_ref, {"amount": amount, "speed": "normal", "notes": {"refund_key": key}}
            )
        return refund["id"]

    def cancel_subscription(self, subscription_ref: str, idempotency_key: str) -> None:
        """End a subscription now; one already ended is left as it is (Razorpay takes no key:
        cancelling is idempotent by state). Raises ProviderError."""
        with _calling("cancel a subscription"):
            try:
                self._client.subscription.cancel(subscription_ref, {"cancel_at_cycle_end": 0})
            except razorpay.errors.BadRequestError:
                subscription = self._client.subscription.fetch(subscription_ref)
                if subscription.get("status") not in ("cancelled", "completed", "expired"):
                    raise

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify ``X-Razorpay-Signature`` (HMAC-SHA256 hex of the raw body, compared in
        constant time) and translate the event; its id is the ``X-Razorpay-Event-Id``
        header. Raises InvalidWebhook."""
        lowered = {key.lower(): value for key, value in headers.items()}
        signature = (lowered.get("x-razorpay-signature") or "").strip()
        if not signature:
            raise InvalidWebhook("The delivery has no X-Razorpay-Signature header.")
        expected = hmac.new(self._webhook_secret, payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidWebhook("The Razorpay signature does not verify.")
        event_ref = (lowered.get("x-razorpay-event-id") or "").strip()
        if not event_ref:
            raise InvalidWebhook("The delivery has no X-Razorpay-Event-Id header.")
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise InvalidWebhook("The Razorpay delivery is not a JSON event.") from exc
        if not (
            isinstance(event, dict)
            and isinstance(event.get("event"), str)
            and isinstance(event.get("created_at"), int)
            and isinstance(event.get("payload"), dict)
        ):
            raise InvalidWebhook("The Razorpay delivery is not an event (event, payload).")
        return _translate(event, event_ref)


def _translate(event: dict[str, Any], event_ref: str) -> PaymentEvent:
    kind_of: str = event["event"]
    entities = {
        name: part["entity"]
        for name, part in event["payload"].items()
        if isinstance(part, dict) and isinstance(part.get("entity"), dict)
    }
    payment = entities.get("payment", {})
    common: dict[str, Any] = {
        "provider": "razorpay",
        "event_ref": event_ref,
        "created": datetime.fromtimestamp(event["created_at"], UTC),
        "raw_type": kind_of,
    }
    if kind_of.startswith("payment_link."):
        link = entities.get("payment_link", {})
        kind = {
            "payment_link.paid": EventKind.PAYMENT_SUCCEEDED,
            "payment_link.expired": EventKind.PAYMENT_FAILED,
            "payment_link.cancelled": EventKind.PAYMENT_FAILED,
        }.get(kind_of, EventKind.IGNORED)
        return PaymentEvent(
            kind=kind,
            order_ref=_notes_of(link).get("order_ref"),
            session_ref=link.get("id"),
            payment_ref=payment.get("id"),
            amount=payment.get("amount", link.get("amount_paid")),
            currency=_currency(payment) or _currency(link),
            fee=_int(payment.get("fee")),
            **common,
        )
    if kind_of.startswith("subscription."):
        subscription = entities.get("subscription", {})
        if kind_of == "subscription.charged":
            first = subscription.get("paid_count") == 1
            kind = EventKind.PAYMENT_SUCCEEDED if first else EventKind.RENEWAL_PAID
        else:
            kind = _SUBSCRIPTION_KINDS.get(kind_of, EventKind.IGNORED)
        period_end = _int(subscription.get("current_end"))
        return PaymentEvent(
            kind=kind,
            order_ref=_notes_of(subscription).get("order_ref"),
            session_ref=subscription.get("id"),
            subscription_ref=subscription.get("id"),
            subscription_status=subscription.get("status"),
            period_end=datetime.fromtimestamp(period_end, UTC) if period_end else None,
            payment_ref=payment.get("id"),
            amount=_int(payment.get("amount")),
            currency=_currency(payment),
            fee=_int(payment.get("fee")),
            **common,
        )
    if kind_of == "refund.processed":
        refund = entities.get("refund", {})
        if not isinstance(refund.get("amount"), int) or not refund.get("payment_id"):
            raise InvalidWebhook("refund.processed without the refund's amount and payment.")
        return PaymentEvent(
            kind=EventKind.REFUNDED,
            order_ref=_notes_of(refund).get("order_ref"),
            payment_ref=refund["payment_id"],
            refund_ref=refund.get("id"),
            amount=refund["amount"],
            currency=_currency(refund),
            **common,
        )
    # payment.captured (payment_link.paid and subscription.charged speak for it), payment.failed
    # (the buyer may try again on the same page), order.paid, refund.created, ...
    return PaymentEvent(kind=EventKind.IGNORED, payment_ref=payment.get("id") or None, **common)


def _notes(request: CheckoutRequest) -> dict[str, str]:
    return {"order_ref": request.order_ref, "customer_ref": request.customer_ref}


def _notes_of(entity: dict[str, Any]) -> dict[str, Any]:
    notes = entity.get("notes")
    return notes if isinstance(notes, dict) else {}  # Razorpay sends [] for no notes


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _currency(entity: dict[str, Any]) -> str | None:
    currency = entity.get("currency")
    return currency.upper() if isinstance(currency, str) else None


@contextmanager
def _calling(what: str) -> Iterator[None]:
    """Razorpay's refusals, timeouts and 5xx become ProviderError; nothing else is caught."""
    try:
        yield
    except _RAZORPAY_ERRORS as exc:
        log.warning("Razorpay could not %s: %s (%s)", what, exc, type(exc).__name__)
        raise ProviderError() from exc
