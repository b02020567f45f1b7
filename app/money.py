"""Money as shoppers read it: integer minor units plus a currency, and a listing's price.

The templates' ``money`` filter and ``price_label`` global are these two functions; nothing
else formats an amount (pages, fragments, the moderation diff, emails).
"""

from __future__ import annotations

from typing import Protocol

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


class Priced(Protocol):
    """What ``price_label`` reads: a product, or anything carrying the same price fields."""

    price_type: str
    currency: str
    price_cents: int
    monthly_price_cents: int | None
    yearly_price_cents: int | None


def format_money(cents: int | None, currency: str = "USD") -> str:
    """1500, "USD" -> "$15.00"; -3500 -> "-$35.00" (a refund, a payout's deduction); a
    currency without a symbol here -> "15.00 CHF"."""
    cents = cents or 0
    sign = "-" if cents < 0 else ""
    amount = f"{abs(cents) / 100:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def price_label(item: Priced) -> str:
    """ "Free", "$19.00", "$12.00/month or $120.00/year", "$90.00/year" (yearly only)."""
    if item.price_type == "one_time":
        return format_money(item.price_cents, item.currency)
    if item.price_type == "subscription":
        parts = []
        if item.monthly_price_cents:
            parts.append(f"{format_money(item.monthly_price_cents, item.currency)}/month")
        if item.yearly_price_cents:
            parts.append(f"{format_money(item.yearly_price_cents, item.currency)}/year")
        return " or ".join(parts) or "Subscription"
    return "Free"
