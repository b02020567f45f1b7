"""The sandbox provider for development: a local "pay" page, labelled SANDBOX, no real money.

Checkouts go to ``/checkout/sandbox/<session>`` on this site. Paying or cancelling there makes
an event signed like a provider's webhook (HMAC-SHA256 of ``timestamp.payload`` with a key
derived from SECRET_KEY, at most 300 s old) and hands it to ``parse_webhook`` and the same
fulfilment code as Stripe's and Razorpay's; ``/webhooks/sandbox`` accepts the same deliveries.
Refunds and cancellations answer at once with their event (``deliveries`` returns them).
The settings refuse PAYMENT_PROVIDER=sandbox with APP_ENV=production, and the pay page is
refused there as well.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from app.commerce.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    EventKind,
    InvalidWebhook,
    PaymentEvent,
)
from app.commerce.providers.carts import split_cart

SIGNATURE_HEADER = "X-Sandbox-Signature"
TOLERANCE_SECONDS = 300
PAY_PATH = "/checkout/sandbox/"
PERIODS = {"month": 30, "year": 365}


def _ref(prefix: str, *parts: str) -> str:
    return f"{prefix}_" + hashlib.sha256(":".join(parts).encode()).hexdigest()[:24]


class SandboxProvider:
    name = "sandbox"
    label = "Sandbox (no real money)"
    is_sandbox = True

    def __init__(self, signing_secret: str = "") -> None:
        # A key of its own, derived from SECRET_KEY: a sandbox signature signs nothing else.
        base = signing_secret or secrets.token_hex(32)
        self._secret = hmac.new(base.encode(), b"sandbox-webhooks", hashlib.sha256).digest()

    # -- checkout -------------------------------------------------------------------------

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A sandbox session (the same one for the same idempotency key); raises
        UnsupportedCart like the real providers."""
        split_cart(request)
        session_ref = _ref("sbx_cs", request.idempotency_key)
        return CheckoutSession(session_ref=session_ref, redirect_url=PAY_PATH + session_ref)

    # -- deliveries -------------------------------------------------------------------------

    def sign(self, payload: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(self._secret, f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
        return {SIGNATURE_HEADER: f"t={ts},v1={mac}", "Content-Type": "application/json"}

    def delivery(self, kind: EventKind, **fields: Any) -> tuple[bytes, dict[str, str]]:
        """A signed delivery of one event (``fields``: PaymentEvent's optional fields)."""
        body = {
            "id": "sbx_evt_" + secrets.token_hex(12),
            "type": kind.value,
            "created": int(time.time()),
            "data": {
                key: (value.isoformat() if isinstance(value, datetime) else value)
                for key, value in fields.items()
            },
        }
        payload = json.dumps(body, separators=(",", ":")).encode()
        return payload, self.sign(payload)

    def payment_delivery(
        self,
        order_ref: str,
        session_ref: str,
        amount: int,
        currency: str,
        interval: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The buyer paid on the sandbox page."""
        fields: dict[str, Any] = {
            "order_ref": order_ref,
            "session_ref": session_ref,
            "payment_ref": _ref("sbx_pay", session_ref),
            "amount": amount,
            "currency": currency,
        }
        if interval:
            fields["subscription_ref"] = _ref("sbx_sub", session_ref)
            fields["period_end"] = datetime.now(UTC) + timedelta(days=PERIODS[interval])
        return self.delivery(EventKind.PAYMENT_SUCCEEDED, **fields)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """Verify the sandbox signature (and its age) and read the event; raises
        InvalidWebhook."""
        signature = next(
            (v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), ""
        )
        parts = dict(p.split("=", 1) for p in signature.split(",") if "=" in p)
        try:
            ts = int(parts.get("t", ""))
        except ValueError:
            raise InvalidWebhook("The sandbox delivery has no valid signature.") from None
        expected = hmac.new(self._secret, f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise InvalidWebhook("The sandbox signature does not verify.")
        if abs(time.time() - ts) > TOLERANCE_SECONDS:
            raise InvalidWebhook("The sandbox delivery is too old.")
        try:
            body = json.loads(payload)
            kind = EventKind(body["type"])
            data = dict(body["data"])
            created = datetime.fromtimestamp(int(body["created"]), UTC)
            if data.get("period_end"):
                data["period_end"] = datetime.fromisoformat(data["period_end"])
            return PaymentEvent(
                provider=self.name,
                event_ref=str(body["id"]),
                kind=kind,
                created=created,
                raw_type=kind.value,
                **data,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook("The sandbox delivery is not an event.") from exc

    # -- refunds and cancellations -------------------------------------------------------

    def refund(self, payment_ref: str, amount: int, currency: str, idempotency_key: str) -> str:
        if amount < 1:
            raise ValueError(f"a refund of {amount} {currency}")
        return _ref("sbx_re", idempotency_key)

    def refund_delivery(
        self, payment_ref: str, amount: int, currency: str, refund_ref: str
    ) -> tuple[bytes, dict[str, str]]:
        """The event a sandbox refund answers with at once."""
        return self.delivery(
            EventKind.REFUNDED,
            payment_ref=payment_ref,
            amount=amount,
            currency=currency,
            refund_ref=refund_ref,
        )

    def cancel_subscription(self, subscription_ref: str, idempotency_key: str) -> None:
        return None

    def cancel_delivery(self, subscription_ref: str) -> tuple[bytes, dict[str, str]]:
        return self.delivery(
            EventKind.SUBSCRIPTION_CANCELLED,
            subscription_ref=subscription_ref,
            subscription_status="canceled",
        )
