"""What every provider checks in a checkout request before calling out; idempotency keys."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from app.commerce.providers.base import CheckoutItem, CheckoutRequest, ProviderError

INTERVALS = ("month", "year")
_REF = re.compile(r"[A-Za-z0-9_-]{1,64}")


class UnsupportedCart(ProviderError):
    """A cart this provider cannot take in one checkout (refused before any call: nothing was
    created or charged). The message says what to change."""

    status = 422
    message = "This cart cannot be paid in one checkout."


@dataclass(frozen=True)
class Cart:
    one_time: tuple[CheckoutItem, ...]
    recurring: tuple[CheckoutItem, ...]
    currency: str
    interval: str | None  # the subscriptions' billing interval, None without subscriptions

    @property
    def one_time_total(self) -> int:
        return sum(item.unit_amount for item in self.one_time)


def split_cart(request: CheckoutRequest) -> Cart:
    """Check ``request`` and split its items into one-time and subscription lines.

    Raises UnsupportedCart for an empty cart, several currencies or several billing intervals;
    ValueError for what only a bug would send (a negative amount, an unknown interval, a
    product reference that is not an id)."""
    if not request.items:
        raise UnsupportedCart("There is nothing to pay for in this checkout.")
    for item in request.items:
        if item.unit_amount < 0:
            raise ValueError(f"{item.line_ref}: a negative amount ({item.unit_amount})")
        if item.interval is not None and item.interval not in INTERVALS:
            raise ValueError(f"{item.line_ref}: unknown interval {item.interval!r}")
        if not _REF.fullmatch(item.product_ref):
            raise ValueError(f"{item.line_ref}: product_ref {item.product_ref!r} is not an id")
    currencies = {item.currency.upper() for item in request.items}
    if len(currencies) > 1:
        raise UnsupportedCart(
            f"One checkout takes one currency; this cart has {', '.join(sorted(currencies))}."
        )
    intervals = {item.interval for item in request.items if item.interval}
    if len(intervals) > 1:
        raise UnsupportedCart(
            "Monthly and yearly subscriptions are billed separately: check out one of them, "
            "then the other."
        )
    return Cart(
        one_time=tuple(item for item in request.items if item.interval is None),
        recurring=tuple(item for item in request.items if item.interval is not None),
        currency=currencies.pop(),
        interval=intervals.pop() if intervals else None,
    )


def call_key(*parts: str) -> str:
    """A deterministic key for one call: the parts joined (the request's key, the call, the
    object), hashed when longer than providers accept (Stripe: 255 characters)."""
    key = ":".join(parts)
    if len(key) <= 255:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
