"""STUB from the payments branch, replaced by the commerce branch's sandbox provider.

It exists so that the default set-up (no payment keys) can start on this branch: the
registry builds ``SandboxProvider()`` for PAYMENT_PROVIDER=sandbox. Every call refuses.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.commerce.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    InvalidWebhook,
    PaymentEvent,
    ProviderError,
)


class SandboxProvider:
    name = "sandbox"
    label = "Sandbox (no real money)"
    is_sandbox = True

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        raise ProviderError("The sandbox provider is not built on this branch.")

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        raise InvalidWebhook("The sandbox provider is not built on this branch.")

    def refund(self, payment_ref: str, amount: int, currency: str, idempotency_key: str) -> str:
        raise ProviderError("The sandbox provider is not built on this branch.")

    def cancel_subscription(self, subscription_ref: str, idempotency_key: str) -> None:
        raise ProviderError("The sandbox provider is not built on this branch.")
