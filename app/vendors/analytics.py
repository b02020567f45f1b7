"""Vendor analytics: daily aggregates computed with set-based SQL, and the dashboard's reads.

``aggregate_day`` replaces one day's rows of ``product_daily_stats`` and
``product_daily_sources`` with one INSERT ... SELECT ... GROUP BY each (page views, paid order
lines, the ledger's vendor_net rows, refunds; referrer hosts and clicked search queries), then
rolls them up per store into ``vendor_daily_stats`` and ``vendor_daily_sources``, so a day can
be recomputed at any time. The dashboard reads only these tables: a store's 90 days are at
most 90 rows per currency, whatever its number of listings.

Views and visitors: a product page counts once per visitor (account or anonymous network) per
day (app/catalog/pageviews.py); ``visitors`` counts the distinct networks among them. Both
keys are daily hashes, so a range's visitors are the sum of its days.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    func,
    literal,
    select,
    union_all,
)

from app.catalog.models import Product, ProductStatus, ProductView
from app.charts import bar_chart, line_chart
from app.commerce.models import LedgerEntry, LineKind, Order, OrderLine, OrderStatus
from app.downloads.models import DownloadLog
from app.errors import DomainError
from app.extensions import db
from app.search.models import SearchClick, SearchQuery
from app.vendors.models import (
    ProductDailySource,
    ProductDailyStat,
    VendorDailySource,
    VendorDailyStat,
)

RANGES = ("7", "30", "90")
MAX_CUSTOM_DAYS = 366
TOP = 10
PAID = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.REFUNDED.value)


class InvalidRange(DomainError):
    status = 422
    message = "Choose a start date on or before the end date, at most a year apart."


# --- aggregation ----------------------------------------------------------------------------


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _zero(name: str, type_=Integer):
    return cast(literal(0), type_).label(name)


def _downloads(start: datetime, end: datetime):
    """Downloads per product between ``start`` and ``end``, from the download log."""
    log = DownloadLog.__table__
    return (
        select(
            log.c.product_id,
            *(_zero(name, BigInteger) for name in ("views", "visitors", "sales", "gross", "net")),
            _zero("refunds", BigInteger),
            _zero("refunded", BigInteger),
            cast(func.count(), BigInteger),
        )
        .where(log.c.created_at >= start, log.c.created_at < end)
        .group_by(log.c.product_id)
    )


def aggregate_day(day: date) -> int:
    """Recompute ``day``'s aggregates (replacing what was there) and commit; return how many
    product rows it wrote."""
    start, end = _bounds(day)
    pv, ol, orders, ledger = (
        ProductView.__table__,
        OrderLine.__table__,
        Order.__table__,
        LedgerEntry.__table__,
    )
    network = case((pv.c.address == "", pv.c.visitor), else_=pv.c.address)
    views = (
        select(
            pv.c.product_id.label("product_id"),
            cast(func.count(), BigInteger).label("views"),
            cast(func.count(distinct(network)), BigInteger).label("visitors"),
            _zero("sales", BigInteger),
            _zero("gross", BigInteger),
            _zero("net", BigInteger),
            _zero("refunds", BigInteger),
            _zero("refunded", BigInteger),
            _zero("downloads", BigInteger),
        )
        .where(pv.c.day == day)
        .group_by(pv.c.product_id)
    )
    sales = (
        select(
            ol.c.product_id,
            _zero("views", BigInteger),
            _zero("visitors", BigInteger),
            cast(func.count(), BigInteger),
            cast(func.sum(ol.c.price_cents), BigInteger),
            _zero("net", BigInteger),
            _zero("refunds", BigInteger),
            _zero("refunded", BigInteger),
            _zero("downloads", BigInteger),
        )
        .select_from(ol.join(orders, orders.c.id == ol.c.order_id))
        .where(
            orders.c.paid_at >= start,
            orders.c.paid_at < end,
            orders.c.status.in_(PAID),
            ol.c.kind != LineKind.FREE.value,
        )
        .group_by(ol.c.product_id)
    )
    net = (
        select(
            ol.c.product_id,
            _zero("views", BigInteger),
            _zero("visitors", BigInteger),
            _zero("sales", BigInteger),
            _zero("gross", BigInteger),
            cast(func.sum(ledger.c.amount_cents), BigInteger),
            _zero("refunds", BigInteger),
            _zero("refunded", BigInteger),
            _zero("downloads", BigInteger),
        )
        .select_from(ledger.join(ol, ol.c.id == ledger.c.order_line_id))
        .where(
            ledger.c.kind == "vendor_net",
            ledger.c.account.like("vendor:%"),
            ledger.c.created_at >= start,
            ledger.c.created_at < end,
        )
        .group_by(ol.c.product_id)
    )
    refunds = (
        select(
            ol.c.product_id,
            _zero("views", BigInteger),
            _zero("visitors", BigInteger),
            _zero("sales", BigInteger),
            _zero("gross", BigInteger),
            _zero("net", BigInteger),
            cast(func.count(), BigInteger),
            cast(func.sum(ol.c.refunded_cents), BigInteger),
            _zero("downloads", BigInteger),
        )
        .where(ol.c.refunded_at >= start, ol.c.refunded_at < end)
        .group_by(ol.c.product_id)
    )
    facts = union_all(views, sales, net, refunds, _downloads(start, end)).subquery("facts")
    products = Product.__table__
    rows = (
        select(
            facts.c.product_id,
            literal(day).label("day"),
            products.c.vendor_id,
            products.c.currency,
            cast(func.sum(facts.c.views), Integer),
            cast(func.sum(facts.c.visitors), Integer),
            cast(func.sum(facts.c.sales), Integer),
            cast(func.sum(facts.c.gross), BigInteger),
            cast(func.sum(facts.c.net), BigInteger),
            cast(func.sum(facts.c.refunds), Integer),
            cast(func.sum(facts.c.refunded), BigInteger),
            cast(func.sum(facts.c.downloads), Integer),
        )
        .select_from(facts.join(products, products.c.id == facts.c.product_id))
        .group_by(facts.c.product_id, products.c.vendor_id, products.c.currency)
    )
    stats = ProductDailyStat.__table__
    session = db.session
    session.execute(delete(stats).where(stats.c.day == day))
    session.execute(
        stats.insert().from_select(
            [
                "product_id",
                "day",
                "vendor_id",
                "currency",
                "views",
                "visitors",
                "sales",
                "gross_cents",
                "net_cents",
                "refunds",
                "refunded_cents",
                "downloads",
            ],
            rows,
        )
    )
    # Counted, not read off rowcount: drivers need not report it for INSERT ... SELECT.
    written = session.scalar(select(func.count()).select_from(stats).where(stats.c.day == day))
    _aggregate_sources(day, start, end)
    _roll_up(day)
    session.commit()
    return written


_SUMMED = (
    "views",
    "visitors",
    "sales",
    "gross_cents",
    "net_cents",
    "refunds",
    "refunded_cents",
    "downloads",
)


def _roll_up(day: date) -> None:
    """The stores' rows of ``day`` from their products' rows (one INSERT ... SELECT each)."""
    stats, vendor_stats = ProductDailyStat.__table__, VendorDailyStat.__table__
    db.session.execute(delete(vendor_stats).where(vendor_stats.c.day == day))
    db.session.execute(
        vendor_stats.insert().from_select(
            ["vendor_id", "day", "currency", *_SUMMED],
            select(
                stats.c.vendor_id,
                stats.c.day,
                stats.c.currency,
                *(cast(func.sum(stats.c[name]), stats.c[name].type) for name in _SUMMED),
            )
            .where(stats.c.day == day)
            .group_by(stats.c.vendor_id, stats.c.day, stats.c.currency),
        )
    )
    sources, vendor_sources = ProductDailySource.__table__, VendorDailySource.__table__
    db.session.execute(delete(vendor_sources).where(vendor_sources.c.day == day))
    db.session.execute(
        vendor_sources.insert().from_select(
            ["vendor_id", "day", "kind", "value", "count"],
            select(
                sources.c.vendor_id,
                sources.c.day,
                sources.c.kind,
                sources.c.value,
                cast(func.sum(sources.c.count), Integer),
            )
            .where(sources.c.day == day)
            .group_by(sources.c.vendor_id, sources.c.day, sources.c.kind, sources.c.value),
        )
    )


def _aggregate_sources(day: date, start: datetime, end: datetime) -> None:
    pv, products = ProductView.__table__, Product.__table__
    clicks, queries = SearchClick.__table__, SearchQuery.__table__
    referrers = (
        select(
            pv.c.product_id.label("product_id"),
            cast(literal("referrer"), String(8)).label("kind"),
            pv.c.referrer.label("value"),
            cast(func.count(), BigInteger).label("n"),
        )
        .where(pv.c.day == day, pv.c.referrer != "")
        .group_by(pv.c.product_id, pv.c.referrer)
    )
    searched = (
        select(
            clicks.c.product_id,
            cast(literal("query"), String(8)),
            queries.c.query,
            cast(func.count(), BigInteger),
        )
        .select_from(clicks.join(queries, queries.c.id == clicks.c.search_query_id))
        .where(clicks.c.created_at >= start, clicks.c.created_at < end, queries.c.query != "")
        .group_by(clicks.c.product_id, queries.c.query)
    )
    facts = union_all(referrers, searched).subquery("sources")
    sources = ProductDailySource.__table__
    db.session.execute(delete(sources).where(sources.c.day == day))
    db.session.execute(
        sources.insert().from_select(
            ["product_id", "day", "kind", "value", "vendor_id", "count"],
            select(
                facts.c.product_id,
                literal(day),
                facts.c.kind,
                facts.c.value,
                products.c.vendor_id,
                cast(facts.c.n, Integer),
            ).select_from(facts.join(products, products.c.id == facts.c.product_id)),
        )
    )


def aggregate_range(first: date, last: date) -> int:
    """Recompute every day from ``first`` to ``last`` (inclusive), one transaction a day;
    return the product rows written."""
    written, day = 0, first
    while day <= last:
        written += aggregate_day(day)
        day += timedelta(days=1)
    return written


# --- ranges ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    key: str  # "7", "30", "90" or "custom"
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> DateRange:
        last = self.first - timedelta(days=1)
        return DateRange(self.key, last - timedelta(days=self.days - 1), last)

    def each_day(self) -> Iterable[date]:
        for n in range(self.days):
            yield self.first + timedelta(days=n)

    def query(self) -> dict[str, str]:
        if self.key == "custom":
            return {
                "range": "custom",
                "start": self.first.isoformat(),
                "end": self.last.isoformat(),
            }
        return {"range": self.key}


def parse_range(args: Mapping[str, str], today: date) -> DateRange:
    """The range asked for: ``range`` 7, 30 (default) or 90 days ending today, or ``custom``
    with ``start`` and ``end`` (ISO dates). Raises InvalidRange for a bad custom range."""
    key = args.get("range") or "30"
    if key == "custom":
        try:
            first = date.fromisoformat(args.get("start") or "")
            last = date.fromisoformat(args.get("end") or "")
        except ValueError:
            raise InvalidRange() from None
        if first > last or (last - first).days >= MAX_CUSTOM_DAYS:
            raise InvalidRange()
        return DateRange("custom", first, last)
    if key not in RANGES:
        key = "30"
    return DateRange(key, today - timedelta(days=int(key) - 1), today)


# --- reads ----------------------------------------------------------------------------------


@dataclass
class Totals:
    views: int = 0
    visitors: int = 0
    sales: int = 0
    refunds: int = 0
    downloads: int = 0
    net: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    gross: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)

    @property
    def conversion(self) -> float | None:
        """Sales per unique visitor (None without visitors)."""
        return self.sales / self.visitors if self.visitors else None

    @property
    def refund_rate(self) -> float | None:
        return self.refunds / self.sales if self.sales else None


@dataclass(frozen=True)
class DayPoint:
    day: date
    views: int
    visitors: int
    sales: int
    net_cents: int


# The reads' statements are built once per scope (the store's daily rows, or one product's)
# with bound parameters: building and fingerprinting a statement cost five times what running
# it costs on these few rows, and a dashboard runs seven of them.


def _scoped(store_model, product_model) -> dict[bool, tuple[Any, list[Any]]]:
    """Per scope (by product: True), the table to read and its conditions over the bound
    ``vendor_id``, ``first``, ``last`` (and ``product_id``)."""
    scopes = {}
    for by_product, model in ((False, store_model), (True, product_model)):
        table = model.__table__
        conditions = [
            table.c.vendor_id == bindparam("vendor_id"),
            table.c.day.between(bindparam("first"), bindparam("last")),
        ]
        if by_product:
            conditions.append(table.c.product_id == bindparam("product_id"))
        scopes[by_product] = (table, conditions)
    return scopes


def _params(vendor_id: int, product_id: int | None, rng: DateRange, **more: Any) -> dict:
    return {
        "vendor_id": vendor_id,
        "product_id": product_id,
        "first": rng.first,
        "last": rng.last,
        **more,
    }


def _totals_statement(stats, conditions):
    return (
        select(
            stats.c.currency,
            func.sum(stats.c.views),
            func.sum(stats.c.visitors),
            func.sum(stats.c.sales),
            func.sum(stats.c.refunds),
            func.sum(stats.c.downloads),
            func.sum(stats.c.net_cents),
            func.sum(stats.c.gross_cents),
            func.sum(stats.c.refunded_cents),
        )
        .where(*conditions)
        .group_by(stats.c.currency)
    )


def _series_statement(stats, conditions):
    return (
        select(
            stats.c.day,
            stats.c.currency,
            func.sum(stats.c.views),
            func.sum(stats.c.visitors),
            func.sum(stats.c.sales),
            func.sum(stats.c.net_cents),
        )
        .where(*conditions)
        .group_by(stats.c.day, stats.c.currency)
    )


def _sources_statement(sources, conditions):
    total = func.sum(sources.c.count)
    return (
        select(sources.c.value, total)
        .where(*conditions, sources.c.kind == bindparam("kind"))
        .group_by(sources.c.value)
        .order_by(total.desc(), sources.c.value)
        .limit(bindparam("limit"))
    )


_STATS = _scoped(VendorDailyStat, ProductDailyStat)
_SOURCES = _scoped(VendorDailySource, ProductDailySource)
_TOTALS = {scope: _totals_statement(*found) for scope, found in _STATS.items()}
_SERIES = {scope: _series_statement(*found) for scope, found in _STATS.items()}
_TOP_SOURCES = {scope: _sources_statement(*found) for scope, found in _SOURCES.items()}


def totals(vendor_id: int, product_id: int | None, rng: DateRange) -> Totals:
    """The range's totals for a vendor (or one of its products): one row per currency."""
    rows = db.session.execute(
        _TOTALS[product_id is not None], _params(vendor_id, product_id, rng)
    ).all()
    result = Totals()
    for currency, views, visitors, sales, refunds, downloads, net, gross, refunded in rows:
        result.views += int(views or 0)
        result.visitors += int(visitors or 0)
        result.sales += int(sales or 0)
        result.refunds += int(refunds or 0)
        result.downloads += int(downloads or 0)
        if sales or net or refunded:
            result.net[currency] = int(net or 0)
            result.gross[currency] = int(gross or 0)
            result.refunded[currency] = int(refunded or 0)
    return result


