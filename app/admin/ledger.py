"""The ledger for the admin panel, read-only: its rows searched, filtered, sorted and paged, the
totals of what is filtered, the whole ledger's balance per currency, and a CSV export. Every
total is one GROUP BY query; nothing walks over all rows in Python."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select

from app.admin.services import ListArgs, list_args, sort_query
from app.commerce.ledger import BUYER, PLATFORM, PROVIDER_FEES
from app.commerce.models import LedgerEntry, Order
from app.errors import DomainError
from app.extensions import db
from app.pagination import Page, contains_pattern, paginate
from app.vendors.analytics import csv_safe
from app.vendors.models import Payout
from app.vendors.payouts import CLEARING, SENT

LEDGER_PAGE_SIZE = 50
ACCOUNT_TOTALS_LIMIT = 100  # the per-account table stops there (says so); stores can be many
CSV_CHUNK = 500

ACCOUNT_KINDS = {
    "buyer": LedgerEntry.account == BUYER,
    "platform": LedgerEntry.account == PLATFORM,
    "vendor": LedgerEntry.account.startswith("vendor:"),
    "provider_fees": LedgerEntry.account == PROVIDER_FEES,
    "payouts_clearing": LedgerEntry.account == CLEARING,
    "payouts_sent": LedgerEntry.account == SENT,
}
LEDGER_SORTS = {
    "created": LedgerEntry.created_at,
    "amount": LedgerEntry.amount_cents,
    "id": LedgerEntry.id,
}


class InvalidLedgerFilter(DomainError):
    status = 422
    message = "Dates are written YYYY-MM-DD, and the start date comes before the end date."


@dataclass(frozen=True)
class LedgerArgs:
    """The list's own arguments (``q``; ``filter`` is an account kind; sort, dir, page) and
    the ledger's further filters: entry kind, currency and a date range (inclusive, UTC)."""

    list: ListArgs
    kind: str = ""
    currency: str = ""
    start: date | None = None
    end: date | None = None

    def extra(self) -> dict[str, str]:
        """The further filters as query-string parameters (for the pager and the export)."""
        values = {
            "kind": self.kind,
            "currency": self.currency,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
        }
        return {key: value for key, value in values.items() if value}

    def params(self) -> dict[str, str]:
        """Every filter as query-string parameters, without the page."""
        values = {
            "q": self.list.q,
            "filter": self.list.filter,
            "sort": self.list.sort,
            "dir": "" if self.list.descending else "asc",
        }
        return {**{key: value for key, value in values.items() if value}, **self.extra()}


def _day(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InvalidLedgerFilter() from exc


def ledger_args(query: Mapping[str, str]) -> LedgerArgs:
    """The ledger page's arguments from its query string; InvalidLedgerFilter for a date that
    is not YYYY-MM-DD or a start after the end."""
    start, end = _day(query.get("start")), _day(query.get("end"))
    if start and end and start > end:
        raise InvalidLedgerFilter()
    return LedgerArgs(
        list=list_args(query),
        kind=(query.get("kind") or "").strip()[:16],
        currency=(query.get("currency") or "").strip().upper()[:3],
        start=start,
        end=end,
    )


def _filtered(args: LedgerArgs, *columns: Any) -> Select:
    """The rows the arguments select (``columns``, or the entries themselves); ``q`` searches
    the transaction, the account and the order's number."""
    query = select(*(columns or (LedgerEntry,))).select_from(LedgerEntry)
    if args.list.q:
        pattern = contains_pattern(args.list.q)
        query = query.outerjoin(Order, Order.id == LedgerEntry.order_id).where(
            or_(
                func.lower(LedgerEntry.txn).like(pattern, escape="\\"),
                func.lower(LedgerEntry.account).like(pattern, escape="\\"),
                func.lower(func.coalesce(Order.number, "")).like(pattern, escape="\\"),
            )
        )
    if args.list.filter in ACCOUNT_KINDS:
        query = query.where(ACCOUNT_KINDS[args.list.filter])
    if args.kind:
        query = query.where(LedgerEntry.kind == args.kind)
    if args.currency:
        query = query.where(LedgerEntry.currency == args.currency)
    if args.start:
        query = query.where(LedgerEntry.created_at >= datetime.combine(args.start, time(), UTC))
    if args.end:
        after = datetime.combine(args.end + timedelta(days=1), time(), UTC)
        query = query.where(LedgerEntry.created_at < after)
    return query


@dataclass(frozen=True)
class LedgerRow:
    entry: LedgerEntry
    order_number: str | None  # the order it belongs to, when there is one
    payout_id: int | None  # the payout it moves, when there is one

    @property
    def payout_txn(self) -> str | None:
        return payout_txn(self.entry.txn)


def payout_txn(txn: str) -> str | None:
    """The payout transaction a ledger transaction belongs to: ``payout:<id>`` itself and its
    ``:sent`` and ``:failed`` follow-ups; None for any other."""
    if not txn.startswith("payout:"):
        return None
    return ":".join(txn.split(":", 2)[:2])


def _rows(entries: list[LedgerEntry]) -> list[LedgerRow]:
    """The entries with their orders' numbers and payouts' ids (two queries, whatever the
    number of entries)."""
    order_ids = {e.order_id for e in entries if e.order_id is not None}
    numbers = (
        dict(
            db.session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))).all()
        )
        if order_ids
        else {}
    )
    txns = {t for e in entries if (t := payout_txn(e.txn))}
    payout_ids = (
        dict(db.session.execute(select(Payout.txn, Payout.id).where(Payout.txn.in_(txns))).all())
        if txns
        else {}
    )
    return [
        LedgerRow(
            e,
            numbers.get(e.order_id) if e.order_id is not None else None,
            payout_ids.get(payout_txn(e.txn) or ""),
        )
        for e in entries
    ]


