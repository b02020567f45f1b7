"""Payouts: balance and hold period, minimum, manual and Stripe payouts through the ledger,
refund after payout, statements, bank details encrypted at rest."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from app.commerce.models import LedgerEntry
from app.extensions import db
from app.timeutil import utcnow
from app.vendors import payouts
from app.vendors.models import Payout, PayoutAccount, VendorProfile
from tests.catalog.factories import create_product
from tests.conftest import PAYOUT_TEST_KEY, csrf_token
from tests.vendors.factories import create_sale, refund_line, vendor_id_of

BANK = "Ada Lovelace, IBAN GB33BUKB20201555555555, Barclays"


def _config(app, **changes):
    return dataclasses.replace(app.config["APP_CONFIG"], **changes)


def _vendor(app, vendor_id):
    return db.session.get(VendorProfile, vendor_id)


def _setup(app, make_user, method="bank"):
    """A store with a sale 20 days ago and one 3 days ago ($10.00 each, $8.00 net)."""
    product = create_product(app, make_user, "Paid listing")
    vendor_id = vendor_id_of(app, product)
    buyer = make_user("customer")
    now = utcnow()
    old = create_sale(app, buyer.id, product, now - timedelta(days=20))
    create_sale(app, buyer.id, product, now - timedelta(days=3))
    with app.app_context():
        payouts.save_payout_details(
            _vendor(app, vendor_id),
            method,
            "acct_1TestVendor01" if method == "stripe" else "",
            BANK if method == "bank" else "",
            PAYOUT_TEST_KEY,
        )
        db.session.commit()
    return vendor_id, product, buyer, old


def _balance(app, vendor_id, hold_days=14):
    with app.app_context():
        (balance,) = payouts.balances(vendor_id, utcnow(), hold_days)
        return balance.total_cents, balance.held_cents, balance.payable_cents


def _ledger_sums(app):
    with app.app_context():
        return dict(
            db.session.execute(
                select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents)).group_by(
                    LedgerEntry.account
                )
            ).all()
        )


def test_hold_period_and_minimum(app, make_user):
    vendor_id, *_ = _setup(app, make_user)
    assert _balance(app, vendor_id) == (1600, 800, 800)
    assert _balance(app, vendor_id, hold_days=2) == (1600, 0, 1600)
    with app.app_context():
        # The default minimum ($50.00) is more than the $8.00 payable.
        assert payouts.run_payouts(app.config["APP_CONFIG"]) == []
        assert payouts.run_payouts(_config(app, payout_minimum_cents=801)) == []
        assert db.session.scalar(select(func.count()).select_from(Payout)) == 0


def test_manual_payout_writes_the_ledger_and_a_statement(app, make_user, client, login_as):
    vendor_id, *_ = _setup(app, make_user)
    with app.app_context():
        (payout_id,) = payouts.run_payouts(_config(app, payout_minimum_cents=500))
        payout = db.session.get(Payout, payout_id)
        assert (payout.amount_cents, payout.status, payout.method) == (800, "pending", "bank")
        # Run again: nothing more is payable (the held sale stays).
        assert payouts.run_payouts(_config(app, payout_minimum_cents=500)) == []
    assert _balance(app, vendor_id) == (800, 800, 0)
    sums = _ledger_sums(app)
    assert sums[payouts.CLEARING] == 800 and sums[f"vendor:{vendor_id}"] == 800

    admin = login_as("admin")
    page = client.get("/admin/payouts")
    assert page.status_code == 200 and BANK in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/payouts")
    response = client.post(
        f"/admin/payouts/{payout_id}/sent",
        data={"reference": "BARC-123", "confirm": "y", "csrf_token": token},
    )
    assert response.status_code == 303
    with app.app_context():
        payout = db.session.get(Payout, payout_id)
        assert (payout.status, payout.provider_ref, payout.sent_by_id) == (
            "sent",
            "BARC-123",
            admin.id,
        )
        with pytest.raises(payouts.PayoutNotPending):
            payouts.mark_payout_sent(admin, payout_id, "again")
        statement = list(csv.reader(io.StringIO(payouts.statement_csv(payout))))
    sums = _ledger_sums(app)
    assert sums[payouts.CLEARING] == 0 and sums[payouts.SENT] == 800
    kinds = [row[1] for row in statement[2:]]
    assert kinds == ["opening balance", "vendor_net", "vendor_net", "payout", "closing balance"]
    assert statement[-1][-1] == "800"


def test_a_failed_payout_returns_the_money(app, make_user):
    vendor_id, *_ = _setup(app, make_user)
    with app.app_context():
        (payout_id,) = payouts.run_payouts(_config(app, payout_minimum_cents=500))
        admin = db.session.get(VendorProfile, vendor_id).user
        payouts.mark_payout_failed(admin, payout_id, "The IBAN was refused")
        db.session.commit()
        assert db.session.get(Payout, payout_id).failure == "The IBAN was refused"
    assert _balance(app, vendor_id) == (1600, 800, 800)
    assert _ledger_sums(app)[payouts.CLEARING] == 0


def test_refund_after_payout_goes_negative_and_later_sales_recover_it(app, make_user):
    vendor_id, product, buyer, old = _setup(app, make_user)
    config = _config(app, payout_minimum_cents=500)
    with app.app_context():
        assert len(payouts.run_payouts(config)) == 1
    refund_line(app, old, utcnow())
    assert _balance(app, vendor_id) == (0, 800, -800)
    with app.app_context():
        assert payouts.run_payouts(config) == []
    # Two older sales ($16.00 net) make up the $8.00 and leave $8.00 payable.
    create_sale(app, buyer.id, product, utcnow() - timedelta(days=15))
    create_sale(app, buyer.id, product, utcnow() - timedelta(days=15))
    assert _balance(app, vendor_id) == (1600, 800, 800)
    with app.app_context():
        (second,) = payouts.run_payouts(config)
        assert db.session.get(Payout, second).amount_cents == 800


def test_stripe_transfer_through_the_fake(app, make_user, stripe_fake):
    vendor_id, *_ = _setup(app, make_user, method="stripe")
    settings = app.config["APP_CONFIG"]
    config = _config(
        app,
        payout_minimum_cents=500,
        payments=dataclasses.replace(
            settings.payments,
            stripe_secret_key=stripe_fake.SECRET_KEY,
            stripe_webhook_secret=stripe_fake.WEBHOOK_SECRET,
            stripe_api_base=stripe_fake.url,
        ),
    )
    with app.app_context():
        (payout_id,) = payouts.run_payouts(config)
        payout = db.session.get(Payout, payout_id)
        assert payout.status == "sent"
        (transfer,) = stripe_fake.transfers.values()
        assert transfer["id"] == payout.provider_ref
        assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
            800,
            "usd",
            "acct_1TestVendor01",
        )
        keys = [call.idempotency_key for call in stripe_fake.writes()]
        assert keys == [f"payout-{payout_id}"]
        # A retried job sends nothing twice.
        payouts.send_stripe_payout(payout_id, config)
        assert len(stripe_fake.transfers) == 1
    assert _ledger_sums(app)[payouts.SENT] == 800


def test_stripe_refusing_the_transfer_fails_the_payout(app, make_user, stripe_fake):
    vendor_id, *_ = _setup(app, make_user, method="stripe")
    stripe_fake.refused_destinations.add("acct_1TestVendor01")
    settings = app.config["APP_CONFIG"]
    config = _config(
        app,
        payout_minimum_cents=500,
        payments=dataclasses.replace(
            settings.payments,
            stripe_secret_key=stripe_fake.SECRET_KEY,
            stripe_webhook_secret=stripe_fake.WEBHOOK_SECRET,
            stripe_api_base=stripe_fake.url,
        ),
    )
    with app.app_context():
        (payout_id,) = payouts.run_payouts(config)
        payout = db.session.get(Payout, payout_id)
        assert payout.status == "failed" and "No such destination" in payout.failure
    assert _balance(app, vendor_id) == (1600, 800, 800)


def test_bank_details_are_encrypted_at_rest(app, make_user, client, login_as):
    user = login_as("vendor")
    token = csrf_token(client, "/vendor/payouts/details")
    response = client.post(
        "/vendor/payouts/details",
        data={"method": "bank", "bank_details": BANK, "csrf_token": token},
    )
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.execute(
            text("SELECT bank_details_encrypted, bank_last4 FROM payout_accounts")
        ).one()
        assert "GB33" not in stored[0] and "Lovelace" not in stored[0]
        assert Fernet(PAYOUT_TEST_KEY).decrypt(stored[0].encode()).decode() == BANK
        assert stored[1] == "lays"
        account = db.session.scalar(select(PayoutAccount))
        assert payouts.bank_details_of(account, Fernet.generate_key().decode()) is None
    page = client.get("/vendor/payouts").get_data(as_text=True)
    assert "ending lays" in page and "GB33" not in page
    bad = client.post(
        "/vendor/payouts/details",
        data={"method": "stripe", "stripe_account_id": "pk_live_x", "csrf_token": token},
    )
    assert bad.status_code == 422 and "acct_" in bad.get_data(as_text=True)
    assert user.id


def test_bank_details_need_the_key(app, make_user):
    product = create_product(app, make_user, "No key")
    with app.app_context():
        vendor = _vendor(app, vendor_id_of(app, product))
        with pytest.raises(payouts.PayoutDetailsError, match="PAYOUT_ENCRYPTION_KEY"):
            payouts.save_payout_details(vendor, "bank", "", BANK, None)


def test_a_statement_of_another_vendor_is_not_found(app, make_user, client, login_as):
    _setup(app, make_user)
    with app.app_context():
        (payout_id,) = payouts.run_payouts(_config(app, payout_minimum_cents=500))
    login_as("vendor")
    assert client.get(f"/vendor/payouts/{payout_id}/statement.csv").status_code == 404


def test_preparing_payouts_asks_for_a_reason_and_a_confirmation(
    app, make_user, client, login_as, run_jobs
):
    from app.admin.models import AuditEntry

    _setup(app, make_user)
    login_as("admin")
    page = client.get("/admin/payouts").get_data(as_text=True)
    assert 'name="reason"' in page and 'name="confirm"' in page
    token = csrf_token(client, "/admin/payouts")
    for refused in ({"reason": "Month end"}, {"confirm": "y"}, {"reason": " ", "confirm": "y"}):
        response = client.post("/admin/payouts/run", data={**refused, "csrf_token": token})
        assert response.status_code == 303
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert run_jobs() == 0  # nothing was enqueued
    response = client.post(
        "/admin/payouts/run",
        data={"reason": "Month end run", "confirm": "y", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Payouts are being prepared" in response.get_data(as_text=True)
    with app.app_context():
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert (entry.action, entry.reason) == ("payout.run", "Month end run")
    assert run_jobs() == 1
