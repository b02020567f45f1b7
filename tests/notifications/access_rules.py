"""Access rules for the notification routes (see tests/test_access.py)."""

from app.accounts.models import User
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import unsubscribe_token


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


def someone_elses_notification(app, make_user) -> int:
    owner = make_user()
    with app.app_context():
        row = Notification(user_id=owner.id, kind="sale_made", title="A sale", link="/")
        db.session.add(row)
        db.session.commit()
        return row.id


def notifications_read_POST(app, make_user):
    # Another user's notification: 404 for everyone signed in (IDOR).
    return f"/notifications/{someone_elses_notification(app, make_user)}/read"


def notifications_unsubscribe_GET(app, make_user):
    owner = make_user()
    with app.app_context():
        token = unsubscribe_token(db.session.get(User, owner.id), "sale_made")
    return f"/notifications/unsubscribe/{owner.id}/sale_made/{token}"


def notifications_unsubscribe_POST(app, make_user):
    return notifications_unsubscribe_GET(app, make_user)


SIGNED_IN = _statuses(302, 200, 200, 200)

RULES = [
    ("GET", "/notifications", SIGNED_IN),
    ("GET", "/notifications?show=unread&page=2", SIGNED_IN),
    ("GET", "/notifications/unread", _statuses(204, 200, 200, 200)),
    ("POST", notifications_read_POST, _statuses(302, 404, 404, 404)),
    ("POST", "/notifications/999999/read", _statuses(302, 404, 404, 404)),
    ("POST", "/notifications/read-all", _statuses(302, 303, 303, 303)),
    ("GET", "/account/notifications", SIGNED_IN),
    ("POST", "/account/notifications", _statuses(302, 303, 303, 303)),
    ("GET", notifications_unsubscribe_GET, _statuses(200, 200, 200, 200)),
    ("POST", notifications_unsubscribe_POST, _statuses(200, 200, 200, 200)),
    ("GET", "/notifications/unsubscribe/1/sale_made/forged", _statuses(400, 400, 400, 400)),
    ("POST", "/notifications/unsubscribe/1/sale_made/forged", _statuses(400, 400, 400, 400)),
]
