"""Access rules for vendor analytics and payouts, and the admin's payout pages (see
tests/test_access.py). Another store's listing or payout is a 404 for a vendor; admins, who
have no store, are refused the selling pages (403)."""

from datetime import timedelta

from app.extensions import db
from app.timeutil import utcnow
from app.vendors.models import Payout
from tests.catalog.factories import create_product
from tests.vendors.factories import vendor_id_of


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


SELLER_GET = _statuses(302, 403, 200, 403)
OTHERS = _statuses(302, 403, 404, 403)
ADMIN_GET = _statuses(302, 403, 403, 200)
ADMIN_POST = _statuses(302, 403, 403, 303)


def _payout(app, make_user) -> int:
    """A pending bank payout of another store."""
    vendor_id = vendor_id_of(app, create_product(app, make_user, "Paid out"))
    with app.app_context():
        payout = Payout(
            vendor_id=vendor_id,
            amount_cents=1000,
            currency="USD",
            method="bank",
            status="pending",
            txn=f"payout:test-{vendor_id}",
            period_end=utcnow() - timedelta(minutes=1),
        )
        db.session.add(payout)
        db.session.commit()
        return payout.id


def vendors_product_analytics_GET(app, make_user):
    return f"/vendor/analytics/{create_product(app, make_user, 'Not yours')}"


def vendors_statement_GET(app, make_user):
    return f"/vendor/payouts/{_payout(app, make_user)}/statement.csv"


def vendors_admin_payout_sent_POST(app, make_user):
    # Without a reference: the admin is sent back with a message.
    return f"/admin/payouts/{_payout(app, make_user)}/sent"


def vendors_admin_payout_failed_POST(app, make_user):
    return f"/admin/payouts/{_payout(app, make_user)}/failed"


RULES = [
    ("GET", "/vendor/analytics", SELLER_GET),
    (
        "GET",
        "/vendor/analytics?range=custom&start=2026-02-01&end=2026-01-01",
        _statuses(302, 403, 422, 403),
    ),
    ("GET", vendors_product_analytics_GET, OTHERS),
    ("GET", "/vendor/analytics/999999", OTHERS),
    ("GET", "/vendor/analytics/daily.csv", SELLER_GET),
    ("GET", "/vendor/analytics/sales.csv?range=90", SELLER_GET),
    ("GET", "/vendor/analytics/sales.csv?product=999999", OTHERS),
    ("GET", "/vendor/payouts", SELLER_GET),
    ("GET", "/vendor/payouts/details", SELLER_GET),
    ("POST", "/vendor/payouts/details", _statuses(302, 403, 422, 403)),
    ("GET", vendors_statement_GET, OTHERS),
    ("GET", "/vendor/payouts/999999/statement.csv", OTHERS),
    ("GET", "/admin/payouts", ADMIN_GET),
    ("GET", "/admin/payouts?status=sent", ADMIN_GET),
    ("POST", "/admin/payouts/run", ADMIN_POST),
    ("POST", vendors_admin_payout_sent_POST, ADMIN_POST),
    ("POST", vendors_admin_payout_failed_POST, ADMIN_POST),
]
