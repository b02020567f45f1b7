"""The marketplace's reports for admins: GMV, platform revenue, refunds, new users, vendors and
listings per day, top products and vendors, over a range (the vendor analytics' ranges).

Every figure is one aggregate query grouped by UTC day (or by product, by store): money from
the ledger (app/commerce/ledger.py) — GMV is what buyers paid (the buyer's ``gross`` rows),
platform revenue the platform's commission less the commission given back by refunds,
refunded what went back to buyers — and counts from the users, stores and products tables.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import case, distinct, func, select

from app.accounts.models import User
from app.catalog.models import Product
from app.charts import bar_chart, line_chart
from app.commerce.ledger import BUYER, PLATFORM
from app.commerce.models import LedgerEntry, OrderLine
from app.extensions import db
from app.vendors.analytics import DateRange, csv_safe
from app.vendors.models import VendorProfile, VendorStatus

TOP = 10


def _utc_day(column: Any) -> Any:
    """``column``'s UTC calendar day as SQL: PostgreSQL's date() follows the session's time
    zone, so the timestamp is moved to UTC first; SQLite stores UTC wall times."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: Any) -> date:
    # SQLite's date() is text, PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _bounds(rng: DateRange) -> tuple[datetime, datetime]:
    start = datetime.combine(rng.first, time.min, tzinfo=UTC)
    return start, datetime.combine(rng.last, time.min, tzinfo=UTC) + timedelta(days=1)


_ledger = LedgerEntry.__table__
_GMV = case(
    ((_ledger.c.account == BUYER) & (_ledger.c.kind == "gross"), -_ledger.c.amount_cents),
    else_=0,
)
_REVENUE = case(
    (
        (_ledger.c.account == PLATFORM) & _ledger.c.kind.in_(("commission", "refund")),
        _ledger.c.amount_cents,
    ),
    else_=0,
)
_REFUNDED = case(
    ((_ledger.c.account == BUYER) & (_ledger.c.kind == "refund"), _ledger.c.amount_cents),
    else_=0,
)
_SALE_TXN = case(
    ((_ledger.c.account == BUYER) & (_ledger.c.kind == "gross"), _ledger.c.txn), else_=None
)


@dataclass(frozen=True)
class ReportDay:
    day: date
    gmv_cents: int  # in the report's currency
    revenue_cents: int
    refunded_cents: int
    new_users: int
    new_vendors: int
    new_listings: int


@dataclass(frozen=True)
class TopRow:
    id: int
    name: str
    sales: int
    gmv_cents: int
    revenue_cents: int


@dataclass
class PlatformReport:
    rng: DateRange
    currency: str  # the currency of the series and top lists: the one with most GMV
    days: list[ReportDay]
    gmv: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    revenue: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)
    top_products: list[TopRow] = field(default_factory=list)
    top_vendors: list[TopRow] = field(default_factory=list)

    @property
    def new_users(self) -> int:
        return sum(d.new_users for d in self.days)

    @property
    def new_vendors(self) -> int:
        return sum(d.new_vendors for d in self.days)

    @property
    def new_listings(self) -> int:
        return sum(d.new_listings for d in self.days)

    def _labels(self) -> list[str]:
        return [d.day.strftime("%d %b") for d in self.days]

    def gmv_chart(self) -> Markup:
        return line_chart(
            list(zip(self._labels(), (d.gmv_cents / 100 for d in self.days), strict=True)),
            f"GMV per day ({self.currency})",
        )

    def revenue_chart(self) -> Markup:
        return bar_chart(
            list(zip(self._labels(), (d.revenue_cents / 100 for d in self.days), strict=True)),
            f"Platform revenue per day ({self.currency})",
        )

    def signups_chart(self) -> Markup:
        return bar_chart(
            list(zip(self._labels(), (d.new_users for d in self.days), strict=True)),
            "New users per day",
        )

    def listings_chart(self) -> Markup:
        return bar_chart(
            list(zip(self._labels(), (d.new_listings for d in self.days), strict=True)),
            "New listings per day",
        )

    def top_products_chart(self) -> Markup:
        return bar_chart(
            [(row.name, row.gmv_cents / 100) for row in self.top_products],
            f"Top products by GMV ({self.currency})",
        )

    def top_vendors_chart(self) -> Markup:
        return bar_chart(
            [(row.name, row.gmv_cents / 100) for row in self.top_vendors],
            f"Top vendors by GMV ({self.currency})",
        )


