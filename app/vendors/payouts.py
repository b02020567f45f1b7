"""Payouts: a vendor's balance from the ledger, the hold period, payout details, and payouts
(Stripe transfers or manual bank transfers) that write their own ledger rows.

Ledger accounts (see app/commerce/models.py LedgerEntry): ``vendor:<id>`` is what the platform
owes the vendor; a payout moves its amount to ``payouts_clearing`` when it is created (so it
cannot be paid twice), and from there to ``payouts_sent`` once Stripe or an admin sent it; a
failed payout moves it back to the vendor. A refund after a payout is a negative row on the
vendor's account: the balance goes below zero and later sales make it up before any payout.

Hold: sales (the vendor's ``vendor_net`` rows) become payable PAYOUT_HOLD_DAYS after they were
written; everything else (refunds, payouts, a failed payout's reversal) counts at once.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import case, func, select

from app.commerce.models import LedgerEntry
from app.config import Config
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.money import format_money
from app.notifications.services import notify_later, site_path
from app.timeutil import utcnow
from app.vendors.models import (
    Payout,
    PayoutAccount,
    PayoutMethod,
    PayoutStatus,
    VendorProfile,
    VendorStatus,
)

CLEARING = "payouts_clearing"
SENT = "payouts_sent"
_STRIPE_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{6,60}")


class PayoutDetailsError(DomainError):
    status = 422
    message = "Those payout details could not be saved."


class PayoutNotPending(Conflict):
    message = "That payout is not waiting to be sent."


def vendor_account(vendor_id: int) -> str:
    return f"vendor:{vendor_id}"


# --- balances -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    currency: str
    total_cents: int  # every ledger row of the vendor
    held_cents: int  # sales younger than the hold period

    @property
    def payable_cents(self) -> int:
        """What may be paid out now (negative after a refund that followed a payout)."""
        return self.total_cents - self.held_cents


def balances(vendor_id: int, now: datetime, hold_days: int) -> list[Balance]:
    """The vendor's balance per currency at ``now``: the sum of its ledger rows until then, and
    the part on hold."""
    ledger = LedgerEntry.__table__
    cutoff = now - timedelta(days=hold_days)
    held = case(
        (
            (ledger.c.kind == "vendor_net")
            & (ledger.c.amount_cents > 0)
            & (ledger.c.created_at > cutoff),
            ledger.c.amount_cents,
        ),
        else_=0,
    )
    rows = db.session.execute(
        select(ledger.c.currency, func.sum(ledger.c.amount_cents), func.sum(held))
        .where(ledger.c.account == vendor_account(vendor_id), ledger.c.created_at <= now)
        .group_by(ledger.c.currency)
        .order_by(ledger.c.currency)
    ).all()
    return [Balance(currency, int(total or 0), int(h or 0)) for currency, total, h in rows]


def payouts_of(vendor_id: int, limit: int = 50) -> list[Payout]:
    return list(
        db.session.scalars(
            select(Payout)
            .where(Payout.vendor_id == vendor_id)
            .order_by(Payout.id.desc())
            .limit(limit)
        )
    )


def get_own_payout(vendor: VendorProfile, payout_id: int) -> Payout:
    """One of ``vendor``'s payouts; NotFound for any other."""
    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.vendor_id != vendor.id:
        raise NotFound()
    return payout


# --- payout details -------------------------------------------------------------------------


def account_of(vendor: VendorProfile) -> PayoutAccount | None:
    return db.session.scalar(select(PayoutAccount).where(PayoutAccount.vendor_id == vendor.id))


def save_payout_details(
    vendor: VendorProfile,
    method: str,
    stripe_account_id: str,
    bank_details: str,
    encryption_key: str | None,
) -> PayoutAccount:
    """Set how ``vendor`` is paid: a Stripe Connect account id (``acct_...``), or bank details
    (IBAN, account holder, ...) encrypted with ``encryption_key``. Bank details left empty
    keep the stored ones. Raises PayoutDetailsError."""
    account = account_of(vendor) or PayoutAccount(vendor_id=vendor.id)
    if method == PayoutMethod.STRIPE:
        stripe_account_id = stripe_account_id.strip()
        if not _STRIPE_ACCOUNT.fullmatch(stripe_account_id):
            raise PayoutDetailsError(
                "A Stripe Connect account id starts with acct_ (Stripe dashboard, Connect)."
            )
        account.stripe_account_id = stripe_account_id
    elif method == PayoutMethod.BANK:
        bank_details = bank_details.strip()
        if bank_details:
            if encryption_key is None:
                raise PayoutDetailsError(
                    "Bank details cannot be stored yet: the site has no encryption key "
                    "(PAYOUT_ENCRYPTION_KEY). Use a Stripe account, or ask the operators."
                )
            if len(bank_details) > 1000:
                raise PayoutDetailsError("Bank details are at most 1,000 characters.")
            account.bank_details_encrypted = (
                Fernet(encryption_key).encrypt(bank_details.encode()).decode()
            )
            account.bank_last4 = re.sub(r"\s", "", bank_details)[-4:]
        elif not account.bank_details_encrypted:
            raise PayoutDetailsError("Enter the bank account to pay into.")
    else:
        raise PayoutDetailsError("Choose Stripe or a bank transfer.")
    account.method = method
    db.session.add(account)
    db.session.flush()
    return account