def series(vendor_id: int, product_id: int | None, rng: DateRange) -> list[DayPoint]:
    """One point per day of the range (days without data are zeros); net revenue in the
    vendor's main currency (the one with most net revenue)."""
    rows = db.session.execute(
        _SERIES[product_id is not None], _params(vendor_id, product_id, rng)
    ).all()
    by_currency: dict[str, int] = {}
    for row in rows:
        by_currency[row[1]] = by_currency.get(row[1], 0) + int(row[5] or 0)
    main = max(by_currency, key=lambda c: by_currency[c]) if by_currency else None
    days: dict[date, list[int]] = {}
    for day, currency, views, visitors, sales, net in rows:
        point = days.setdefault(day, [0, 0, 0, 0])
        point[0] += int(views or 0)
        point[1] += int(visitors or 0)
        point[2] += int(sales or 0)
        if currency == main:
            point[3] += int(net or 0)
    return [DayPoint(day, *days.get(day, [0, 0, 0, 0])) for day in rng.each_day()]


def main_currency(vendor_id: int, totals_: Totals) -> str:
    if totals_.net:
        return max(totals_.net, key=lambda c: totals_.net[c])
    return "USD"


def top_sources(
    vendor_id: int, product_id: int | None, rng: DateRange, kind: str, limit: int = TOP
) -> list[tuple[str, int]]:
    """The range's most frequent referrer hosts (``kind`` "referrer") or clicked search queries
    ("query"), most first."""
    rows = db.session.execute(
        _TOP_SOURCES[product_id is not None],
        _params(vendor_id, product_id, rng, kind=kind, limit=limit),
    ).all()
    return [(value, int(count)) for value, count in rows]


