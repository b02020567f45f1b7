"""Access rules for the admin panel (see tests/test_access.py)."""

from app.extensions import db
from app.outbox.models import Event, EventDelivery
from app.timeutil import utcnow


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


def failed_delivery(app) -> int:
    """A delivery that used up its retries; returns its id."""
    with app.app_context():
        event = Event(name="user.verified", payload={"user_id": 1}, dispatched_at=utcnow())
        db.session.add(event)
        db.session.flush()
        row = EventDelivery(
            event_id=event.id,
            handler="send_welcome_email",
            failed_at=utcnow(),
            error="ConnectionRefusedError: [Errno 111] Connection refused",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def admin_delivery_retry_POST(app, make_user):
    return f"/admin/deliveries/{failed_delivery(app)}/retry"


def admin_user_GET(app, make_user):
    return f"/admin/users/{make_user().id}"


def admin_user_action_POST(app, make_user):
    # Without a reason and the confirmation the form is refused.
    return f"/admin/users/{make_user().id}/ban"


def admin_product_featured_POST(app, make_user):
    from tests.catalog.factories import create_product

    return f"/admin/products/{create_product(app, make_user)}/featured"


def _store(app, make_user) -> int:
    from tests.catalog.factories import create_product

    with app.app_context():
        from app.catalog.models import Product

        product_id = create_product(app, make_user)
        return db.session.get(Product, product_id).vendor_id


def admin_vendor_commission_POST(app, make_user):
    # Without a reason and the confirmation the form is refused.
    return f"/admin/vendors/{_store(app, make_user)}/commission"


def admin_vendor_payouts_POST(app, make_user):
    return f"/admin/vendors/{_store(app, make_user)}/payouts/hold"


ADMIN = _statuses(302, 403, 403, 200)

RULES = [
    ("GET", "/admin", ADMIN),
    ("GET", "/admin/users", ADMIN),
    ("GET", "/admin/users?q=x&filter=banned&sort=email&dir=asc&page=3", ADMIN),
    ("GET", admin_user_GET, ADMIN),
    ("GET", "/admin/users/999999", _statuses(302, 403, 403, 404)),
    ("POST", admin_user_action_POST, _statuses(302, 403, 403, 422)),
    ("POST", "/admin/users/999999/suspend", _statuses(302, 403, 403, 404)),
    ("POST", "/admin/users/1/explode", _statuses(302, 403, 403, 404)),
    ("GET", "/admin/products", ADMIN),
    ("GET", "/admin/products?filter=suspended&sort=title", ADMIN),
    ("POST", admin_product_featured_POST, _statuses(302, 403, 403, 303)),
    ("POST", "/admin/products/999999/featured", _statuses(302, 403, 403, 404)),
    ("GET", "/admin/jobs", ADMIN),
    ("GET", "/admin/jobs?queue=default", ADMIN),
    ("POST", "/admin/jobs/default/no-such-job/retry", _statuses(302, 403, 403, 404)),
    ("POST", "/admin/jobs/nope/no-such-job/retry", _statuses(302, 403, 403, 404)),
    ("POST", "/admin/jobs/default/no-such-job/delete", _statuses(302, 403, 403, 303)),
    ("GET", "/admin/settings", ADMIN),
    ("POST", "/admin/settings/featured_limit", _statuses(302, 403, 403, 422)),
    ("POST", "/admin/settings/no_such_setting", _statuses(302, 403, 403, 404)),
    ("GET", "/admin/audit", ADMIN),
    ("GET", "/admin/audit?q=user:1&filter=user.&sort=action&dir=asc", ADMIN),
    ("GET", "/admin/vendors?q=store&filter=payouts_held&sort=name&dir=asc&page=2", ADMIN),
    ("POST", admin_vendor_commission_POST, _statuses(302, 403, 403, 422)),
    ("POST", "/admin/vendors/999999/commission", _statuses(302, 403, 403, 404)),
    ("POST", admin_vendor_payouts_POST, _statuses(302, 403, 403, 422)),
    ("POST", "/admin/vendors/1/payouts/explode", _statuses(404, 404, 404, 404)),
    ("GET", "/admin/reports", ADMIN),
    ("GET", "/admin/reports?range=90", ADMIN),
    ("GET", "/admin/reports?range=custom&start=2026-01-01&end=2026-02-01", ADMIN),
    (
        "GET",
        "/admin/reports?range=custom&start=2026-02-01&end=2026-01-01",
        _statuses(302, 403, 403, 422),
    ),
    ("GET", "/admin/reports.csv", ADMIN),
    ("GET", "/admin/reports.csv?range=custom&start=x&end=y", _statuses(302, 403, 403, 422)),
    ("GET", "/admin/ledger", ADMIN),
    (
        "GET",
        "/admin/ledger?q=sale&filter=vendor&kind=gross&currency=USD&start=2026-01-01"
        "&end=2026-02-01&sort=amount&dir=asc&page=2",
        ADMIN,
    ),
    ("GET", "/admin/ledger?start=2026-02-01&end=2026-01-01", _statuses(302, 403, 403, 422)),
    ("GET", "/admin/ledger.csv", ADMIN),
    ("GET", "/admin/ledger.csv?filter=platform&start=x", _statuses(302, 403, 403, 422)),
    ("GET", "/admin/deliveries", _statuses(302, 403, 403, 200)),
    ("POST", admin_delivery_retry_POST, _statuses(302, 403, 403, 303)),
    ("POST", "/admin/deliveries/999999/retry", _statuses(302, 403, 403, 404)),
]
