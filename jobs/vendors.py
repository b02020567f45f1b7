"""Jobs for vendors: the nightly analytics aggregation and payouts."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from app.admin import services as admin
from app.timeutil import utcnow
from app.vendors import analytics, payouts
from jobs import job


@job
def aggregate_day(day: str) -> int:
    """Recompute one day's analytics (an ISO date); safe to run again."""
    return analytics.aggregate_day(date.fromisoformat(day))


@job
def aggregate_range(first: str, last: str) -> int:
    """Recompute every day from ``first`` to ``last`` (ISO dates, inclusive)."""
    return analytics.aggregate_range(date.fromisoformat(first), date.fromisoformat(last))


@job
def aggregate_recent() -> int:
    """Yesterday and today: the worker's hourly chore enqueues this (yesterday settles late:
    views flushed and refunds made after midnight)."""
    today = utcnow().date()
    return analytics.aggregate_range(today - timedelta(days=1), today)


@job
def run_payouts() -> list[int]:
    """Create the payouts due; send the Stripe ones (see app/vendors/payouts.py)."""
    return payouts.run_payouts(admin.payout_config(current_app.config["APP_CONFIG"]))


@job
def send_payout(payout_id: int) -> str:
    """Retry a pending Stripe payout (the same idempotency key: never twice)."""
    return payouts.send_stripe_payout(payout_id, current_app.config["APP_CONFIG"]).status
