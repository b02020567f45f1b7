"""The vendor hears when a payout is sent (payout_sent): a manual one an admin marks sent, a
Stripe transfer; a failed payout sends no such notice."""

from __future__ import annotations

import dataclasses

from app.extensions import db
from app.notifications.models import EmailState
from app.outbox.services import dispatch_committed
from app.vendors import payouts
from app.vendors.models import Payout, VendorProfile
from tests.conftest import csrf_token
from tests.notifications.factories import choose, notices, subject_of
from tests.support.services import body_text
from tests.vendors.test_payouts import _config, _setup


def _vendor_user(app, vendor_id: int):
    with app.app_context():
        user = db.session.get(VendorProfile, vendor_id).user
        db.session.expunge(user)
        return user


def test_a_manual_payout_marked_sent_tells_the_vendor(
    app, make_user, client, login_as, run_jobs, mailbox
):
    vendor_id, *_ = _setup(app, make_user)
    vendor = _vendor_user(app, vendor_id)
    with app.app_context():
        (payout_id,) = payouts.run_payouts(_config(app, payout_minimum_cents=500))
        dispatch_committed()
    run_jobs()
    assert notices(app, vendor.id) == []  # created, not sent yet

    login_as("admin")
    token = csrf_token(client, "/admin/payouts")
    response = client.post(
        f"/admin/payouts/{payout_id}/sent", data={"reference": "BARC-123", "csrf_token": token}
    )
    assert response.status_code == 303
    run_jobs()
    [notice] = notices(app, vendor.id)
    assert (notice.kind, notice.title) == ("payout_sent", "Payout of $8.00 sent")
    assert "by bank transfer, reference BARC-123" in notice.body
    assert notice.link == "/vendor/payouts" and notice.email_state == EmailState.SENT
    [mail] = mailbox.to(vendor.email)
    assert subject_of(mail) == "Payout of $8.00 sent"
    assert "http://localhost/vendor/payouts" in body_text(mail)


def test_a_stripe_payout_tells_the_vendor_and_a_failed_one_does_not(
    app, make_user, stripe_fake, run_jobs, mailbox
):
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
    sent_id, *_ = _setup(app, make_user, method="stripe")
    sent_vendor = _vendor_user(app, sent_id)
    choose(app, sent_vendor.id, "payout_sent", email=False)
    with app.app_context():
        assert len(payouts.run_payouts(config)) == 1
        dispatch_committed()
    run_jobs()
    [notice] = notices(app, sent_vendor.id)
    assert notice.title == "Payout of $8.00 sent" and "to your Stripe account" in notice.body
    assert notice.email_state == EmailState.NONE and mailbox.to(sent_vendor.email) == []

    stripe_fake.refused_destinations.add("acct_1TestVendor01")
    failed_id, *_ = _setup(app, make_user, method="stripe")
    with app.app_context():
        (payout_id,) = payouts.run_payouts(config)
        assert db.session.get(Payout, payout_id).status == "failed"
        dispatch_committed()
    run_jobs()
    assert notices(app, _vendor_user(app, failed_id).id) == []
