"""The double-entry commission ledger: append-only rows whose transactions sum to zero.

A paid line of ``gross`` writes, in one transaction (``txn``):
  buyer        -gross       gross        (money that came in from the buyer)
  platform     +commission  commission   (gross x commission bps, rounded down)
  vendor:<id>  +net         vendor_net   (gross - commission)
and, when the provider tells its fee: platform -fee and provider_fees +fee (the platform
bears the fee). A refund of ``amount`` reverses the same legs in proportion (the last refund
of a line reverses exactly what is left). A vendor's balance is the sum of its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.commerce.models import LedgerEntry, OrderLine
from app.extensions import db

BUYER = "buyer"
PLATFORM = "platform"
PROVIDER_FEES = "provider_fees"


def vendor_account(vendor_id: int) -> str:
    return f"vendor:{vendor_id}"


def commission_of(gross: int, bps: int) -> int:
    return gross * bps // 10_000


def _add(txn: str, line: OrderLine, legs: list[tuple[str, int, str]]) -> list[LedgerEntry]:
    assert sum(amount for _, amount, _ in legs) == 0, legs  # double entry, by construction
    rows = [
        LedgerEntry(
            txn=txn,
            account=account,
            amount_cents=amount,
            currency=line.currency,
            kind=kind,
            order_id=line.order_id,
            order_line_id=line.id,
        )
        for account, amount, kind in legs
        if amount
    ]
    db.session.add_all(rows)
    return rows


def record_sale(txn: str, line: OrderLine, gross: int, fee: int | None = None) -> None:
    """The rows of one payment of ``gross`` for ``line`` (its first payment or a renewal)."""
    if gross <= 0:
        return
    commission = commission_of(gross, line.commission_bps)
    legs = [
        (BUYER, -gross, "gross"),
        (PLATFORM, commission, "commission"),
        (vendor_account(line.vendor_id), gross - commission, "vendor_net"),
    ]
    if fee:
        legs += [(PLATFORM, -fee, "fee"), (PROVIDER_FEES, fee, "fee")]
    _add(txn, line, legs)


def record_refund(txn: str, line: OrderLine, amount: int) -> None:
    """Reverse ``amount`` of ``line``'s sales: the buyer gets it back, the platform's and the
    vendor's shares go down in proportion to what each received for the line."""
    if amount <= 0:
        return
    sums = dict(
        db.session.execute(
            select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.order_line_id == line.id)
            .where(LedgerEntry.kind.in_(("gross", "refund")))
            .group_by(LedgerEntry.account)
        ).all()
    )
    remaining = -int(sums.get(BUYER) or 0)  # paid for the line, less what went back already
    amount = min(amount, remaining)
    if amount <= 0:
        return
    vendor = vendor_account(line.vendor_id)
    shares = dict(
        db.session.execute(
            select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents))
            .where(
                LedgerEntry.order_line_id == line.id, LedgerEntry.account.in_((PLATFORM, vendor))
            )
            .where(LedgerEntry.kind.in_(("commission", "vendor_net", "refund")))
            .group_by(LedgerEntry.account)
        ).all()
    )
    platform_left = int(shares.get(PLATFORM) or 0)
    commission = amount * platform_left // remaining if amount < remaining else platform_left
    _add(
        txn,
        line,
        [
            (BUYER, amount, "refund"),
            (PLATFORM, -commission, "refund"),
            (vendor, commission - amount, "refund"),
        ],
    )


@dataclass(frozen=True)
class VendorEarnings:
    currency: str
    sales: int  # paid lines
    gross: int
    commission: int
    refunds: int  # what the vendor gave back
    balance: int  # the sum of the vendor's rows


def vendor_earnings(vendor_id: int) -> list[VendorEarnings]:
    """A vendor's sales and earnings per currency, from the ledger alone."""
    account = vendor_account(vendor_id)
    lines_of_vendor = select(OrderLine.id).where(OrderLine.vendor_id == vendor_id)
    result = []
    currencies = db.session.scalars(
        select(LedgerEntry.currency).where(LedgerEntry.account == account).distinct()
    ).all()
    for currency in sorted(currencies):
        gross = -_total(
            currency,
            LedgerEntry.account == BUYER,
            LedgerEntry.kind == "gross",
            LedgerEntry.order_line_id.in_(lines_of_vendor),
        )
        sales = db.session.scalar(
            select(func.count(func.distinct(LedgerEntry.txn))).where(
                LedgerEntry.account == account,
                LedgerEntry.kind == "vendor_net",
                LedgerEntry.currency == currency,
            )
        )
        result.append(
            VendorEarnings(
                currency=currency,
                sales=int(sales or 0),
                gross=gross,
                commission=_total(
                    currency,
                    LedgerEntry.account == PLATFORM,
                    LedgerEntry.kind == "commission",
                    LedgerEntry.order_line_id.in_(lines_of_vendor),
                ),
                refunds=-_total(
                    currency, LedgerEntry.account == account, LedgerEntry.kind == "refund"
                ),
                balance=_total(currency, LedgerEntry.account == account),
            )
        )
    return result


def _total(currency: str, *where) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.currency == currency, *where
            )
        )
        or 0
    )


def balance_of(account: str, currency: str) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.account == account, LedgerEntry.currency == currency
            )
        )
        or 0
    )


def refundable(line: OrderLine) -> int:
    """What the buyer paid for ``line`` (first payment and renewals) less what went back."""
    return -_line_sum(line.id, BUYER)


def _line_sum(line_id: int, account: str) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.order_line_id == line_id, LedgerEntry.account == account
            )
        )
        or 0
    )
