"""The analytics demo: 90 days of figures for the demo vendor, a payout sent and a balance
pending, and nothing doubled by a second run."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.timeutil import utcnow
from app.vendors import analytics, payouts
from app.vendors.models import Payout, ProductDailyStat
from demo.analytics import DAYS, seed_analytics


def test_the_analytics_demo(app):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "sales over 90 days" in result.output, result.output
        (payout,) = db.session.scalars(select(Payout)).all()
        assert payout.status == "sent" and payout.amount_cents > 0
        (balance,) = payouts.balances(payout.vendor_id, utcnow(), 14)
        assert balance.total_cents > 0 and balance.held_cents > 0
        days = db.session.scalar(
            select(func.count(func.distinct(ProductDailyStat.day))).where(
                ProductDailyStat.vendor_id == payout.vendor_id
            )
        )
        assert days == DAYS
        rng = analytics.parse_range({"range": "90"}, utcnow().date())
        totals = analytics.totals(payout.vendor_id, None, rng)
        assert totals.views > 1000 and totals.sales > 0 and totals.net
        stats_rows = db.session.scalar(select(func.count()).select_from(ProductDailyStat))
        assert list(seed_analytics()) == ["analytics demo: exists"]
        assert db.session.scalar(select(func.count()).select_from(ProductDailyStat)) == stats_rows
