"""The admin panel: every admin POST writes one audit row, bans end sessions at once and take
a vendor's listings down, settings keep their history, jobs are retried and deleted through
RQ, lists search, filter, sort and paginate."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.accounts.models import User
from app.admin import services as admin
from app.admin.models import AppSettingChange, AuditEntry, AuditLogIsAppendOnly
from app.catalog.models import Category, Product
from app.extensions import db
from app.outbox.models import Event
from app.vendors.models import VendorProfile
from tests.admin.access_rules import failed_delivery
from tests.assets.access_rules import _version
from tests.catalog.factories import create_product
from tests.commerce.factories import sandbox_paid_order
from tests.conftest import csrf_token, login
from tests.reviews.factories import reviewed_product
from tests.support_threads.factories import make_thread
from tests.vendors.access_rules import _payout


def explode() -> None:
    """A job that always fails (for the failed-job registry)."""
    raise RuntimeError("boom")


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def _vendor_of(app, product_id: int) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).vendor.user_id


def _application(app, make_user, status: str = "pending") -> int:
    user = make_user(store=False)
    with app.app_context():
        profile = VendorProfile(
            user_id=user.id,
            store_name="Applicant",
            slug=f"applicant-{user.id}",
            support_email=user.email,
            country="US",
            status=status,
        )
        db.session.add(profile)
        db.session.commit()
        return profile.id


def _category(app) -> int:
    with app.app_context():
        category = Category(name="Ops", slug="ops", description="", position=0)
        db.session.add(category)
        db.session.commit()
        return category.id


def _failed_job(app) -> str:
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    job = queue.enqueue("tests.admin.test_admin.explode")
    with app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert job.id in queue.failed_job_registry.get_job_ids()
    return job.id


CONFIRMED = {"reason": "Checked with the team.", "confirm": "y"}

# endpoint -> builds (url, form data) on a fresh database. One entry per admin POST action.
Case = Callable[..., tuple[str, dict[str, str]]]
CASES: dict[str, Case] = {
    "decide approve": lambda app, mk: (
        f"/admin/products/{create_product(app, mk, status='pending')}/approve",
        {"note": "Fine"},
    ),
    "decide suspend": lambda app, mk: (
        f"/admin/products/{create_product(app, mk)}/suspend",
        {"note": "Broken"},
    ),
    "vendor approve": lambda app, mk: (f"/admin/vendors/{_application(app, mk)}/approve", {}),
    "vendor decline": lambda app, mk: (
        f"/admin/vendors/{_application(app, mk)}/decline",
        {"reason": "No address"},
    ),
    "vendor verify": lambda app, mk: (
        f"/admin/vendors/{_application(app, mk, 'approved')}/verify",
        {},
    ),
    "category create": lambda app, mk: ("/admin/categories", {"name": "New", "position": "0"}),
    "category edit": lambda app, mk: (
        f"/admin/categories/{_category(app)}",
        {"name": "Renamed", "position": "1"},
    ),
    "delivery retry": lambda app, mk: (f"/admin/deliveries/{failed_delivery(app)}/retry", {}),
    "user grant_vendor": lambda app, mk: (
        f"/admin/users/{_applicant_user(app, mk)}/grant_vendor",
        {"reason": "Verified by phone"},
    ),
    "user revoke_vendor": lambda app, mk: (f"/admin/users/{mk('vendor').id}/revoke_vendor", {}),
    "user grant_admin": lambda app, mk: (f"/admin/users/{mk().id}/grant_admin", {}),
    "user revoke_admin": lambda app, mk: (f"/admin/users/{mk('admin').id}/revoke_admin", {}),
    "user suspend": lambda app, mk: (f"/admin/users/{mk().id}/suspend", CONFIRMED),
    "user ban": lambda app, mk: (f"/admin/users/{mk('vendor').id}/ban", CONFIRMED),
    "user reactivate": lambda app, mk: (
        f"/admin/users/{_disabled(app, mk)}/reactivate",
        CONFIRMED,
    ),
    "product feature": lambda app, mk: (
        f"/admin/products/{create_product(app, mk)}/featured",
        {"featured": "1"},
    ),
    "job retry": lambda app, mk: (f"/admin/jobs/default/{_failed_job(app)}/retry", {}),
    "job delete": lambda app, mk: (f"/admin/jobs/default/{_failed_job(app)}/delete", CONFIRMED),
    "setting change": lambda app, mk: (
        "/admin/settings/default_commission_bps",
        {"value": "1200", **CONFIRMED},
    ),
    "vendor commission set": lambda app, mk: (
        f"/admin/vendors/{_application(app, mk, 'approved')}/commission",
        {"commission_bps": "900", **CONFIRMED},
    ),
    "vendor commission clear": lambda app, mk: (
        f"/admin/vendors/{_application(app, mk, 'approved')}/commission",
        {"commission_bps": "", **CONFIRMED},
    ),
    "vendor payouts hold": lambda app, mk: (
        f"/admin/vendors/{_application(app, mk, 'approved')}/payouts/hold",
        CONFIRMED,
    ),
    "vendor payouts release": lambda app, mk: (
        f"/admin/vendors/{_held(app, mk)}/payouts/release",
        CONFIRMED,
    ),
    # Admin actions that live in their own domains (orders, uploads, reviews, payouts).
    "order refund": lambda app, mk: (
        f"/admin/orders/{sandbox_paid_order(app, mk)}/refund",
        {"reason": "The buyer asked", "confirm": "y"},
    ),
    "version rescan": lambda app, mk: (
        f"/admin/versions/{_version(app, mk, scan=True)[1]}/rescan",
        {},
    ),
    "version rescan_all": lambda app, mk: ("/admin/versions/rescan", {}),
    "review hide": lambda app, mk: (
        f"/admin/reviews/{reviewed_product(app, mk)[1]}/hide",
        {"reason": "Insults are not reviews"},
    ),
    "payout sent": lambda app, mk: (
        f"/admin/payouts/{_payout(app, mk)}/sent",
        {"reference": "BARC-1", "confirm": "y"},
    ),
    "payout failed": lambda app, mk: (
        f"/admin/payouts/{_payout(app, mk)}/failed",
        {"reason": "IBAN refused", "confirm": "y"},
    ),
    "payout run": lambda app, mk: (
        "/admin/payouts/run",
        {"reason": "Month end", "confirm": "y"},
    ),
    "support escalation_resolved": lambda app, mk: (
        f"/admin/support/escalations/{make_thread(app, mk, escalated=True).escalation_id}/resolve",
        {"note": "We reached the vendor."},
    ),
}
# Which endpoint each case reaches: together they must cover every admin POST route.
CASE_ENDPOINTS = {
    "decide": "admin.decide_POST",
    "vendor": "admin.vendor_POST",
    "category create": "admin.categories_POST",
    "category edit": "admin.category_POST",
    "delivery": "admin.delivery_retry_POST",
    "user": "admin.user_action_POST",
    "product": "admin.product_featured_POST",
    "job retry": "admin.job_retry_POST",
    "job delete": "admin.job_delete_POST",
    "setting": "admin.setting_POST",
    "vendor commission": "admin.vendor_commission_POST",
    "vendor payouts": "admin.vendor_payouts_POST",
    "order refund": "commerce.admin_refund_POST",
    "version rescan": "assets.admin_rescan_POST",
    "version rescan_all": "assets.admin_rescan_all_POST",
    "review": "reviews.admin_moderate_POST",
    "payout sent": "vendors.admin_payout_sent_POST",
    "payout failed": "vendors.admin_payout_failed_POST",
    "payout run": "vendors.admin_run_payouts_POST",
    "support escalation_resolved": "support.admin_resolve_POST",
}


def _applicant_user(app, make_user) -> int:
    profile_id = _application(app, make_user)
    with app.app_context():
        return db.session.get(VendorProfile, profile_id).user_id


def _disabled(app, make_user) -> int:
    from app.timeutil import utcnow

    return make_user(disabled_at=utcnow(), disabled_kind="suspended", disabled_reason="x").id


def _held(app, make_user) -> int:
    profile_id = _application(app, make_user, "approved")
    with app.app_context():
        profile = db.session.get(VendorProfile, profile_id)
        profile.payouts_held, profile.payouts_held_reason = True, "Dispute"
        db.session.commit()
    return profile_id


def _endpoint_of(case: str) -> str:
    # The longest matching key: "vendor commission set" is a commission, not a decision.
    keys = [k for k in CASE_ENDPOINTS if case == k or case.startswith(k + " ")]
    return CASE_ENDPOINTS[max(keys, key=len)]


def test_the_cases_cover_every_admin_post_route(app):
    # Every POST under /admin, whichever package serves it.
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin") and "POST" in rule.methods
    }
    assert posts == {_endpoint_of(case) for case in CASES}
    # And every user action.
    from app.admin.views import USER_MESSAGES

    assert {c.split(" ", 1)[1] for c in CASES if c.startswith("user ")} == set(USER_MESSAGES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_admin_action_writes_one_audit_row(app, client, login_as, make_user, case):
    actor = login_as("admin")
    url, data = CASES[case](app, make_user)
    before = _audit_count(app)
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, "/admin")})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert _audit_count(app) == before + 1
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.actor_id == actor.id and entry.actor_email == actor.email
    assert entry.ip == "127.0.0.1"
    assert case.split(" ")[0] in entry.action or entry.action.startswith(("product.", "user."))
    verb = entry.action.split(".", 1)[1]
    assert verb.startswith(case.split(" ")[1]) or case.startswith("category ")


def test_a_refused_action_writes_no_audit_row(app, client, login_as, make_user):
    login_as("admin")
    target = make_user()
    token = csrf_token(client, "/admin")
    # A ban without the confirmation is asked again (422), and nothing is recorded.
    response = client.post(
        f"/admin/users/{target.id}/ban", data={"reason": "Spam", "csrf_token": token}
    )
    assert response.status_code == 422 and "Tick the box to confirm." in response.text
    assert _audit_count(app) == 0
    with app.app_context():
        assert db.session.get(User, target.id).is_active


def test_an_admin_cannot_act_on_their_own_account(app, client, login_as):
    me = login_as("admin")
    response = client.post(
        f"/admin/users/{me.id}/revoke_admin", data={"csrf_token": csrf_token(client, "/admin")}
    )
    assert response.status_code == 409
    assert _audit_count(app) == 0


def test_ban_ends_the_vendors_session_and_takes_the_listings_down(app, make_user):
    product_id = create_product(app, make_user, "Banned goods")
    vendor_id = _vendor_of(app, product_id)
    with app.app_context():
        vendor = db.session.get(User, vendor_id)
        db.session.expunge(vendor)
    vendor_client = app.test_client()
    assert login(vendor_client, vendor).status_code == 303
    assert vendor_client.get("/vendor/products").status_code == 200
    assert app.test_client().get("/products/" + _slug(app, product_id)).status_code == 200

    admin_client = app.test_client()
    assert login(admin_client, make_user("admin")).status_code == 303
    response = admin_client.post(
        f"/admin/users/{vendor_id}/ban",
        data={**CONFIRMED, "csrf_token": csrf_token(admin_client, "/admin")},
    )
    assert response.status_code == 303

    # The vendor's very next request is anonymous: sent to the login page.
    assert vendor_client.get("/vendor/products").status_code == 302
    assert "Log in" in vendor_client.get("/").text
    with app.app_context():
        user = db.session.get(User, vendor_id)
        assert (user.disabled_kind, user.disabled_reason) == ("banned", CONFIRMED["reason"])
        assert db.session.get(Product, product_id).status == "suspended"
        events = set(db.session.scalars(select(Event.name)))
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.ban"))
    assert "product.suspended" in events  # reindexed off the public search by the outbox
    assert entry.after["listings_suspended"] == 1 and entry.before["disabled"] is None
    assert app.test_client().get("/products/" + _slug(app, product_id)).status_code == 404
    # Logging in again is refused too.
    assert login(app.test_client(), vendor).status_code == 422


def _slug(app, product_id: int) -> str:
    with app.app_context():
        return db.session.get(Product, product_id).slug


def test_suspension_is_lifted_by_reactivation(app, client, login_as, make_user):
    login_as("admin")
    target = make_user()
    token = csrf_token(client, "/admin")
    client.post(f"/admin/users/{target.id}/suspend", data={**CONFIRMED, "csrf_token": token})
    assert login(app.test_client(), target).status_code == 422
    client.post(f"/admin/users/{target.id}/reactivate", data={**CONFIRMED, "csrf_token": token})
    assert login(app.test_client(), target).status_code == 303
    page = client.get(f"/admin/users/{target.id}").text
    assert "user.suspend" in page and "user.reactivate" in page


def test_settings_default_change_and_history(app, client, login_as):
    actor = login_as("admin")
    with app.app_context():
        assert admin.get_setting("payout_hold_days") == 14
    token = csrf_token(client, "/admin/settings")
    # Money: a reason and the confirmation are both required.
    refused = client.post(
        "/admin/settings/payout_hold_days",
        data={"value": "30", "reason": "Fraud wave", "csrf_token": token},
    )
    assert refused.status_code == 422 and "tick the box" in refused.text
    out_of_range = client.post(
        "/admin/settings/payout_hold_days",
        data={"value": "999", **CONFIRMED, "csrf_token": token},
    )
    assert out_of_range.status_code == 422 and "between 0 and 365" in out_of_range.text
    for value in ("30", "21"):
        response = client.post(
            "/admin/settings/payout_hold_days",
            data={"value": value, **CONFIRMED, "csrf_token": token},
        )
        assert response.status_code == 303
    with app.app_context():
        assert admin.get_setting("payout_hold_days") == 21
        history = [(c.before, c.after, c.actor_id) for c in admin.setting_history()]
        assert history == [(30, 21, actor.id), (14, 30, actor.id)]
        assert db.session.scalar(select(func.count()).select_from(AppSettingChange)) == 2
        with pytest.raises(KeyError):
            admin.get_setting("nope")
    page = client.get("/admin/settings").text
    assert "Fraud wave" not in page and "Checked with the team." in page


def test_the_audit_log_is_append_only_and_searchable(app, client, login_as, make_user):
    login_as("admin")
    target = make_user(email="needle@example.com")
    client.post(
        f"/admin/users/{target.id}/grant_admin",
        data={"reason": "On call", "csrf_token": csrf_token(client, "/admin")},
    )
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry))
        entry.reason = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        entry = db.session.scalar(select(AuditEntry))
        db.session.delete(entry)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
    assert "user.grant_admin" in client.get(f"/admin/audit?q=user:{target.id}").text
    assert "user.grant_admin" in client.get("/admin/audit?q=on+call&filter=user.").text
    assert "user.grant_admin" not in client.get("/admin/audit?filter=job.").text


def test_user_list_searches_filters_sorts_and_paginates(app, client, login_as, make_user):
    login_as("admin")
    for n in range(30):
        make_user(email=f"zz{n:02d}@example.com")
    make_user(email="banned@example.com", disabled_kind="banned")
    page = client.get("/admin/users?q=zz&sort=email&dir=asc").text
    assert "zz00@example.com" in page and "zz24@example.com" in page
    assert "zz25@example.com" not in page and "Page 1 of 2" in page
    second = client.get("/admin/users?q=zz&sort=email&dir=asc&page=2").text
    assert "zz25@example.com" in second and "zz00@example.com" not in second
    assert "zz29@example.com" in client.get("/admin/users?q=zz&sort=email").text
    banned = client.get("/admin/users?filter=banned").text
    assert "banned@example.com" in banned and "zz00@" not in banned
    fragment = client.get("/admin/users?q=zz29", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="results">')


def test_products_list_filters_by_status_and_features(app, client, login_as, make_user):
    login_as("admin")
    live = create_product(app, make_user, "Live one")
    create_product(app, make_user, "Draft one", status="draft")
    page = client.get("/admin/products?filter=draft").text
    assert "Draft one" in page and "Live one" not in page
    token = csrf_token(client, "/admin/products")
    client.post(f"/admin/products/{live}/featured", data={"featured": "1", "csrf_token": token})
    assert "Live one" in client.get("/admin/products?filter=featured").text
    assert "Live one" in client.get("/").text  # featured on the home page
    draft = create_product(app, make_user, "Not live", status="draft")
    response = client.post(
        f"/admin/products/{draft}/featured", data={"featured": "1", "csrf_token": token}
    )
    assert response.status_code == 409


def test_jobs_page_counts_and_retries_failed_jobs(app, client, login_as):
    login_as("admin")
    job_id = _failed_job(app)
    page = client.get("/admin/jobs").text
    assert job_id in page and "RuntimeError: boom" in page
    token = csrf_token(client, "/admin/jobs")
    assert (
        client.post(f"/admin/jobs/default/{job_id}/retry", data={"csrf_token": token}).status_code
        == 303
    )
    queue = Queue("default", connection=app.extensions["redis"])
    assert job_id in queue.get_job_ids() and job_id not in queue.failed_job_registry.get_job_ids()
    # It is no longer failed: a second retry finds nothing.
    assert (
        client.post(f"/admin/jobs/default/{job_id}/retry", data={"csrf_token": token}).status_code
        == 404
    )


def test_the_featured_limit_setting_applies_to_the_cached_home_page(
    app, client, login_as, make_user
):
    login_as("admin")
    token = csrf_token(client, "/admin/products")
    for title in ("Alpha feature", "Beta feature"):
        product_id = create_product(app, make_user, title)
        client.post(
            f"/admin/products/{product_id}/featured", data={"featured": "1", "csrf_token": token}
        )

    def featured() -> str:
        page = client.get("/").text
        return page.split('id="h-featured"', 1)[1].split("</section>", 1)[0]

    assert "Alpha feature" in featured() and "Beta feature" in featured()
    response = client.post(
        "/admin/settings/featured_limit",
        data={"value": "1", "reason": "Tidier", "csrf_token": token},
    )
    assert response.status_code == 303
    shown = featured()
    assert ("Alpha feature" in shown) != ("Beta feature" in shown)