def bank_details_of(account: PayoutAccount, encryption_key: str | None) -> str | None:
    """The decrypted bank details (for the admin making a manual transfer); None when there
    are none or the key cannot read them (a rotated key)."""
    if not account.bank_details_encrypted or encryption_key is None:
        return None
    try:
        return Fernet(encryption_key).decrypt(account.bank_details_encrypted.encode()).decode()
    except InvalidToken:
        return None


# --- creating and sending payouts -----------------------------------------------------------


def _post(txn: str, currency: str, legs: list[tuple[str, int]], kind: str, at: datetime) -> None:
    assert sum(amount for _, amount in legs) == 0, "a ledger transaction sums to zero"
    for account, amount in legs:
        db.session.add(
            LedgerEntry(
                txn=txn,
                account=account,
                amount_cents=amount,
                currency=currency,
                kind=kind,
                created_at=at,
            )
        )


def create_payout(
    vendor: VendorProfile, currency: str, now: datetime, config: Config
) -> Payout | None:
    """A payout of ``vendor``'s payable balance in ``currency``, written to the ledger (not
    committed); None when there is nothing to pay (below PAYOUT_MINIMUM_CENTS, no details)."""
    # Serialise payouts of one vendor (PostgreSQL; SQLite has one writer anyway).
    db.session.execute(
        select(VendorProfile.id).where(VendorProfile.id == vendor.id).with_for_update()
    )
    account = account_of(vendor)
    if account is None:
        return None
    balance = next(
        (b for b in balances(vendor.id, now, config.payout_hold_days) if b.currency == currency),
        None,
    )
    if balance is None or balance.payable_cents < max(1, config.payout_minimum_cents):
        return None
    amount = balance.payable_cents
    method = account.method
    if method == PayoutMethod.STRIPE and not account.stripe_account_id:
        return None
    payout = Payout(
        vendor_id=vendor.id,
        amount_cents=amount,
        currency=currency,
        method=method,
        status=PayoutStatus.PENDING.value,
        txn=f"payout:{uuid.uuid4().hex}",
        period_end=now,
        created_at=now,
    )
    db.session.add(payout)
    _post(
        payout.txn,
        currency,
        [(vendor_account(vendor.id), -amount), (CLEARING, amount)],
        "payout",
        now,
    )
    db.session.flush()
    return payout


def run_payouts(config: Config, now: datetime | None = None) -> list[int]:
    """Create every payout due (one per vendor and currency), committing each; send the
    Stripe ones when Stripe is configured. Returns the new payouts' ids. Manual (bank) ones
    wait for an admin in /admin/payouts."""
    now = now or utcnow()
    ledger = LedgerEntry.__table__
    vendor_ids = db.session.scalars(
        select(PayoutAccount.vendor_id)
        .join(VendorProfile, VendorProfile.id == PayoutAccount.vendor_id)
        .where(VendorProfile.status == VendorStatus.APPROVED.value)
        .order_by(PayoutAccount.vendor_id)
    ).all()
    created = []
    for vendor_id in vendor_ids:
        currencies = db.session.scalars(
            select(ledger.c.currency)
            .where(ledger.c.account == vendor_account(vendor_id))
            .group_by(ledger.c.currency)
        ).all()
        for currency in currencies:
            vendor = db.session.get(VendorProfile, vendor_id)
            payout = create_payout(vendor, currency, now, config)
            if payout is None:
                db.session.rollback()
                continue
            db.session.commit()
            created.append(payout.id)
    for payout_id in created:
        payout = db.session.get(Payout, payout_id)
        if payout.method == PayoutMethod.STRIPE and config.payments.has_stripe:
            send_stripe_payout(payout_id, config)
    return created


def _stripe_client(config: Config) -> stripe.StripeClient:
    payments = config.payments
    return stripe.StripeClient(
        payments.stripe_secret_key,
        base_addresses={"api": payments.stripe_api_base} if payments.stripe_api_base else None,
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=payments.timeout_seconds),
    )


def send_stripe_payout(payout_id: int, config: Config) -> Payout:
    """Transfer a pending Stripe payout to the vendor's connected account and commit.

    The idempotency key is the payout's, so a retried job never transfers twice. Stripe
    refusing the transfer (a 4xx: a closed account, no balance) fails the payout and puts the
    money back; a network or 5xx error raises stripe.APIConnectionError / APIError for the
    job to retry.
    """
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound()
    if payout.status != PayoutStatus.PENDING or payout.method != PayoutMethod.STRIPE:
        return payout
    account = account_of(payout.vendor)
    destination = account.stripe_account_id if account else None
    if not destination:
        return fail_payout(payout, "The vendor has no Stripe account.")
    try:
        transfer = _stripe_client(config).v1.transfers.create(
            params={
                "amount": payout.amount_cents,
                "currency": payout.currency.lower(),
                "destination": destination,
                "transfer_group": payout.txn,
                "metadata": {"payout_id": str(payout.id), "vendor_id": str(payout.vendor_id)},
            },
            options={"idempotency_key": f"payout-{payout.id}"},
        )
    except (stripe.InvalidRequestError, stripe.PermissionError) as exc:
        return fail_payout(payout, (exc.user_message or str(exc))[:200])
    return _mark_sent(payout, transfer.id, None)


