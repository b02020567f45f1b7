"""The payment-provider interface: what checkout, webhooks and refunds need from a provider.

Three implementations, picked by configuration: Stripe, Razorpay and the sandbox (development
only). The commerce domain sees only this module's types: it builds a ``CheckoutRequest``,
sends the buyer to ``CheckoutSession.redirect_url``, and fulfils orders from the
``PaymentEvent``s that ``parse_webhook`` turns raw, signature-checked deliveries into.
Amounts are integer minor units with an ISO 4217 currency code; times are aware UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.errors import DomainError


class ProviderError(DomainError):
    """The provider refused or did not answer; nothing was charged by this call."""

    status = 502
    message = "The payment provider did not answer. Nothing was charged; please try again."


class InvalidWebhook(DomainError):
    """A delivery whose signature, timestamp or body does not check out: refused, not stored."""

    status = 400
    message = "That webhook delivery could not be verified."


@dataclass(frozen=True)
class CheckoutItem:
    line_ref: str  # our order line's reference, e.g. "line_42"
    product_ref: str  # our product id as a string (metadata; price sync for subscriptions)
    title: str
    unit_amount: int  # what the buyer pays for this line, discount applied, minor units
    currency: str  # ISO 4217, upper case
    interval: str | None = None  # None: a one-time payment; "month" or "year": a subscription


@dataclass(frozen=True)
class CheckoutRequest:
    order_ref: str  # our order's reference; it comes back on every event about the order
    customer_ref: str  # our user id as a string
    customer_email: str
    items: tuple[CheckoutItem, ...]
    success_url: str
    cancel_url: str
    idempotency_key: str  # deterministic per order and attempt: a retried call creates nothing new


@dataclass(frozen=True)
class CheckoutSession:
    session_ref: str  # the provider's id of this checkout (Stripe Checkout Session, ...)
    redirect_url: str  # where the buyer's browser goes to pay


class EventKind(enum.StrEnum):
    """What a provider's event means to us; one provider event maps to exactly one kind."""

    PAYMENT_SUCCEEDED = "payment.succeeded"  # the order is paid: fulfil it
    PAYMENT_PENDING = "payment.pending"  # completed checkout, money not there yet (async methods)
    PAYMENT_FAILED = "payment.failed"  # an async payment failed: the order is not paid
    RENEWAL_PAID = "subscription.renewal_paid"  # a later period of a subscription is paid
    RENEWAL_FAILED = "subscription.renewal_failed"  # a renewal charge failed
    SUBSCRIPTION_UPDATED = "subscription.updated"  # status or period changed
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"  # ended: its licence ends with it
    REFUNDED = "refund.succeeded"  # money went back to the buyer (this refund's amount)
    IGNORED = "ignored"  # verified, but nothing we act on (stored once all the same)


@dataclass(frozen=True)
class PaymentEvent:
    provider: str  # "stripe", "razorpay" or "sandbox"
    event_ref: str  # the provider's event id: stored once under a unique key (duplicates)
    kind: EventKind
    created: datetime  # when the provider created the event (orders events arriving late)
    raw_type: str = ""  # the provider's own type ("checkout.session.completed"), for logs
    order_ref: str | None = None
    session_ref: str | None = None
    payment_ref: str | None = None  # the payment to refund later (Stripe PaymentIntent, ...)
    subscription_ref: str | None = None
    amount: int | None = None  # paid (payments, renewals) or refunded (this refund), minor units
    currency: str | None = None
    fee: int | None = None  # the provider's fee when the event tells it
    refund_ref: str | None = None
    period_end: datetime | None = None  # a subscription's current period end
    subscription_status: str | None = None  # "active", "past_due", "canceled", ...


class PaymentProvider(Protocol):
    name: str  # "stripe", "razorpay" or "sandbox"
    label: str  # shown to buyers: "Stripe", "Razorpay", "Sandbox (no real money)"
    is_sandbox: bool

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Start a hosted checkout for ``request``; raises ProviderError."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify a delivery's signature on the raw body and translate it; raises
        InvalidWebhook (bad signature, stale timestamp, malformed body)."""
        ...

    def refund(self, payment_ref: str, amount: int, currency: str, idempotency_key: str) -> str:
        """Refund ``amount`` of a payment; returns the refund's reference. Raises
        ProviderError. The money moves when the provider says so (a REFUNDED event)."""
        ...

    def cancel_subscription(self, subscription_ref: str, idempotency_key: str) -> None:
        """End a subscription at once; raises ProviderError."""
        ...
