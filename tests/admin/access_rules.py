"""Access rules for the admin's failed-deliveries page (see tests/test_access.py)."""

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


RULES = [
    ("GET", "/admin/deliveries", _statuses(302, 403, 403, 200)),
    ("POST", admin_delivery_retry_POST, _statuses(302, 403, 403, 303)),
    ("POST", "/admin/deliveries/999999/retry", _statuses(302, 403, 403, 404)),
]
