"""Sensitive vendor actions go to the audit log too: where payouts are sent, and cutting a
buyer's licence off or restoring it (who, what, why; never the bank details)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.admin.models import AuditEntry
from app.extensions import db
from tests.conftest import csrf_token, login
from tests.licensing.factories import create_licence


def _entries(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_changing_payout_details_is_audited_without_the_details(app, client, login_as):
    vendor = login_as("vendor")
    token = csrf_token(client, "/vendor/payouts/details")
    bank = "Ada Lovelace, IBAN GB33BUKB20201555555555, Barclays"
    response = client.post(
        "/vendor/payouts/details",
        data={"method": "bank", "bank_details": bank, "csrf_token": token},
    )
    assert response.status_code == 303
    (entry,) = _entries(app)
    assert (entry.action, entry.actor_id, entry.target_type) == (
        "vendor.payout_details",
        vendor.id,
        "vendor",
    )
    assert entry.after == {"method": "bank", "stripe_account_id": None, "bank_last4": "lays"}
    assert "GB33" not in str(entry.after)
    # A refused change writes nothing.
    client.post(
        "/vendor/payouts/details",
        data={"method": "stripe", "stripe_account_id": "pk_live_x", "csrf_token": token},
    )
    assert len(_entries(app)) == 1


def test_disabling_and_enabling_a_licence_is_audited(app, client, make_user):
    made = create_licence(app, make_user)
    with app.app_context():
        vendor = db.session.get(User, made.vendor_user_id)
        db.session.expunge(vendor)
    login(client, vendor)
    token = csrf_token(client, "/vendor/licences")
    for action, reason in (("disable", "Chargeback on the card"), ("enable", "Resolved")):
        response = client.post(
            f"/vendor/licences/{made.id}/{action}", data={"reason": reason, "csrf_token": token}
        )
        assert response.status_code == 303
    entries = _entries(app)
    assert [(e.action, e.target_id, e.reason, e.actor_id) for e in entries] == [
        ("licence.disable", str(made.id), "Chargeback on the card", vendor.id),
        ("licence.enable", str(made.id), "Resolved", vendor.id),
    ]
    assert entries[0].after["status"] == "disabled" and entries[1].after["status"] == "active"
