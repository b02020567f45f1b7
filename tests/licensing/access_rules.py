"""Access rules for the library and the vendor's keys (see tests/test_access.py).

Licences reached by id belong to someone else: a buyer's page answers 404 to everyone else,
a vendor's action 404 to another store.
"""

from app.extensions import db
from app.licensing.models import LicenceActivation
from tests.licensing.factories import create_licence


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


LOGGED_IN = _statuses(302, 200, 200, 200)
OTHERS = _statuses(302, 404, 404, 404)
SELLER_GET = _statuses(302, 403, 200, 403)
# Another store's key: a customer or admin may not sell (403), a vendor finds nothing (404).
OTHER_STORE = _statuses(302, 403, 404, 403)


def licensing_licence_GET(app, make_user):
    return f"/library/{create_licence(app, make_user).id}"


def licensing_free_POST(app, make_user):
    made = create_licence(app, make_user)
    with app.app_context():
        activation = LicenceActivation(licence_id=made.id, instance_id="box-1")
        db.session.add(activation)
        db.session.commit()
        return f"/library/{made.id}/activations/{activation.id}/free"


def licensing_vendor_status_POST(app, make_user):
    return f"/vendor/licences/{create_licence(app, make_user).id}/disable"


RULES = [
    ("GET", "/library", LOGGED_IN),
    ("GET", licensing_licence_GET, OTHERS),
    ("GET", "/library/2147483647", OTHERS),
    ("POST", licensing_free_POST, OTHERS),
    ("GET", "/vendor/licences", SELLER_GET),
    ("POST", licensing_vendor_status_POST, OTHER_STORE),
    ("POST", "/vendor/licences/1/revoke", _statuses(404, 404, 404, 404)),
]