@dataclass(frozen=True)
class ListingRow:
    product_id: int
    title: str
    views: int
    visitors: int
    sales: int
    net_cents: int
    currency: str


_products, _stats = Product.__table__, ProductDailyStat.__table__
_TOP_PRODUCTS = (
    select(_products.c.id, _products.c.title, _products.c.currency)
    .where(
        _products.c.vendor_id == bindparam("vendor_id"),
        _products.c.status == ProductStatus.APPROVED.value,
    )
    .order_by(_products.c.popularity.desc(), _products.c.id)
    .limit(bindparam("limit"))
)
# Read from ix_product_daily_stats_figures alone (a covering index): see the model.
_LISTING_FIGURES = (
    select(
        _stats.c.product_id,
        func.sum(_stats.c.views),
        func.sum(_stats.c.visitors),
        func.sum(_stats.c.sales),
        func.sum(_stats.c.net_cents),
    )
    .where(
        _stats.c.product_id.in_(bindparam("ids", expanding=True)),
        _stats.c.day.between(bindparam("first"), bindparam("last")),
    )
    .group_by(_stats.c.product_id)
)


def top_listings(vendor_id: int, rng: DateRange, limit: int = TOP) -> list[ListingRow]:
    """The vendor's most popular live listings (the catalogue's popularity, read from its
    vendor/status/popularity index) with their figures over the range: ``limit`` listings
    times the range's days of rows, whatever the store's size."""
    top = db.session.execute(_TOP_PRODUCTS, {"vendor_id": vendor_id, "limit": limit}).all()
    if not top:
        return []
    figures = {
        row[0]: row[1:]
        for row in db.session.execute(
            _LISTING_FIGURES,
            {"ids": [row.id for row in top], "first": rng.first, "last": rng.last},
        )
    }
    rows = []
    for product_id, title, currency in top:
        views, visitors, sales, net = figures.get(product_id, (0, 0, 0, 0))
        rows.append(
            ListingRow(product_id, title, int(views), int(visitors), int(sales), int(net), currency)
        )
    return rows