def _money_by_day(start: datetime, end: datetime) -> list[tuple[date, str, int, int, int]]:
    day = _utc_day(_ledger.c.created_at)
    rows = db.session.execute(
        select(day, _ledger.c.currency, func.sum(_GMV), func.sum(_REVENUE), func.sum(_REFUNDED))
        .where(
            _ledger.c.account.in_((BUYER, PLATFORM)),
            _ledger.c.created_at >= start,
            _ledger.c.created_at < end,
        )
        .group_by(day, _ledger.c.currency)
    ).all()
    return [
        (_as_date(d), currency, int(gmv or 0), int(revenue or 0), int(refunded or 0))
        for d, currency, gmv, revenue, refunded in rows
    ]


def _count_by_day(column: Any, *where: Any) -> dict[date, int]:
    day = _utc_day(column)
    rows = db.session.execute(select(day, func.count()).where(*where).group_by(day)).all()
    return {_as_date(d): int(n) for d, n in rows}


def _top(group: Any, name: Any, join: Any, currency: str, start: datetime, end: datetime):
    lines = OrderLine.__table__
    gmv = func.sum(_GMV)
    rows = db.session.execute(
        select(
            group,
            name,
            func.count(distinct(_SALE_TXN)),
            gmv,
            func.sum(_REVENUE),
        )
        .select_from(_ledger.join(lines, lines.c.id == _ledger.c.order_line_id).join(*join))
        .where(
            _ledger.c.account.in_((BUYER, PLATFORM)),
            _ledger.c.currency == currency,
            _ledger.c.created_at >= start,
            _ledger.c.created_at < end,
        )
        .group_by(group, name)
        .having(gmv > 0)
        .order_by(gmv.desc(), group)
        .limit(TOP)
    ).all()
    return [TopRow(int(i), n, int(s or 0), int(g or 0), int(r or 0)) for i, n, s, g, r in rows]


def platform_report(rng: DateRange) -> PlatformReport:
    """The marketplace's figures over ``rng`` (UTC days): a handful of GROUP BY queries,
    whatever the number of orders."""
    start, end = _bounds(rng)
    money = _money_by_day(start, end)
    report = PlatformReport(rng=rng, currency="USD", days=[])
    for _day, currency, gmv, revenue, refunded in money:
        report.gmv[currency] = report.gmv.get(currency, 0) + gmv
        report.revenue[currency] = report.revenue.get(currency, 0) + revenue
        report.refunded[currency] = report.refunded.get(currency, 0) + refunded
    if report.gmv:
        report.currency = max(sorted(report.gmv), key=lambda c: report.gmv[c])
    per_day = {d: (g, r, f) for d, currency, g, r, f in money if currency == report.currency}
    users = _count_by_day(User.created_at, User.created_at >= start, User.created_at < end)
    vendors = _count_by_day(
        VendorProfile.reviewed_at,
        VendorProfile.status == VendorStatus.APPROVED.value,
        VendorProfile.reviewed_at >= start,
        VendorProfile.reviewed_at < end,
    )
    listings = _count_by_day(
        Product.published_at, Product.published_at >= start, Product.published_at < end
    )
    report.days = [
        ReportDay(
            day,
            *per_day.get(day, (0, 0, 0)),
            users.get(day, 0),
            vendors.get(day, 0),
            listings.get(day, 0),
        )
        for day in rng.each_day()
    ]
    lines, products, stores = (
        OrderLine.__table__,
        Product.__table__,
        VendorProfile.__table__,
    )
    report.top_products = _top(
        products.c.id,
        products.c.title,
        (products, products.c.id == lines.c.product_id),
        report.currency,
        start,
        end,
    )
    report.top_vendors = _top(
        stores.c.id,
        stores.c.store_name,
        (stores, stores.c.id == lines.c.vendor_id),
        report.currency,
        start,
        end,
    )
    return report


def report_csv(report: PlatformReport) -> str:
    """The per-day series, then the top products and vendors, as one CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    currency = report.currency
    writer.writerow(
        [
            "day",
            f"gmv_{currency}_cents",
            f"platform_revenue_{currency}_cents",
            f"refunded_{currency}_cents",
            "new_users",
            "new_vendors",
            "new_listings",
        ]
    )
    for d in report.days:
        writer.writerow(
            [
                d.day.isoformat(),
                d.gmv_cents,
                d.revenue_cents,
                d.refunded_cents,
                d.new_users,
                d.new_vendors,
                d.new_listings,
            ]
        )
    for title, rows in (("product", report.top_products), ("vendor", report.top_vendors)):
        writer.writerow([])
        writer.writerow(
            [
                f"top_{title}_id",
                "name",
                "sales",
                f"gmv_{currency}_cents",
                f"platform_revenue_{currency}_cents",
            ]
        )
        for row in rows:
            writer.writerow(
                [row.id, csv_safe(row.name), row.sales, row.gmv_cents, row.revenue_cents]
            )
    return out.getvalue()