def ledger_page(args: LedgerArgs) -> Page:
    """One page of the filtered rows (LedgerRow items), newest first unless sorted otherwise."""
    page = paginate(
        sort_query(_filtered(args), LEDGER_SORTS, args.list, "created"),
        args.list.page,
        LEDGER_PAGE_SIZE,
    )
    return dataclasses.replace(page, items=_rows(page.items))


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    rows: int
    debits: int  # the negative amounts' sum (money going out of the accounts), <= 0
    credits: int  # the positive amounts' sum, >= 0

    @property
    def net(self) -> int:
        return self.debits + self.credits


@dataclass(frozen=True)
class AccountTotal:
    account: str
    currency: str
    rows: int
    total: int


@dataclass(frozen=True)
class LedgerTotals:
    currencies: list[CurrencyTotal]
    accounts: list[AccountTotal]
    more_accounts: bool  # the account table was cut at ACCOUNT_TOTALS_LIMIT


def ledger_totals(args: LedgerArgs) -> LedgerTotals:
    """The filtered rows' totals per currency and per account (two GROUP BY queries)."""
    amount = LedgerEntry.amount_cents
    per_currency = db.session.execute(
        _filtered(
            args,
            LedgerEntry.currency,
            func.count(),
            func.coalesce(func.sum(case((amount < 0, amount), else_=0)), 0),
            func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
        )
        .group_by(LedgerEntry.currency)
        .order_by(LedgerEntry.currency)
    ).all()
    per_account = db.session.execute(
        _filtered(
            args,
            LedgerEntry.account,
            LedgerEntry.currency,
            func.count(),
            func.coalesce(func.sum(amount), 0),
        )
        .group_by(LedgerEntry.currency, LedgerEntry.account)
        .order_by(LedgerEntry.currency, LedgerEntry.account)
        .limit(ACCOUNT_TOTALS_LIMIT + 1)
    ).all()
    return LedgerTotals(
        currencies=[CurrencyTotal(c, int(n), int(d), int(k)) for c, n, d, k in per_currency],
        accounts=[
            AccountTotal(a, c, int(n), int(t)) for a, c, n, t in per_account[:ACCOUNT_TOTALS_LIMIT]
        ],
        more_accounts=len(per_account) > ACCOUNT_TOTALS_LIMIT,
    )


@dataclass(frozen=True)
class LedgerBalance:
    sums: dict[str, int]  # the whole ledger's sum per currency: 0 when it balances
    unbalanced_txns: int  # transactions whose rows do not sum to zero

    @property
    def balances(self) -> bool:
        return self.unbalanced_txns == 0 and not any(self.sums.values())


def ledger_balance() -> LedgerBalance:
    """The whole ledger, unfiltered: its sum per currency and how many transactions do not sum
    to zero (both must be 0 for a double-entry ledger)."""
    sums = db.session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount_cents))
        .group_by(LedgerEntry.currency)
        .order_by(LedgerEntry.currency)
    ).all()
    unbalanced = (
        select(LedgerEntry.txn)
        .group_by(LedgerEntry.txn, LedgerEntry.currency)
        .having(func.sum(LedgerEntry.amount_cents) != 0)
        .subquery()
    )
    count = db.session.scalar(select(func.count()).select_from(unbalanced))
    return LedgerBalance({c: int(s or 0) for c, s in sums}, int(count or 0))


def ledger_choices() -> tuple[list[str], list[str]]:
    """The entry kinds and currencies in the ledger, for the filter menus."""
    kinds = db.session.scalars(select(LedgerEntry.kind).distinct().order_by(LedgerEntry.kind))
    currencies = db.session.scalars(
        select(LedgerEntry.currency).distinct().order_by(LedgerEntry.currency)
    )
    return list(kinds), list(currencies)


CSV_HEADER = [
    "id",
    "created_at",
    "txn",
    "account",
    "kind",
    "amount_cents",
    "currency",
    "order_number",
    "payout_id",
]


def _chunks(args: LedgerArgs) -> Iterator[list[LedgerEntry]]:
    query = sort_query(_filtered(args), LEDGER_SORTS, args.list, "created")
    result = db.session.scalars(query.execution_options(yield_per=CSV_CHUNK))
    for chunk in result.partitions():
        yield list(chunk)


def _csv_lines(rows: Iterable[LedgerRow]) -> list[list[Any]]:
    return [
        [
            row.entry.id,
            row.entry.created_at.isoformat(),
            csv_safe(row.entry.txn),
            csv_safe(row.entry.account),
            csv_safe(row.entry.kind),
            row.entry.amount_cents,
            csv_safe(row.entry.currency),
            csv_safe(row.order_number or ""),
            row.payout_id or "",
        ]
        for row in rows
    ]


def ledger_csv(args: LedgerArgs) -> str:
    """Every filtered row (not just one page) as CSV, in the page's order; text cells made
    safe for spreadsheets. Read in chunks of CSV_CHUNK rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for chunk in _chunks(args):
        writer.writerows(_csv_lines(_rows(chunk)))
    return out.getvalue()
