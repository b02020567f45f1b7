"""`flask vendors aggregate` and `flask vendors payouts`: the nightly analytics and payouts
(run from cron or a scheduler; both are safe to run again)."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from app.admin import services as admin
from app.timeutil import utcnow
from app.vendors import analytics, payouts


@click.group("vendors")
def vendors_group() -> None:
    """Vendor analytics and payouts."""


@vendors_group.command("aggregate")
@click.option("--days", default=2, show_default=True, help="How many days back from today.")
@click.option("--start", "first", default=None, help="First day (ISO date) instead of --days.")
@click.option("--end", "last", default=None, help="Last day (ISO date), default today.")
@with_appcontext
def aggregate_command(days: int, first: str | None, last: str | None) -> None:
    """Recompute the daily analytics (replacing those days' rows)."""
    end = date.fromisoformat(last) if last else utcnow().date()
    start = date.fromisoformat(first) if first else end - timedelta(days=max(1, days) - 1)
    rows = analytics.aggregate_range(start, end)
    click.echo(f"aggregated {start} to {end}: {rows} product-day row(s)")


@vendors_group.command("payouts")
@with_appcontext
def payouts_command() -> None:
    """Create the payouts due and send the Stripe ones."""
    created = payouts.run_payouts(admin.payout_config(current_app.config["APP_CONFIG"]))
    click.echo(f"{len(created)} payout(s) created")
