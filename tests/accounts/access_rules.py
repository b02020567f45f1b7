"""Access rules for the account routes (see tests/test_access.py)."""

from app.accounts.services import make_reset_token, make_verification_token
from app.extensions import db

ALL_200 = {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}
LOGGED_IN_ONLY = {"anonymous": 302, "customer": 200, "vendor": 200, "admin": 200}
# Logged-in users are sent home from the sign-up and login forms.
ANONYMOUS_ONLY = {"anonymous": 200, "customer": 303, "vendor": 303, "admin": 303}


def accounts_verify_GET(app, make_user):
    user = make_user(verified=False)
    with app.test_request_context():
        return "/verify/" + make_verification_token(db.session.merge(user))


def accounts_reset_GET(app, make_user):
    user = make_user()
    with app.test_request_context():
        return "/password/reset/" + make_reset_token(db.session.merge(user))


def accounts_reset_POST(app, make_user):
    return accounts_reset_GET(app, make_user)


RULES = [
    ("GET", "/signup", ANONYMOUS_ONLY),
    ("POST", "/signup", {"anonymous": 422, "customer": 422, "vendor": 422, "admin": 422}),
    ("GET", "/login", ANONYMOUS_ONLY),
    ("POST", "/login", {"anonymous": 422, "customer": 422, "vendor": 422, "admin": 422}),
    ("POST", "/logout", {"anonymous": 303, "customer": 303, "vendor": 303, "admin": 303}),
    ("GET", accounts_verify_GET, {"anonymous": 303, "customer": 303, "vendor": 303, "admin": 303}),
    (
        "GET",
        "/verify/not-a-token",
        {"anonymous": 400, "customer": 400, "vendor": 400, "admin": 400},
    ),
    ("POST", "/verify/resend", {"anonymous": 302, "customer": 303, "vendor": 303, "admin": 303}),
    ("GET", "/password/forgot", ALL_200),
    ("POST", "/password/forgot", {"anonymous": 422, "customer": 422, "vendor": 422, "admin": 422}),
    ("GET", accounts_reset_GET, ALL_200),
    ("POST", accounts_reset_POST, {"anonymous": 422, "customer": 422, "vendor": 422, "admin": 422}),
    ("GET", "/account/password", LOGGED_IN_ONLY),
    ("POST", "/account/password", {"anonymous": 302, "customer": 422, "vendor": 422, "admin": 422}),
    ("GET", "/account", LOGGED_IN_ONLY),
    ("POST", "/account", {"anonymous": 302, "customer": 303, "vendor": 303, "admin": 303}),
    (
        "GET",
        "/media/avatars/missing.png",
        {"anonymous": 404, "customer": 404, "vendor": 404, "admin": 404},
    ),
]
