"""Access rules for the support routes (see tests/test_access.py).

Every thread, line, attachment and escalation reached by id here belongs to other accounts:
signed-in users who are neither side get 404 (never 403, which would say it exists); an
admin reads a thread (and its images) only once it was escalated.
"""

from tests.support_threads.factories import make_thread, purchase


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


SIGNED_IN_200 = _statuses(302, 200, 200, 200)
NOT_THEIRS = _statuses(302, 404, 404, 404)
SELLERS_200 = _statuses(302, 403, 200, 200)
ADMIN_GET = _statuses(302, 403, 403, 200)


def support_new_GET(app, make_user):
    return f"/support/new/{purchase(app, make_user).line_id}"


def support_new_POST(app, make_user):
    return support_new_GET(app, make_user)


def support_thread_GET(app, make_user):
    return f"/support/{make_thread(app, make_user).thread_id}"


def support_escalated_thread_GET(app, make_user):
    return f"/support/{make_thread(app, make_user, escalated=True).thread_id}"


def support_message_POST(app, make_user):
    return f"/support/{make_thread(app, make_user).thread_id}/messages"


def support_close_POST(app, make_user):
    return f"/support/{make_thread(app, make_user).thread_id}/close"


def support_escalate_POST(app, make_user):
    return f"/support/{make_thread(app, make_user).thread_id}/escalate"


def support_attachment_GET(app, make_user):
    return f"/support/attachments/{make_thread(app, make_user).attachment_id}"


def support_escalated_attachment_GET(app, make_user):
    return f"/support/attachments/{make_thread(app, make_user, escalated=True).attachment_id}"


def support_admin_resolve_POST(app, make_user):
    made = make_thread(app, make_user, escalated=True)
    return f"/admin/support/escalations/{made.escalation_id}/resolve"


RULES = [
    ("GET", "/support", SIGNED_IN_200),
    ("GET", "/support?page=9", SIGNED_IN_200),
    ("GET", support_new_GET, NOT_THEIRS),
    # The bare POST (the token only) is an incomplete form, but the line is looked up first.
    ("POST", support_new_POST, NOT_THEIRS),
    ("GET", "/support/new/999999", NOT_THEIRS),
    ("GET", support_thread_GET, NOT_THEIRS),
    ("GET", support_escalated_thread_GET, _statuses(302, 404, 404, 200)),
    ("GET", "/support/999999", NOT_THEIRS),
    ("POST", support_message_POST, NOT_THEIRS),
    ("POST", support_close_POST, NOT_THEIRS),
    ("POST", support_escalate_POST, NOT_THEIRS),
    ("GET", support_attachment_GET, NOT_THEIRS),
    ("GET", support_escalated_attachment_GET, _statuses(302, 404, 404, 200)),
    ("GET", "/vendor/support", SELLERS_200),
    ("GET", "/vendor/support?status=answered&page=2", SELLERS_200),
    ("GET", "/vendor/support?status=nonsense", SELLERS_200),
    # An admin may sell but has no store: nothing to set.
    ("GET", "/vendor/support/settings", _statuses(302, 403, 200, 404)),
    ("POST", "/vendor/support/settings", _statuses(302, 403, 422, 404)),
    ("GET", "/admin/support", ADMIN_GET),
    ("GET", "/admin/support?filter=open&sort=resolved&dir=asc&q=x&page=2", ADMIN_GET),
    # Without a note the admin gets the thread page back with the form's errors.
    ("POST", support_admin_resolve_POST, _statuses(302, 403, 403, 422)),
    ("POST", "/admin/support/escalations/999999/resolve", _statuses(302, 403, 403, 404)),
]
