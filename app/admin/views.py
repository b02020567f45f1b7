"""The admin panel: moderation, vendors (applications, commission, payout holds), categories,
failed deliveries, users, products, background jobs, run-time settings, reports, the ledger
(read-only) and the audit log. Every POST writes one audit row in the transaction it commits."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.accounts.views import safe_next
from app.admin import ledger, reports
from app.admin import services as admin
from app.admin.forms import CommissionForm, ConfirmedReasonForm, ReasonForm, SettingForm
from app.catalog import review
from app.catalog.categories import category_choices, save_category
from app.catalog.errors import ListingError
from app.catalog.forms import CategoryForm, DecisionForm
from app.catalog.models import Category
from app.extensions import db
from app.forms import id_arg, options
from app.htmx import redirect_to, render
from app.outbox import services as outbox
from app.pagination import Page
from app.timeutil import utcnow
from app.vendors import analytics
from app.vendors import services as vendors
from app.vendors.forms import DeclineForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

DECISIONS = {
    "approve": "Approved: it is live.",
    "request_changes": "Changes requested: the vendor has been told what to fix.",
    "reject": "Rejected.",
    "suspend": "Suspended: it is off sale.",
    "reinstate": "Reinstated: it is live again.",
}


@bp.get("/moderation")
@permission_required(Permission.MODERATE)
def moderation_GET():
    return render("admin/moderation.html", items=review.moderation_queue())


def _review_page(product_id: int, form: DecisionForm, status: int = 200):
    product = review.get_product_for_review(product_id)
    revision = product.open_revision
    if revision is not None and revision.state != "pending":
        revision = None
    return render(
        "admin/review.html",
        "decision",
        status=status,
        product=product,
        revision=revision,
        changes=review.listing_diff(product, revision),
        history=review.history(product),
        form=form,
    )


@bp.get("/moderation/<id:product_id>")
@permission_required(Permission.MODERATE)
def review_GET(product_id: int):
    return _review_page(product_id, DecisionForm())


@bp.post("/products/<id:product_id>/<action>")
@permission_required(Permission.MODERATE)
def decide_POST(product_id: int, action: str):
    if action not in DECISIONS:
        abort(404)
    product = review.get_product_for_review(product_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _review_page(product_id, form, 422)
    try:
        admin.decide_listing(
            current_user,
            product.id,
            action,
            form.reason_codes.data or [],
            form.note.data or "",
            ip=_ip(),
        )
    except ListingError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _review_page(product_id, form, 422)
    db.session.commit()
    flash(DECISIONS[action], "success")
    if action in {"suspend", "reinstate"}:
        return redirect_to(url_for("admin.review_GET", product_id=product_id))
    return redirect_to(url_for("admin.moderation_GET"))


# --- vendor applications --------------------------------------------------------------------


def _vendor_args():
    # The page opens on the applications waiting for a decision.
    return admin.list_args(request.args, default_filter="pending")


def _vendor_forms(page, failed: tuple[int, str, object] | None) -> dict[int, dict]:
    """Each listed store's commission and payout-hold forms (distinct element ids), the one
    that failed validation in their place."""
    forms = {}
    for v in page.items:
        own = {
            "commission": CommissionForm(formdata=None, commission_bps=v.commission_bps or ""),
            "hold": ConfirmedReasonForm(formdata=None),
        }
        if failed is not None and failed[0] == v.id:
            own[failed[1]] = failed[2]
        forms[v.id] = {key: _ids(form, f"{key}-{v.id}") for key, form in own.items()}
    return forms


def _vendors_page(failed: tuple[int, str, object] | None = None, status: int = 200):
    args = _vendor_args()
    if failed is None:
        page = admin.list_vendors(args)
    else:
        # A refused form comes back with the one store it was about, its errors shown.
        args = admin.ListArgs(filter="")
        page = Page([admin.get_vendor(failed[0])], 1, 1, 1)
    return render(
        "admin/vendors.html",
        "results",
        status=status,
        page=page,
        args=args,
        filters=admin.VENDOR_FILTERS,
        sorts=admin.VENDOR_SORTS,
        confirm=ConfirmForm(),
        decline=DeclineForm(),
        forms=_vendor_forms(page, failed),
        default_bps=admin.get_setting("default_commission_bps"),
    )


@bp.get("/vendors")
@permission_required(Permission.MODERATE)
def vendors_GET():
    return _vendors_page()


def _back_to_vendors():
    return redirect_to(safe_next(request.form.get("next"), url_for("admin.vendors_GET")))


@bp.post("/vendors/<id:vendor_id>/commission")
@permission_required(Permission.CONFIGURE)
def vendor_commission_POST(vendor_id: int):
    admin.get_vendor(vendor_id)
    form = CommissionForm()
    if not form.validate_on_submit():
        return _vendors_page((vendor_id, "commission", form), 422)
    try:
        profile = admin.set_commission(
            current_user, vendor_id, form.commission_bps.data, form.reason.data, ip=_ip()
        )
    except admin.InvalidCommission as exc:
        db.session.rollback()
        form.commission_bps.errors = [exc.message]
        return _vendors_page((vendor_id, "commission", form), 422)
    db.session.commit()
    flash(
        f"{profile.store_name}: commission set."
        if profile.commission_bps is not None
        else f"{profile.store_name}: the default commission applies again.",
        "success",
    )
    return _back_to_vendors()


@bp.post("/vendors/<id:vendor_id>/payouts/<any(hold, release):action>")
@permission_required(Permission.CONFIGURE)
def vendor_payouts_POST(vendor_id: int, action: str):
    admin.get_vendor(vendor_id)
    form = ConfirmedReasonForm()
    if not form.validate_on_submit():
        return _vendors_page((vendor_id, "hold", form), 422)
    profile = admin.hold_payouts(
        current_user, vendor_id, action == "hold", form.reason.data, ip=_ip()
    )
    db.session.commit()
    flash(
        f"{profile.store_name}: payouts held."
        if profile.payouts_held
        else f"{profile.store_name}: payouts released.",
        "success",
    )
    return _back_to_vendors()


@bp.post("/vendors/<id:vendor_id>/<action>")
@permission_required(Permission.MODERATE)
def vendor_POST(vendor_id: int, action: str):
    if action == "decline":
        form = DeclineForm()
        if not form.validate_on_submit():
            flash("Give a reason when you decline an application.", "error")
            return redirect_to(url_for("admin.vendors_GET"))
        admin.audited(
            current_user,
            "vendor.decline",
            "vendor",
            lambda profile: profile.id,
            lambda: vendors.decline_vendor(current_user, vendor_id, form.reason.data),
            reason=form.reason.data,
            ip=_ip(),
        )
        message = "Application declined."
    else:
        if not ConfirmForm().validate_on_submit():
            abort(400)
        if action == "approve":
            message = "Application approved: the store can list products."
        elif action in {"verify", "unverify"}:
            message = "Verified badge updated."
        else:
            abort(404)
        admin.audited(
            current_user,
            f"vendor.{action}",
            "vendor",
            lambda profile: profile.id,
            lambda: (
                vendors.approve_vendor(current_user, vendor_id)
                if action == "approve"
                else vendors.set_verified(current_user, vendor_id, action == "verify")
            ),
            ip=_ip(),
            after=lambda profile: {"status": profile.status, "verified": profile.is_verified},
        )
    db.session.commit()
    flash(message, "success")
    return _back_to_vendors()


# --- categories -----------------------------------------------------------------------------


def _category_form(form: CategoryForm, exclude: Category | None = None) -> CategoryForm:
    choices = [(cid, label) for cid, label in category_choices()]
    if exclude is not None:
        choices = [(cid, label) for cid, label in choices if cid != exclude.id]
    form.parent_id.choices = options([(0, "— top level —"), *choices])
    return form


def _categories_page(form: CategoryForm, status: int = 200, editing: Category | None = None):
    categories = db.session.scalars(db.select(Category)).all()
    tree = sorted(categories, key=lambda c: [(n.position, n.name.lower()) for n in c.path])
    return render(
        "admin/categories.html",
        "category_form",
        status=status,
        form=form,
        categories=tree,
        editing=editing,
    )


@bp.get("/categories")
@permission_required(Permission.CONFIGURE)
def categories_GET():
    editing = db.session.get(Category, id_arg(request.args, "edit") or 0)
    form = _category_form(CategoryForm(obj=editing), editing)
    if editing is not None:
        form.parent_id.data = editing.parent_id or 0
    return _categories_page(form, editing=editing)


@bp.post("/categories")
@permission_required(Permission.CONFIGURE)
def categories_POST():
    return _save_category(None)


@bp.post("/categories/<id:category_id>")
@permission_required(Permission.CONFIGURE)
def category_POST(category_id: int):
    category = db.session.get(Category, category_id)
    if category is None:
        abort(404)
    return _save_category(category)


def _save_category(category: Category | None):
    form = _category_form(CategoryForm(), category)
    if not form.validate_on_submit():
        return _categories_page(form, 422, category)
    try:
        admin.audited(
            current_user,
            "category.save",
            "category",
            lambda saved: saved.id,
            lambda: save_category(
                current_user,
                form.name.data,
                form.parent_id.data or None,
                form.description.data or "",
                form.position.data or 0,
                category,
            ),
            ip=_ip(),
            after=lambda saved: {"name": saved.name, "parent_id": saved.parent_id},
        )
    except ListingError as exc:
        db.session.rollback()
        form.parent_id.errors = [*form.parent_id.errors, exc.message]
        return _categories_page(form, 422, category)
    db.session.commit()
    flash("Category saved.", "success")
    return redirect_to(url_for("admin.categories_GET"))


# --- failed deliveries (background work that used up its retries) --------------------------


@bp.get("/deliveries")
@permission_required(Permission.MODERATE)
def deliveries_GET():
    return render(
        "admin/deliveries.html", deliveries=outbox.failed_deliveries(), confirm=ConfirmForm()
    )


@bp.post("/deliveries/<id:delivery_id>/retry")
@permission_required(Permission.MODERATE)
def delivery_retry_POST(delivery_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    delivery = admin.audited(
        current_user,
        "delivery.retry",
        "delivery",
        lambda row: row.id,
        lambda: outbox.retry_delivery(current_user, delivery_id),
        ip=_ip(),
        after=lambda row: {"handler": row.handler, "event": row.event.name},
    )
    db.session.commit()
    flash(f"Sent again: {delivery.handler} for {delivery.event.name}.", "success")
    return redirect_to(url_for("admin.deliveries_GET"))


# --- the panel's home, users, products, jobs, settings, audit log ---------------------------


def _ip() -> str:
    return request.remote_addr or ""


def _list_args() -> admin.ListArgs:
    return admin.list_args(request.args)


@bp.get("")
@permission_required(Permission.MODERATE)
def index_GET():
    return render(
        "admin/index.html",
        queue=review.moderation_queue(),
        deliveries=outbox.delivery_counts(),
        pending_vendors=len(vendors.applications("pending")),
        recent=admin.audit_log(admin.ListArgs()).items[:10],
    )


@bp.get("/users")
@permission_required(Permission.MANAGE_USERS)
def users_GET():
    args = _list_args()
    return render(
        "admin/users.html",
        "results",
        page=admin.list_users(args),
        args=args,
        filters=admin.USER_FILTERS,
        sorts=admin.USER_SORTS,
    )


def _user_page(user_id: int, forms: dict | None = None, status: int = 200):
    user = admin.get_user(user_id)
    forms = forms or {}
    return render(
        "admin/user.html",
        status=status,
        user=user,
        store=vendors.application_of(user),
        role_form=_ids(forms.get("role") or ReasonForm(formdata=None), "role"),
        disable_form=_ids(forms.get("disable") or ConfirmedReasonForm(formdata=None), "disable"),
        reactivate_form=_ids(
            forms.get("reactivate") or ConfirmedReasonForm(formdata=None), "reactivate"
        ),
        history=admin.audit_log(admin.ListArgs(q=f"user:{user.id}")).items,
    )


def _ids(form, prefix: str):
    """Distinct element ids for forms that share field names on one page (labels point at
    their own field); the names posted stay the same."""
    for item in form:
        if item.type != "CSRFTokenField":
            item.id = f"{prefix}-{item.name}"
            item.label.field_id = item.id
    return form


@bp.get("/users/<id:user_id>")
@permission_required(Permission.MANAGE_USERS)
def user_GET(user_id: int):
    return _user_page(user_id)


USER_MESSAGES = {
    "grant_vendor": "Vendor role granted.",
    "revoke_vendor": "Vendor role revoked; their live listings are suspended.",
    "grant_admin": "Admin role granted.",
    "revoke_admin": "Admin role revoked.",
    "suspend": "Account suspended: its sessions have ended.",
    "ban": "Account banned: its sessions have ended and its live listings are suspended.",
    "reactivate": "Account reactivated.",
}


@bp.post("/users/<id:user_id>/<action>")
@permission_required(Permission.MANAGE_USERS)
def user_action_POST(user_id: int, action: str):
    if action not in USER_MESSAGES:
        abort(404)
    if action in admin.ROLE_ACTIONS:
        form = ReasonForm()
        if not form.validate_on_submit():
            return _user_page(user_id, {"role": form}, 422)
        admin.change_role(current_user, user_id, action, form.reason.data, ip=_ip())
    else:
        form = ConfirmedReasonForm()
        key = "reactivate" if action == "reactivate" else "disable"
        if not form.validate_on_submit():
            return _user_page(user_id, {key: form}, 422)
        if action == "reactivate":
            admin.reactivate_user(current_user, user_id, form.reason.data, ip=_ip())
        else:
            kind = "banned" if action == "ban" else "suspended"
            admin.disable_user(current_user, user_id, kind, form.reason.data, ip=_ip())
    db.session.commit()
    flash(USER_MESSAGES[action], "success")
    return redirect_to(url_for("admin.user_GET", user_id=user_id))


@bp.get("/products")
@permission_required(Permission.MODERATE)
def products_GET():
    args = _list_args()
    return render(
        "admin/products.html",
        "results",
        page=admin.list_products(args),
        args=args,
        filters=admin.PRODUCT_FILTERS,
        sorts=admin.PRODUCT_SORTS,
        confirm=ConfirmForm(),
    )


@bp.post("/products/<id:product_id>/featured")
@permission_required(Permission.MODERATE)
def product_featured_POST(product_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    featured = request.form.get("featured") == "1"
    admin.set_featured(current_user, product_id, featured, ip=_ip())
    db.session.commit()
    flash("Featured on the home page." if featured else "No longer featured.", "success")
    return redirect_to(safe_next(request.form.get("next"), url_for("admin.products_GET")))


@bp.get("/jobs")
@permission_required(Permission.CONFIGURE)
def jobs_GET():
    queue = request.args.get("queue", "")
    try:
        counts, failed, problem = admin.queue_counts(), admin.failed_jobs(queue), None
    except admin.JobsUnavailable as exc:
        counts, failed, problem = [], [], exc.message
    except RedisError:
        counts, failed, problem = [], [], "Redis does not answer: the queues cannot be read now."
    return render(
        "admin/jobs.html",
        counts=counts,
        failed=failed,
        problem=problem,
        shown=queue,
        confirm=ConfirmForm(),
        delete_forms=[
            _ids(ConfirmedReasonForm(formdata=None), f"delete-{n}") for n in range(len(failed))
        ],
    )


@bp.post("/jobs/<queue>/<job_key>/retry")
@permission_required(Permission.CONFIGURE)
def job_retry_POST(queue: str, job_key: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    admin.retry_job(current_user, queue, job_key, ip=_ip())
    db.session.commit()
    flash("The job is back on its queue.", "success")
    return redirect_to(url_for("admin.jobs_GET", queue=queue))


@bp.post("/jobs/<queue>/<job_key>/delete")
@permission_required(Permission.CONFIGURE)
def job_delete_POST(queue: str, job_key: str):
    form = ConfirmedReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason and tick the box to delete a job.", "error")
        return redirect_to(url_for("admin.jobs_GET", queue=queue))
    admin.delete_job(current_user, queue, job_key, form.reason.data, ip=_ip())
    db.session.commit()
    flash("The job is deleted.", "success")
    return redirect_to(url_for("admin.jobs_GET", queue=queue))


def _settings_page(forms: dict | None = None, status: int = 200):
    forms = forms or {}
    return render(
        "admin/settings.html",
        status=status,
        settings=admin.all_settings(),
        forms={
            key: _ids(forms.get(key) or SettingForm(formdata=None), f"setting-{key}")
            for key in admin.SETTINGS
        },
        history=admin.setting_history(),
    )


@bp.get("/settings")
@permission_required(Permission.CONFIGURE)
def settings_GET():
    return _settings_page()


@bp.post("/settings/<key>")
@permission_required(Permission.CONFIGURE)
def setting_POST(key: str):
    spec = admin.SETTINGS.get(key)
    if spec is None:
        abort(404)
    form = SettingForm()
    valid = form.validate_on_submit()
    if valid and spec.money and not form.confirm.data:
        form.confirm.errors = ["This changes what vendors are paid: tick the box to confirm."]
        valid = False
    if not valid:
        return _settings_page({key: form}, 422)
    try:
        admin.change_setting(current_user, key, form.value.data, form.reason.data, ip=_ip())
    except admin.InvalidSetting as exc:
        db.session.rollback()
        form.value.errors = [exc.message]
        return _settings_page({key: form}, 422)
    db.session.commit()
    flash(f"{spec.label} changed.", "success")
    return redirect_to(url_for("admin.settings_GET"))


@bp.get("/audit")
@permission_required(Permission.MANAGE_USERS)
def audit_GET():
    args = _list_args()
    return render(
        "admin/audit.html",
        "results",
        page=admin.audit_log(args),
        args=args,
        actions=admin.audit_actions(),
        sorts=admin.AUDIT_SORTS,
    )


# --- reports ----------------------------------------------------------------------------------


def _report_range() -> tuple[analytics.DateRange, str | None]:
    """The range asked for (the vendor analytics' ranges); a bad custom one falls back to the
    default with its message."""
    today = utcnow().date()
    try:
        return analytics.parse_range(request.args, today), None
    except analytics.InvalidRange as exc:
        return analytics.parse_range({}, today), exc.message


@bp.get("/reports")
@permission_required(Permission.CONFIGURE)
def reports_GET():
    rng, error = _report_range()
    return render(
        "admin/reports.html",
        "reports",
        status=422 if error else 200,
        rng=rng,
        report=reports.platform_report(rng),
        error=error,
        args=request.args,
    )


@bp.get("/reports.csv")
@permission_required(Permission.CONFIGURE)
def reports_csv_GET():
    rng, error = _report_range()
    if error:
        raise analytics.InvalidRange(error)
    response = make_response(reports.report_csv(reports.platform_report(rng)))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="marketplace-{rng.first}-{rng.last}.csv"'
    )
    return response


# --- the ledger (read-only) -------------------------------------------------------------------


@bp.get("/ledger")
@permission_required(Permission.MODERATE)
def ledger_GET():
    args = ledger.ledger_args(request.args)
    kinds, currencies = ledger.ledger_choices()
    return render(
        "admin/ledger.html",
        "results",
        page=ledger.ledger_page(args),
        totals=ledger.ledger_totals(args),
        balance=ledger.ledger_balance(),
        args=args,
        accounts=ledger.ACCOUNT_KINDS,
        kinds=kinds,
        currencies=currencies,
        sorts=ledger.LEDGER_SORTS,
    )


@bp.get("/ledger.csv")
@permission_required(Permission.MODERATE)
def ledger_csv_GET():
    response = make_response(ledger.ledger_csv(ledger.ledger_args(request.args)))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="ledger.csv"'
    return response