def _mark_sent(payout: Payout, reference: str, admin_id: int | None) -> Payout:
    now = utcnow()
    payout.status = PayoutStatus.SENT.value
    payout.provider_ref = reference
    payout.sent_at = now
    payout.sent_by_id = admin_id
    _post(
        f"{payout.txn}:sent",
        payout.currency,
        [(CLEARING, -payout.amount_cents), (SENT, payout.amount_cents)],
        "payout_sent",
        now,
    )
    how = "to your Stripe account" if payout.method == PayoutMethod.STRIPE else "by bank transfer"
    notify_later(
        payout.vendor.user_id,
        "payout_sent",
        f"Payout of {format_money(payout.amount_cents, payout.currency)} sent",
        f"Sent {how}, reference {reference}. The statement is on your payouts page.",
        site_path("vendors.payouts_GET"),
    )
    db.session.commit()
    return payout


def fail_payout(payout: Payout, reason: str) -> Payout:
    """Give up on a pending payout: its amount goes back to the vendor's balance; commits."""
    if payout.status != PayoutStatus.PENDING:
        raise PayoutNotPending()
    payout.status = PayoutStatus.FAILED.value
    payout.failure = reason[:200]
    _post(
        f"{payout.txn}:failed",
        payout.currency,
        [(CLEARING, -payout.amount_cents), (vendor_account(payout.vendor_id), payout.amount_cents)],
        "payout_reversal",
        utcnow(),
    )
    db.session.commit()
    return payout


def mark_payout_sent(admin, payout_id: int, reference: str) -> Payout:
    """An admin says a manual (bank) payout was sent, with the bank's reference; commits.
    Raises NotFound, PayoutNotPending, PayoutDetailsError (no reference)."""
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound()
    if payout.status != PayoutStatus.PENDING or payout.method != PayoutMethod.BANK:
        raise PayoutNotPending()
    reference = reference.strip()
    if not reference:
        raise PayoutDetailsError("Give the bank transfer's reference.")
    return _mark_sent(payout, reference[:255], admin.id)


def mark_payout_failed(admin, payout_id: int, reason: str) -> Payout:
    """An admin gives up on a pending payout (bank details wrong, ...); commits."""
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound()
    reason = reason.strip()
    if not reason:
        raise PayoutDetailsError("Say why the payout failed: the vendor reads it.")
    return fail_payout(payout, reason)


def admin_payouts(status: str | None, limit: int = 100) -> list[Payout]:
    query = select(Payout).order_by(Payout.id.desc()).limit(limit)
    if status:
        query = query.where(Payout.status == status)
    return list(db.session.scalars(query))


# --- statements -----------------------------------------------------------------------------


def statement_csv(payout: Payout) -> str:
    """The vendor's ledger rows in the payout's currency since the previous payout up to this
    one (the payout included), with a running balance."""
    previous = db.session.scalar(
        select(Payout.period_end)
        .where(
            Payout.vendor_id == payout.vendor_id,
            Payout.currency == payout.currency,
            Payout.id < payout.id,
        )
        .order_by(Payout.id.desc())
        .limit(1)
    )
    ledger = LedgerEntry.__table__
    account = vendor_account(payout.vendor_id)
    conditions = [
        ledger.c.account == account,
        ledger.c.currency == payout.currency,
        ledger.c.created_at <= payout.period_end,
    ]
    opening = 0
    if previous is not None:
        conditions.append(ledger.c.created_at > previous)
        opening = int(
            db.session.scalar(
                select(func.coalesce(func.sum(ledger.c.amount_cents), 0)).where(
                    ledger.c.account == account,
                    ledger.c.currency == payout.currency,
                    ledger.c.created_at <= previous,
                )
            )
        )
    rows = db.session.execute(
        select(ledger.c.created_at, ledger.c.kind, ledger.c.order_id, ledger.c.amount_cents)
        .where(*conditions)
        .order_by(ledger.c.created_at, ledger.c.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [f"Payout {payout.id}", payout.currency, payout.status, payout.provider_ref or ""]
    )
    writer.writerow(["date", "kind", "order_id", "amount_cents", "balance_cents"])
    writer.writerow(["", "opening balance", "", "", opening])
    running = opening
    for created_at, kind, order_id, amount in rows:
        running += int(amount)
        writer.writerow([created_at.isoformat(), kind, order_id or "", int(amount), running])
    writer.writerow(["", "closing balance", "", "", running])
    return out.getvalue()
