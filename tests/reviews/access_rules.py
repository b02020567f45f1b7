"""Access rules for the review routes (see tests/test_access.py).

The reviews reached by id are on another vendor's product: a vendor (or an admin, who may
sell too) asking to reply gets 404, never the form; a customer may not sell at all (403).
Writing needs a licence: everyone here is a non-buyer, refused with 403 and the reason.
"""

from tests.catalog.factories import create_product
from tests.reviews.factories import reviewed_product


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


SIGNED_IN_200 = _statuses(302, 200, 200, 200)
NON_BUYER = _statuses(302, 403, 403, 403)
OTHERS_REVIEW = _statuses(302, 403, 404, 404)
ADMIN_GET = _statuses(302, 403, 403, 200)


def reviews_review_GET(app, make_user):
    return f"/products/{create_product(app, make_user, 'Reviewable')}/review"


def reviews_review_POST(app, make_user):
    return reviews_review_GET(app, make_user)


def reviews_reply_GET(app, make_user):
    return f"/reviews/{reviewed_product(app, make_user)[1]}/reply"


def reviews_reply_POST(app, make_user):
    return reviews_reply_GET(app, make_user)


def reviews_report_GET(app, make_user):
    return f"/reviews/{reviewed_product(app, make_user)[1]}/report"


def reviews_report_POST(app, make_user):
    return reviews_report_GET(app, make_user)


def reviews_pending_report_GET(app, make_user):
    return f"/reviews/{reviewed_product(app, make_user, status='pending')[1]}/report"


def reviews_admin_review_GET(app, make_user):
    return f"/admin/reviews/{reviewed_product(app, make_user, status='pending')[1]}"


def reviews_admin_moderate_POST(app, make_user):
    return f"/admin/reviews/{reviewed_product(app, make_user, status='pending')[1]}/approve"


def reviews_hide_without_reason_POST(app, make_user):
    return f"/admin/reviews/{reviewed_product(app, make_user)[1]}/hide"


RULES = [
    ("GET", reviews_review_GET, NON_BUYER),
    ("POST", reviews_review_POST, NON_BUYER),
    ("GET", "/products/999999/review", _statuses(302, 404, 404, 404)),
    ("GET", "/reviews/mine", SIGNED_IN_200),
    # Sellers only; an admin (who may sell) has no store, so an empty list.
    ("GET", "/vendor/reviews", _statuses(302, 403, 200, 200)),
    ("GET", "/vendor/reviews?show=unanswered&page=3", _statuses(302, 403, 200, 200)),
    ("GET", reviews_reply_GET, OTHERS_REVIEW),
    ("POST", reviews_reply_POST, OTHERS_REVIEW),
    ("GET", reviews_report_GET, SIGNED_IN_200),
    # A bare POST (the token only) is an incomplete form.
    ("POST", reviews_report_POST, _statuses(302, 422, 422, 422)),
    ("GET", reviews_pending_report_GET, _statuses(302, 404, 404, 404)),
    ("GET", "/admin/reviews", ADMIN_GET),
    ("GET", "/admin/reviews?queue=reported&page=2", ADMIN_GET),
    ("GET", reviews_admin_review_GET, ADMIN_GET),
    ("GET", "/admin/reviews/999999", _statuses(302, 403, 403, 404)),
    ("POST", reviews_admin_moderate_POST, _statuses(302, 403, 403, 303)),
    ("POST", reviews_hide_without_reason_POST, _statuses(302, 403, 403, 422)),
    ("POST", "/admin/reviews/999999/approve", _statuses(302, 403, 403, 404)),
    ("POST", "/admin/reviews/1/nuke", _statuses(302, 403, 403, 404)),
]
