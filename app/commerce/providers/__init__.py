"""The payment providers the settings name, built once per app and kept in its extensions.

``app.extensions["payments"]`` is a ``Payments``: every configured provider by name (webhooks
for each are accepted) and the one that takes checkouts (PAYMENT_PROVIDER).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

from flask import Flask, current_app

from app.commerce.providers.base import PaymentProvider
from app.config import Config, PaymentSettings
from app.errors import NotFound


@dataclass(frozen=True)
class Payments:
    providers: Mapping[str, PaymentProvider]
    checkout_name: str

    @property
    def checkout(self) -> PaymentProvider:
        """The provider new checkouts go to."""
        return self.providers[self.checkout_name]

    def provider(self, name: str) -> PaymentProvider:
        """A configured provider by name (a webhook's); raises NotFound for any other name, so
        a webhook for a provider this site does not use is a 404."""
        try:
            return self.providers[name]
        except KeyError:
            raise NotFound(f"No {name!r} payment provider is configured here.") from None


def build_providers(config: Config) -> dict[str, PaymentProvider]:
    """The providers ``config`` sets up (each imported only when configured)."""
    settings = config.payments
    providers: dict[str, PaymentProvider] = {}
    if settings.provider == "sandbox":
        from app.commerce.providers.sandbox import SandboxProvider

        providers["sandbox"] = SandboxProvider(config.secret_key)
    if settings.has_stripe:
        from app.commerce.providers.stripe import StripeProvider

        assert settings.stripe_secret_key and settings.stripe_webhook_secret  # Config checked
        providers["stripe"] = StripeProvider(
            settings.stripe_secret_key,
            settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            timeout=settings.timeout_seconds,
        )
    if settings.has_razorpay:
        from app.commerce.providers.razorpay import RazorpayProvider

        assert settings.razorpay_key_id and settings.razorpay_key_secret  # Config checked
        assert settings.razorpay_webhook_secret
        providers["razorpay"] = RazorpayProvider(
            settings.razorpay_key_id,
            settings.razorpay_key_secret,
            settings.razorpay_webhook_secret,
            api_base=settings.razorpay_api_base,
            timeout=settings.timeout_seconds,
        )
    return providers


# Where each provider's hosted checkout lives (the checkout form's redirect goes there).
CHECKOUT_ORIGINS = {
    "stripe": ("https://checkout.stripe.com",),
    "razorpay": ("https://rzp.io", "https://razorpay.com", "https://*.razorpay.com"),
    "sandbox": (),  # this site's own pay page
}


def checkout_origins(settings: PaymentSettings) -> tuple[str, ...]:
    """The origins the checkout provider's pages are served from: its own, or (a fake's
    API_BASE, in tests) the origin of that address."""
    name = settings.provider
    base = {"stripe": settings.stripe_api_base, "razorpay": settings.razorpay_api_base}.get(name)
    if base:
        parts = urlsplit(base)
        return (f"{parts.scheme}://{parts.netloc}",)
    return CHECKOUT_ORIGINS.get(name, ())


def init_app(app: Flask) -> None:
    config: Config = app.config["APP_CONFIG"]
    providers = build_providers(config)
    app.extensions["payments"] = Payments(
        providers=MappingProxyType(providers), checkout_name=config.payments.provider
    )


def current_payments() -> Payments:
    """The current app's providers."""
    return current_app.extensions["payments"]
