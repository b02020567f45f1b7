"""Admin reports: GMV, platform revenue, refunds, new users, vendors and listings per day and
the top products and vendors, against numbers worked out by hand from seeded orders."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.admin import reports
from app.extensions import db
from app.vendors.analytics import DateRange
from app.vendors.models import VendorProfile
from tests.catalog.factories import create_product
from tests.vendors.factories import at, create_sale, days_ago, refund_line, vendor_id_of


def _seed(app, make_user):
    """Three days ago: product A sells for 10.00 at 20% and a EUR product for 7.00 at 20%;
    yesterday: A sells again (refunded the same day) and B sells for 25.00 at 10%; forty days
    ago (outside the week): a 99.99 sale of B. Two accounts and one store join three days ago,
    B is first published yesterday."""
    d3, d1 = days_ago(3), days_ago(1)
    a = create_product(app, make_user, "Alpha flow", store_name="Alpha store")
    b = create_product(app, make_user, "Beta flow", store_name="Beta store", published_at=at(d1, 9))
    eur = create_product(app, make_user, "Euro flow", currency="EUR", published_at=at(d3))
    buyer = make_user("customer")
    create_sale(app, buyer.id, a, at(d3, 10), 1000, 2000)
    create_sale(app, buyer.id, eur, at(d3, 11), 700, 2000, currency="EUR")
    refunded = create_sale(app, buyer.id, a, at(d1, 8), 1000, 2000)
    refund_line(app, refunded, at(d1, 20))
    create_sale(app, buyer.id, b, at(d1, 23), 2500, 1000)
    create_sale(app, buyer.id, b, at(days_ago(40)), 9999, 1000)
    make_user(created_at=at(d3, 1))
    make_user(created_at=at(d3, 23))
    with app.app_context():
        store = db.session.get(VendorProfile, vendor_id_of(app, b))
        store.reviewed_at = at(d3, 5)
        db.session.commit()
    return a, b, d3, d1


def _week() -> DateRange:
    return DateRange("7", days_ago(6), days_ago(0))


def test_the_report_matches_the_seeded_orders(app, make_user):
    a, b, d3, d1 = _seed(app, make_user)
    with app.app_context():
        report = reports.platform_report(_week())
        vendor_a, vendor_b = vendor_id_of(app, a), vendor_id_of(app, b)
    assert report.currency == "USD"
    # GMV 10 + 10 + 25; revenue 2 + (2 - 2 refunded) + 2.50; refunded 10.
    assert (report.gmv, report.revenue, report.refunded) == (
        {"USD": 4500, "EUR": 700},
        {"USD": 450, "EUR": 140},
        {"USD": 1000, "EUR": 0},
    )
    days = {d.day: d for d in report.days}
    assert len(report.days) == 7 and set(days) == set(_week().each_day())
    assert (days[d3].gmv_cents, days[d3].revenue_cents, days[d3].refunded_cents) == (1000, 200, 0)
    assert (days[d1].gmv_cents, days[d1].revenue_cents, days[d1].refunded_cents) == (
        3500,
        250,
        1000,
    )
    assert sum(d.gmv_cents for d in report.days) == 4500
    assert days[d3].new_users == 2 and days[d3].new_vendors == 1
    assert days[d1].new_listings == 1 and days[d3].new_listings == 1
    # Everyone else (the stores' owners, the buyer) joined today; the other listings too.
    assert report.new_vendors == 1
    assert [(r.id, r.sales, r.gmv_cents, r.revenue_cents) for r in report.top_products] == [
        (b, 1, 2500, 250),
        (a, 2, 2000, 200),
    ]
    assert [(r.id, r.name, r.gmv_cents) for r in report.top_vendors] == [
        (vendor_b, "Beta store", 2500),
        (vendor_a, "Alpha store", 2000),
    ]


def test_a_range_leaves_out_what_is_outside_it(app, make_user):
    _seed(app, make_user)
    old = days_ago(40)
    with app.app_context():
        report = reports.platform_report(DateRange("custom", old, old))
        nothing = reports.platform_report(DateRange("custom", days_ago(30), days_ago(20)))
    assert report.gmv == {"USD": 9999} and report.revenue == {"USD": 999}
    assert [r.name for r in report.top_products] == ["Beta flow"]
    assert nothing.gmv == {} and nothing.top_products == [] and nothing.currency == "USD"
    assert all(d.gmv_cents == 0 for d in nothing.days)


def test_the_page_charts_and_tables_and_the_csv(app, client, login_as, make_user):
    a, b, d3, d1 = _seed(app, make_user)
    login_as("admin")
    page = client.get("/admin/reports?range=7")
    assert page.status_code == 200
    text = page.text
    assert text.count('<svg class="chart"') == 6
    assert "$45.00" in text and "$4.50" in text and "Beta flow" in text and "Beta store" in text
    assert 'aria-current="page">Reports' in text
    fragment = client.get("/admin/reports?range=30", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="reports"')
    bad = client.get("/admin/reports?range=custom&start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 422 and "start date" in bad.text

    start, end = days_ago(6).isoformat(), days_ago(0).isoformat()
    export = client.get(f"/admin/reports.csv?range=custom&start={start}&end={end}")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert f"marketplace-{start}-{end}.csv" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:4] == [
        "day",
        "gmv_USD_cents",
        "platform_revenue_USD_cents",
        "refunded_USD_cents",
    ]
    by_day = {row[0]: row for row in rows[1:8]}
    assert by_day[d1.isoformat()][1:4] == ["3500", "250", "1000"]
    assert by_day[d3.isoformat()][1:7] == ["1000", "200", "0", "2", "1", "1"]
    top = rows[rows.index([]) + 2 :]
    assert top[:2] == [
        [str(b), "Beta flow", "1", "2500", "250"],
        [str(a), "Alpha flow", "2", "2000", "200"],
    ]


def test_store_names_cannot_run_as_spreadsheet_formulas(app, make_user):
    product = create_product(app, make_user, "=HYPERLINK(1)", store_name="@evil")
    create_sale(app, make_user().id, product, at(days_ago(1)))
    with app.app_context():
        text = reports.report_csv(reports.platform_report(_week()))
        assert (
            db.session.scalar(
                select(VendorProfile.store_name).where(
                    VendorProfile.id == vendor_id_of(app, product)
                )
            )
            == "@evil"
        )
    assert "'=HYPERLINK(1)" in text and "'@evil" in text
