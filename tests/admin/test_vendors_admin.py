"""Admin vendors: the list (search, filter, sort, pages), per-vendor commission and payout holds
(the payouts job skips a held store), each with a reason, a confirmation and an audit row."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from app.admin import services as admin
from app.admin.models import AuditEntry
from app.catalog.models import Product
from app.commerce.models import Order, OrderLine
from app.commerce.services import commission_bps_for
from app.extensions import db
from app.timeutil import utcnow
from app.vendors import payouts
from app.vendors.models import VendorProfile
from tests.catalog.factories import create_product
from tests.conftest import PAYOUT_TEST_KEY, csrf_token, login
from tests.vendors.factories import create_sale, vendor_id_of

CONFIRMED = {"reason": "Agreed in the partner contract.", "confirm": "y"}


def _store(app, make_user, name="Shop", status="approved") -> int:
    user = make_user(store=False)
    with app.app_context():
        profile = VendorProfile(
            user_id=user.id,
            store_name=name,
            slug=f"shop-{user.id}",
            support_email=f"help-{user.id}@example.com",
            country="US",
            status=status,
        )
        db.session.add(profile)
        db.session.commit()
        return profile.id


def _profile(app, vendor_id) -> VendorProfile:
    with app.app_context():
        profile = db.session.get(VendorProfile, vendor_id)
        db.session.expunge(profile)
        return profile


def test_the_list_searches_filters_sorts_and_paginates(app, client, login_as, make_user):
    login_as("admin")
    for n in range(27):
        _store(app, make_user, f"Bulk {n:02d}")
    waiting = _store(app, make_user, "Waiting room", status="pending")
    held = _store(app, make_user, "Frozen goods")
    with app.app_context():
        db.session.get(VendorProfile, held).payouts_held = True
        db.session.commit()
    # The page opens on the applications waiting for a decision.
    first = client.get("/admin/vendors").text
    assert "Waiting room" in first and "Bulk 00" not in first
    page = client.get("/admin/vendors?q=bulk&filter=approved&sort=name&dir=asc").text
    assert "Bulk 00" in page and "Bulk 24" in page and "Bulk 25" not in page
    assert "Page 1 of 2" in page and "Waiting room" not in page
    second = client.get("/admin/vendors?q=bulk&filter=approved&sort=name&dir=asc&page=2").text
    assert "Bulk 26" in second and "Bulk 00" not in second
    # "All" is kept from page to page (an empty filter is not the default one).
    everything = client.get("/admin/vendors?filter=&sort=name&dir=asc")
    assert "filter=&amp;" in everything.text or "filter=&" in everything.text
    frozen = client.get("/admin/vendors?filter=payouts_held").text
    assert "Frozen goods" in frozen and "Bulk 00" not in frozen
    by_email = client.get(f"/admin/vendors?filter=&q=help-{_owner(app, waiting)}@").text
    assert "Waiting room" in by_email and "Bulk" not in by_email
    fragment = client.get("/admin/vendors?q=frozen&filter=", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="results">')


def _owner(app, vendor_id) -> int:
    return _profile(app, vendor_id).user_id


def test_commission_is_set_with_a_reason_and_cleared(app, client, login_as, make_user):
    actor = login_as("admin")
    product_id = create_product(app, make_user, "Priced")
    vendor_id = vendor_id_of(app, product_id)
    token = csrf_token(client, "/admin/vendors")
    url = f"/admin/vendors/{vendor_id}/commission"
    # Money: without the confirmation, or with a rate that is not one, nothing changes.
    unconfirmed = client.post(
        url, data={"commission_bps": "900", "reason": "Deal", "csrf_token": token}
    )
    assert unconfirmed.status_code == 422 and "Tick the box to confirm." in unconfirmed.text
    for bad in ("abc", "10001", "-5", "12.5"):
        refused = client.post(url, data={"commission_bps": bad, **CONFIRMED, "csrf_token": token})
        assert refused.status_code == 422 and "basis points" in refused.text
    assert _profile(app, vendor_id).commission_bps is None

    done = client.post(url, data={"commission_bps": "900", **CONFIRMED, "csrf_token": token})
    assert done.status_code == 303
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert commission_bps_for(product, 1500) == 900  # new orders are charged the store's
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.before, e.after, e.reason, e.actor_id) for e in entries] == [
        (
            "vendor.commission_set",
            {"commission_bps": None},
            {"commission_bps": 900},
            CONFIRMED["reason"],
            actor.id,
        )
    ]

    cleared = client.post(url, data={"commission_bps": "", **CONFIRMED, "csrf_token": token})
    assert cleared.status_code == 303
    assert _profile(app, vendor_id).commission_bps is None
    with app.app_context():
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "vendor.commission_cleared" and last.before == {"commission_bps": 900}


def _payable_store(app, make_user) -> int:
    """A store with 16.00 net from two sales 20 days ago and bank payout details."""
    product = create_product(app, make_user, "Sold")
    vendor_id = vendor_id_of(app, product)
    buyer = make_user()
    for _ in range(2):
        create_sale(app, buyer.id, product, utcnow() - timedelta(days=20))
    with app.app_context():
        payouts.save_payout_details(
            db.session.get(VendorProfile, vendor_id), "bank", "", "GB33 BUKB 2020", PAYOUT_TEST_KEY
        )
        db.session.commit()
    return vendor_id


def test_a_payout_hold_stops_the_payouts_job_until_released(app, client, login_as, make_user):
    login_as("admin")
    held = _payable_store(app, make_user)
    other = _payable_store(app, make_user)
    token = csrf_token(client, "/admin/vendors")
    no_reason = client.post(
        f"/admin/vendors/{held}/payouts/hold", data={"confirm": "y", "csrf_token": token}
    )
    assert no_reason.status_code == 422 and not _profile(app, held).payouts_held
    response = client.post(
        f"/admin/vendors/{held}/payouts/hold", data={**CONFIRMED, "csrf_token": token}
    )
    assert response.status_code == 303
    profile = _profile(app, held)
    assert profile.payouts_held and profile.payouts_held_reason == CONFIRMED["reason"]
    assert "payouts held" in client.get("/admin/vendors?filter=payouts_held").text
    # Holding twice is refused.
    again = client.post(
        f"/admin/vendors/{held}/payouts/hold", data={**CONFIRMED, "csrf_token": token}
    )
    assert again.status_code == 409

    config = dataclasses.replace(app.config["APP_CONFIG"], payout_minimum_cents=500)
    with app.app_context():
        created = payouts.run_payouts(config)
        assert [db.session.get(payouts.Payout, p).vendor_id for p in created] == [other]
        assert (
            payouts.create_payout(db.session.get(VendorProfile, held), "USD", utcnow(), config)
            is None
        )
        db.session.rollback()

    released = client.post(
        f"/admin/vendors/{held}/payouts/release", data={**CONFIRMED, "csrf_token": token}
    )
    assert released.status_code == 303
    profile = _profile(app, held)
    assert not profile.payouts_held and profile.payouts_held_at is None
    with app.app_context():
        (payout_id,) = payouts.run_payouts(config)
        assert db.session.get(payouts.Payout, payout_id).amount_cents == 1600
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["vendor.payouts_hold", "vendor.payouts_release"]


def test_the_money_settings_apply_to_checkout_and_payouts(app, client, login_as, make_user):
    """The settings page's commission, hold and minimum are what checkout and the payouts job
    use (their defaults are the environment's)."""
    store = _payable_store(app, make_user)
    config = app.config["APP_CONFIG"]
    with app.app_context():
        assert admin.get_setting("default_commission_bps") == config.platform_commission_bps
        assert admin.get_setting("minimum_payout_cents") == config.payout_minimum_cents == 5000
        assert payouts.run_payouts(admin.payout_config(config)) == []  # 16.00 < 50.00
    login_as("admin")
    token = csrf_token(client, "/admin/settings")
    for key, value in (("minimum_payout_cents", "1000"), ("default_commission_bps", "1234")):
        response = client.post(
            f"/admin/settings/{key}", data={"value": value, **CONFIRMED, "csrf_token": token}
        )
        assert response.status_code == 303
    with app.app_context():
        (payout_id,) = payouts.run_payouts(admin.payout_config(config))
        assert db.session.get(payouts.Payout, payout_id).vendor_id == store

    shopper = app.test_client()
    buyer = make_user("customer")
    login(shopper, buyer)
    product = create_product(app, make_user, "Bought at the new rate", price_cents=1000)
    shopper.post(
        "/cart/items",
        data={"product_id": str(product), "csrf_token": csrf_token(shopper, "/cart")},
    )
    response = shopper.post("/checkout", data={"csrf_token": csrf_token(shopper, "/cart")})
    assert response.status_code == 303
    with app.app_context():
        line = db.session.scalar(select(OrderLine).join(Order).where(Order.buyer_id == buyer.id))
        assert line.commission_bps == 1234