# --- CSV ------------------------------------------------------------------------------------


def series_csv(points: list[DayPoint], currency: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "views", "unique_visitors", "sales", f"revenue_net_{currency}_cents"])
    for p in points:
        writer.writerow([p.day.isoformat(), p.views, p.visitors, p.sales, p.net_cents])
    return out.getvalue()


def sales_csv(vendor_id: int, product_id: int | None, rng: DateRange) -> str:
    """The range's paid order lines of the vendor (or one product), with the net from the
    ledger: one row per line (the export reads order lines, not the aggregates)."""
    first, _ = _bounds(rng.first)
    _, end = _bounds(rng.last)
    ol, orders, ledger = OrderLine.__table__, Order.__table__, LedgerEntry.__table__
    net = (
        select(func.coalesce(func.sum(ledger.c.amount_cents), 0))
        .where(
            ledger.c.order_line_id == ol.c.id,
            ledger.c.kind == "vendor_net",
            ledger.c.account == f"vendor:{vendor_id}",
        )
        .scalar_subquery()
    )
    query = (
        select(
            orders.c.paid_at,
            orders.c.number,
            ol.c.product_id,
            ol.c.title,
            ol.c.kind,
            ol.c.currency,
            ol.c.price_cents,
            net,
            ol.c.refunded_cents,
        )
        .select_from(ol.join(orders, orders.c.id == ol.c.order_id))
        .where(
            ol.c.vendor_id == vendor_id,
            orders.c.status.in_(PAID),
            orders.c.paid_at >= first,
            orders.c.paid_at < end,
        )
        .order_by(orders.c.paid_at, ol.c.id)
    )
    if product_id is not None:
        query = query.where(ol.c.product_id == product_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "paid_at",
            "order",
            "product_id",
            "title",
            "kind",
            "currency",
            "price_cents",
            "net_cents",
            "refunded_cents",
        ]
    )
    for row in db.session.execute(query):
        paid_at, number, pid, title, kind, currency, price, net_cents, refunded = row
        writer.writerow(
            [
                paid_at.isoformat() if paid_at else "",
                number,
                pid,
                csv_safe(title),
                kind,
                currency,
                price,
                net_cents,
                refunded,
            ]
        )
    return out.getvalue()


def csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- the dashboard --------------------------------------------------------------------------


@dataclass
class Report:
    current: Totals
    previous: Totals
    currency: str
    points: list[DayPoint]
    referrers: list[tuple[str, int]]
    queries: list[tuple[str, int]]
    listings: list[ListingRow]

    def views_chart(self) -> Markup:
        return line_chart(
            [(p.day.strftime("%d %b"), p.views) for p in self.points], "Page views per day"
        )

    def sales_chart(self) -> Markup:
        return bar_chart([(p.day.strftime("%d %b"), p.sales) for p in self.points], "Sales per day")


def report(vendor_id: int, product_id: int | None, rng: DateRange) -> Report:
    """Everything the dashboard shows for a vendor (or one of its products) over ``rng``, with
    the previous period of the same length beside it."""
    current = totals(vendor_id, product_id, rng)
    return Report(
        current=current,
        previous=totals(vendor_id, product_id, rng.previous),
        currency=main_currency(vendor_id, current),
        points=series(vendor_id, product_id, rng),
        referrers=top_sources(vendor_id, product_id, rng, "referrer"),
        queries=top_sources(vendor_id, product_id, rng, "query"),
        listings=top_listings(vendor_id, rng) if product_id is None else [],
    )
