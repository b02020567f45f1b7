"""Amounts as shoppers, vendors and admins read them (app/money.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.money import format_money, price_label


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (1500, "USD", "$15.00"),
        (0, "USD", "$0.00"),
        (None, "EUR", "€0.00"),
        (123456789, "GBP", "£1,234,567.89"),
        (-3500, "USD", "-$35.00"),
        (-1, "EUR", "-€0.01"),
        (1500, "CHF", "15.00 CHF"),
        (-150000, "CHF", "-1,500.00 CHF"),
    ],
)
def test_amounts(cents, currency, shown):
    assert format_money(cents, currency) == shown


def _priced(price_type, cents=0, monthly=None, yearly=None):
    return SimpleNamespace(
        price_type=price_type,
        currency="USD",
        price_cents=cents,
        monthly_price_cents=monthly,
        yearly_price_cents=yearly,
    )


def test_price_labels():
    assert price_label(_priced("free")) == "Free"
    assert price_label(_priced("one_time", 1900)) == "$19.00"
    assert price_label(_priced("subscription", monthly=1200, yearly=12000)) == (
        "$12.00/month or $120.00/year"
    )
    assert price_label(_priced("subscription", yearly=9000)) == "$90.00/year"
    assert price_label(_priced("subscription")) == "Subscription"
