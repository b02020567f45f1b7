"""Vendor analytics: the daily aggregates against hand-computed numbers, the dashboard, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from app.catalog.models import Product
from app.extensions import db
from app.timeutil import utcnow
from app.vendors import analytics
from app.vendors.models import ProductDailySource, ProductDailyStat
from tests.catalog.factories import create_product
from tests.vendors.factories import (
    add_download,
    add_search_click,
    add_views,
    at,
    create_sale,
    days_ago,
    refund_line,
    vendor_id_of,
)


def _seed(app, make_user, vendor_user=None):
    """Two listings of one store with views, sales, a refund and search clicks.

    Day D (3 days ago), listing A: visitors v1 and v2 from network n1, v3 from n2 (3 views,
    2 networks), two of them referred by news.example; two sales of $10.00 at 20 %
    commission (gross $20.00, net $16.00); the query "crm sync" clicked twice, "email" once.
    Listing B: one view. Day D+1, listing A: one sale ($10.00, net $8.00), the refund of
    one of D's sales and two downloads (listing B's download is just after D+1).
    """
    maker = (lambda role="vendor", **kw: vendor_user) if vendor_user else make_user
    a = create_product(app, maker, "Listing A")
    b = create_product(app, maker, "Listing B")
    vendor_id = vendor_id_of(app, a)
    with app.app_context():
        db.session.get(Product, b).vendor_id = vendor_id
        db.session.commit()
    d = days_ago(3)
    d1 = days_ago(2)
    buyer = make_user("customer")
    add_views(app, a, d, [("v1", "n1"), ("v2", "n1")], referrer="news.example")
    add_views(app, a, d, [("v3", "n2")])
    add_views(app, b, d, [("v9", "")])
    first = create_sale(app, buyer.id, a, at(d, 10))
    create_sale(app, buyer.id, a, at(d, 23))
    create_sale(app, buyer.id, a, at(d1, 9))
    refund_line(app, first, at(d1, 15))
    add_search_click(app, a, "crm sync", at(d, 8))
    add_search_click(app, a, "crm sync", at(d, 9))
    add_search_click(app, a, "email", at(d, 11))
    add_download(app, first, a, at(d1, 10))
    add_download(app, first, a, at(d1, 11))
    add_download(app, first, b, at(d1 + timedelta(days=1), 0))  # the day after: not D+1
    return vendor_id, a, b, d, d1


def _rows(app, day):
    with app.app_context():
        rows = db.session.scalars(
            select(ProductDailyStat)
            .where(ProductDailyStat.day == day)
            .order_by(ProductDailyStat.product_id)
        ).all()
        return [
            (
                r.product_id,
                r.views,
                r.visitors,
                r.sales,
                r.gross_cents,
                r.net_cents,
                r.refunds,
                r.refunded_cents,
                r.downloads,
            )
            for r in rows
        ]


def test_a_day_matches_the_hand_computed_numbers(app, make_user):
    vendor_id, a, b, d, d1 = _seed(app, make_user)
    with app.app_context():
        assert analytics.aggregate_day(d) == 2
        assert analytics.aggregate_day(d1) == 1
    assert _rows(app, d) == [(a, 3, 2, 2, 2000, 1600, 0, 0, 0), (b, 1, 1, 0, 0, 0, 0, 0, 0)]
    assert _rows(app, d1) == [(a, 0, 0, 1, 1000, 800, 1, 1000, 2)]
    with app.app_context():
        sources = db.session.execute(
            select(ProductDailySource.kind, ProductDailySource.value, ProductDailySource.count)
            .where(ProductDailySource.day == d)
            .order_by(ProductDailySource.kind, ProductDailySource.value)
        ).all()
    assert sources == [
        ("query", "crm sync", 2),
        ("query", "email", 1),
        ("referrer", "news.example", 2),
    ]


def test_recomputing_a_day_replaces_it(app, make_user):
    vendor_id, a, b, d, _ = _seed(app, make_user)
    with app.app_context():
        analytics.aggregate_day(d)
        analytics.aggregate_day(d)
    assert _rows(app, d)[0] == (a, 3, 2, 2, 2000, 1600, 0, 0, 0)
    add_views(app, a, d, [("v4", "n3")], referrer="news.example")
    with app.app_context():
        analytics.aggregate_day(d)
        assert analytics.top_sources(vendor_id, a, analytics.DateRange("7", d, d), "referrer") == [
            ("news.example", 3)
        ]
    assert _rows(app, d)[0] == (a, 4, 3, 2, 2000, 1600, 0, 0, 0)


def test_range_totals_conversion_and_refund_rate(app, make_user):
    vendor_id, a, b, d, d1 = _seed(app, make_user)
    # A sale 10 days ago falls in the previous 7-day period.
    buyer = make_user("customer")
    create_sale(app, buyer.id, a, at(days_ago(10)), price_cents=5000)
    with app.app_context():
        analytics.aggregate_range(days_ago(12), utcnow().date())
        rng = analytics.parse_range({"range": "7"}, utcnow().date())
        totals = analytics.totals(vendor_id, None, rng)
        assert (totals.views, totals.visitors, totals.sales, totals.refunds) == (4, 3, 3, 1)
        assert totals.net == {"USD": 2400}
        assert totals.conversion == 1.0  # 3 sales / 3 visitors
        assert totals.refund_rate == 1 / 3
        previous = analytics.totals(vendor_id, None, rng.previous)
        assert (previous.sales, previous.net) == (1, {"USD": 4000})
        only_b = analytics.totals(vendor_id, b, rng)
        assert (only_b.views, only_b.sales, only_b.conversion) == (1, 0, 0.0)
        points = analytics.series(vendor_id, None, rng)
        assert len(points) == 7
        assert [(p.day, p.views, p.sales, p.net_cents) for p in points if p.views or p.sales] == [
            (d, 4, 2, 1600),
            (d1, 0, 1, 800),
        ]
        assert analytics.top_sources(vendor_id, None, rng, "query") == [
            ("crm sync", 2),
            ("email", 1),
        ]
        assert [row.product_id for row in analytics.top_listings(vendor_id, rng)] == [a, b]


def test_ranges():
    today = utcnow().date()
    rng = analytics.parse_range({"range": "90"}, today)
    assert (rng.days, rng.last, rng.previous.days) == (90, today, 90)
    assert (rng.first - rng.previous.last).days == 1
    assert analytics.parse_range({"range": "nonsense"}, today).days == 30
    custom = analytics.parse_range(
        {"range": "custom", "start": "2026-01-01", "end": "2026-01-10"}, today
    )
    assert (custom.days, custom.previous.first.isoformat()) == (10, "2025-12-22")
    for bad in (
        {"start": "2026-01-10", "end": "2026-01-01"},
        {"start": "x", "end": "2026-01-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
    ):
        try:
            analytics.parse_range({"range": "custom", **bad}, today)
        except analytics.InvalidRange:
            continue
        raise AssertionError(f"{bad} accepted")


def test_dashboard_and_its_fragment(app, client, make_user, login_as):
    user = login_as("vendor")
    vendor_id, a, b, d, d1 = _seed(app, make_user, vendor_user=user)
    with app.app_context():
        analytics.aggregate_range(d, d1)
    page = client.get("/vendor/analytics?range=7")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<html" in body and 'id="analytics"' in body and "<svg" in body
    assert "news.example" in body and "crm sync" in body and "$24.00" in body
    assert "100.0 %" in body  # conversion: 3 sales from 3 visitors
    fragment = client.get("/vendor/analytics?range=30", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and text.lstrip().startswith('<section id="analytics"')
    assert "HX-Request" in fragment.headers.get("Vary", "")
    bad = client.get("/vendor/analytics?range=custom&start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 422 and "Choose a start date" in bad.get_data(as_text=True)
    listing = client.get(f"/vendor/analytics/{a}?range=7")
    assert listing.status_code == 200 and "Listing A: analytics" in listing.get_data(as_text=True)


def test_csv_exports(app, client, make_user, login_as):
    user = login_as("vendor")
    vendor_id, a, b, d, d1 = _seed(app, make_user, vendor_user=user)
    with app.app_context():
        analytics.aggregate_range(d, d1)
    daily = client.get(f"/vendor/analytics/daily.csv?range=7&product={a}")
    assert daily.status_code == 200 and daily.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(daily.get_data(as_text=True))))
    assert rows[0][0] == "day" and len(rows) == 8
    assert [d.isoformat(), "3", "2", "2", "1600"] in rows
    sales = client.get("/vendor/analytics/sales.csv?range=7")
    rows = list(csv.reader(io.StringIO(sales.get_data(as_text=True))))
    assert len(rows) == 4  # header and three lines
    assert {row[7] for row in rows[1:]} == {"800"}
    assert rows[1][8] == "1000"  # the first sale was refunded


def test_another_vendors_listing_is_not_found(app, client, make_user, login_as):
    login_as("vendor")
    other = create_product(app, make_user, "Not yours")
    assert client.get(f"/vendor/analytics/{other}").status_code == 404
    assert client.get(f"/vendor/analytics/daily.csv?product={other}").status_code == 404
    assert client.get("/vendor/analytics/sales.csv?product=abc").status_code == 404


def test_a_referrer_is_kept_as_its_host(app, client, make_user):
    from app.catalog import pageviews
    from tests.catalog.factories import slug_of

    product = create_product(app, make_user, "Referred")
    client.get(
        f"/products/{slug_of(app, product)}",
        headers={"Referer": "https://News.Example:8443/item?id=1"},
    )
    with app.app_context():
        pageviews.flush()
        from app.catalog.models import ProductView

        assert db.session.scalars(select(ProductView.referrer)).all() == ["news.example"]
    assert pageviews.referrer_host("http://localhost/search?q=x", "localhost") == ""
    assert pageviews.referrer_host("javascript:alert(1)", "localhost") == ""
    assert pageviews.referrer_host(None, "localhost") == ""


def test_the_aggregate_command_and_job(app, make_user):
    from jobs import vendors as vendor_jobs

    vendor_id, a, b, d, d1 = _seed(app, make_user)
    result = app.test_cli_runner().invoke(
        args=["vendors", "aggregate", "--start", d.isoformat(), "--end", d1.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "3 product-day row(s)" in result.output
    with app.app_context():
        assert vendor_jobs.aggregate_day(d.isoformat()) == 2
    assert _rows(app, d)[0] == (a, 3, 2, 2, 2000, 1600, 0, 0, 0)
