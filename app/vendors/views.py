"""Applying to sell, the public storefronts, vendor analytics and payouts (and the admin's
payout pages, until the admin panel takes them)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, make_response, request, url_for
from flask_login import current_user

from app.accounts.permissions import Permission, permission_required
from app.admin import services as admin
from app.catalog import listings
from app.catalog.pages import storefront_page
from app.errors import NotFound
from app.extensions import db
from app.forms import id_arg, page_number
from app.htmx import redirect_to, render
from app.queue import enqueue
from app.reviews.services import store_rating_by_slug
from app.timeutil import utcnow
from app.vendors import analytics, payouts, services
from app.vendors.forms import (
    ApplyForm,
    PayoutDetailsForm,
    PayoutFailedForm,
    PayoutRunForm,
    PayoutSentForm,
)

bp = Blueprint("vendors", __name__)


def _apply_page(form: ApplyForm, status: int = 200):
    return render(
        "vendors/apply.html",
        "apply_form",
        status=status,
        form=form,
        application=services.application_of(current_user),
    )


@bp.get("/sell")
def apply_GET():
    if not current_user.is_authenticated:
        return render("vendors/sell.html")
    application = services.application_of(current_user)
    form = (
        ApplyForm(obj=application) if application else ApplyForm(support_email=current_user.email)
    )
    return _apply_page(form)


@bp.post("/sell")
@permission_required(Permission.APPLY_TO_SELL)
def apply_POST():
    form = ApplyForm()
    if not form.validate_on_submit():
        return _apply_page(form, 422)
    try:
        services.apply_to_sell(
            current_user,
            form.store_name.data,
            form.slug.data,
            form.bio.data or "",
            form.support_email.data,
            form.country.data,
        )
    except services.ApplicationError as exc:
        db.session.rollback()
        form.slug.errors = [*form.slug.errors, exc.message]
        return _apply_page(form, 422)
    db.session.commit()
    flash("Thanks! We review applications within two working days and will email you.", "success")
    return redirect_to(url_for("vendors.apply_GET"))


@bp.get("/vendors/<slug>")
def storefront_GET(slug: str):
    page = storefront_page(slug, page_number(request.args))
    # The rating is read apart from the cached page: it follows reviews, not the catalog.
    return render(
        "vendors/storefront.html", "results", vendor=page, rating=store_rating_by_slug(slug)
    )


# --- analytics ------------------------------------------------------------------------------


def _range_or_default(today) -> tuple[analytics.DateRange, str | None]:
    try:
        return analytics.parse_range(request.args, today), None
    except analytics.InvalidRange as exc:
        return analytics.parse_range({}, today), exc.message


def _analytics_page(product_id: int | None):
    vendor = listings.require_vendor(current_user)
    product = listings.get_own_product(current_user, product_id) if product_id else None
    rng, error = _range_or_default(utcnow().date())
    report = analytics.report(vendor.id, product.id if product else None, rng)
    return render(
        "vendors/analytics.html",
        "analytics",
        status=422 if error else 200,
        vendor=vendor,
        product=product,
        rng=rng,
        report=report,
        error=error,
        args=request.args,
    )


@bp.get("/vendor/analytics")
@permission_required(Permission.SELL)
def analytics_GET():
    return _analytics_page(None)


@bp.get("/vendor/analytics/<id:product_id>")
@permission_required(Permission.SELL)
def product_analytics_GET(product_id: int):
    return _analytics_page(product_id)


def _csv(body: str, filename: str) -> Response:
    response = make_response(body)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_scope() -> tuple[int, int | None, analytics.DateRange]:
    vendor = listings.require_vendor(current_user)
    product_id = None
    if "product" in request.args:
        wanted = id_arg(request.args, "product")
        if wanted is None:
            raise NotFound()
        product_id = listings.get_own_product(current_user, wanted).id
    rng, error = _range_or_default(utcnow().date())
    if error:
        raise analytics.InvalidRange(error)
    return vendor.id, product_id, rng


@bp.get("/vendor/analytics/daily.csv")
@permission_required(Permission.SELL)
def daily_csv_GET():
    vendor_id, product_id, rng = _export_scope()
    points = analytics.series(vendor_id, product_id, rng)
    currency = analytics.main_currency(vendor_id, analytics.totals(vendor_id, product_id, rng))
    return _csv(analytics.series_csv(points, currency), f"daily-{rng.first}-{rng.last}.csv")


@bp.get("/vendor/analytics/sales.csv")
@permission_required(Permission.SELL)
def sales_csv_GET():
    vendor_id, product_id, rng = _export_scope()
    return _csv(
        analytics.sales_csv(vendor_id, product_id, rng), f"sales-{rng.first}-{rng.last}.csv"
    )


# --- payouts --------------------------------------------------------------------------------


def _settings():
    return current_app.config["APP_CONFIG"]


@bp.get("/vendor/payouts")
@permission_required(Permission.SELL)
def payouts_GET():
    vendor = listings.require_vendor(current_user)
    settings = admin.payout_config(_settings())
    return render(
        "vendors/payouts.html",
        vendor=vendor,
        balances=payouts.balances(vendor.id, utcnow(), settings.payout_hold_days),
        account=payouts.account_of(vendor),
        payouts=payouts.payouts_of(vendor.id),
        settings=settings,
    )


def _details_page(form: PayoutDetailsForm, account, status: int = 200):
    return render(
        "vendors/payout_details.html",
        "payout_form",
        status=status,
        form=form,
        account=account,
        can_store_bank=_settings().payout_encryption_key is not None,
    )


@bp.get("/vendor/payouts/details")
@permission_required(Permission.SELL)
def payout_details_GET():
    vendor = listings.require_vendor(current_user)
    account = payouts.account_of(vendor)
    form = PayoutDetailsForm(
        method=account.method if account else "stripe",
        stripe_account_id=account.stripe_account_id if account else "",
    )
    return _details_page(form, account)


@bp.post("/vendor/payouts/details")
@permission_required(Permission.SELL)
def payout_details_POST():
    vendor = listings.require_vendor(current_user)
    form = PayoutDetailsForm()
    if not form.validate_on_submit():
        return _details_page(form, payouts.account_of(vendor), 422)
    try:
        account = payouts.save_payout_details(
            vendor,
            form.method.data,
            form.stripe_account_id.data or "",
            form.bank_details.data or "",
            _settings().payout_encryption_key,
        )
    except payouts.PayoutDetailsError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _details_page(form, payouts.account_of(vendor), 422)
    # Where the money goes is a sensitive vendor action: audited (never the bank details).
    admin.record_audit(
        current_user,
        "vendor.payout_details",
        "vendor",
        vendor.id,
        after={
            "method": account.method,
            "stripe_account_id": account.stripe_account_id,
            "bank_last4": account.bank_last4,
        },
        ip=request.remote_addr or "",
    )
    db.session.commit()
    flash("Payout details saved.", "success")
    return redirect_to(url_for("vendors.payouts_GET"))


@bp.get("/vendor/payouts/<id:payout_id>/statement.csv")
@permission_required(Permission.SELL)
def statement_GET(payout_id: int):
    vendor = listings.require_vendor(current_user)
    payout = payouts.get_own_payout(vendor, payout_id)
    return _csv(payouts.statement_csv(payout), f"payout-{payout.id}-statement.csv")


# --- admin: payouts (the lead moves these into the admin panel) -----------------------------


@bp.get("/admin/payouts")
@permission_required(Permission.CONFIGURE)
def admin_payouts_GET():
    # The page opens on the payouts waiting to be sent.
    args = admin.list_args(request.args, default_filter=request.args.get("status", "pending"))
    page = admin.list_payouts(args)
    rows = page.items
    key = _settings().payout_encryption_key
    details = {
        p.id: payouts.bank_details_of(account, key)
        for p in rows
        if p.method == "bank"
        and p.status == "pending"
        and (account := payouts.account_of(p.vendor))
    }
    return render(
        "vendors/admin_payouts.html",
        "results",
        page=page,
        args=args,
        filters=admin.PAYOUT_FILTERS,
        sorts=admin.PAYOUT_SORTS,
        details=details,
        sent_form=PayoutSentForm(),
        failed_form=PayoutFailedForm(),
        run_form=PayoutRunForm(),
    )


def _payout_state(payout) -> dict:
    return {
        "status": payout.status,
        "amount_cents": payout.amount_cents,
        "currency": payout.currency,
        "vendor_id": payout.vendor_id,
    }


@bp.post("/admin/payouts/run")
@permission_required(Permission.CONFIGURE)
def admin_run_payouts_POST():
    form = PayoutRunForm()
    if not form.validate_on_submit():
        flash("Give a reason and tick the box to prepare the payouts.", "error")
        return redirect_to(url_for("vendors.admin_payouts_GET"))
    admin.record_audit(
        current_user,
        "payout.run",
        "payout",
        "*",
        reason=form.reason.data.strip(),
        ip=request.remote_addr or "",
    )
    db.session.commit()
    enqueue("default", "jobs.vendors.run_payouts")
    flash("Payouts are being prepared: pending ones appear here.", "success")
    return redirect_to(url_for("vendors.admin_payouts_GET"))


@bp.post("/admin/payouts/<id:payout_id>/sent")
@permission_required(Permission.CONFIGURE)
def admin_payout_sent_POST(payout_id: int):
    form = PayoutSentForm()
    if not form.validate_on_submit():
        flash("Give the bank transfer's reference and tick the box to confirm.", "error")
        return redirect_to(url_for("vendors.admin_payouts_GET"))
    admin.audited(
        current_user,
        "payout.sent",
        "payout",
        lambda payout: payout.id,
        lambda: payouts.mark_payout_sent(current_user, payout_id, form.reference.data),
        reason=form.reference.data,
        ip=request.remote_addr or "",
        after=_payout_state,
    )
    db.session.commit()
    flash("Payout marked as sent.", "success")
    return redirect_to(url_for("vendors.admin_payouts_GET"))


@bp.post("/admin/payouts/<id:payout_id>/failed")
@permission_required(Permission.CONFIGURE)
def admin_payout_failed_POST(payout_id: int):
    form = PayoutFailedForm()
    if not form.validate_on_submit():
        flash("Say why the payout failed and tick the box to confirm.", "error")
        return redirect_to(url_for("vendors.admin_payouts_GET"))
    admin.audited(
        current_user,
        "payout.failed",
        "payout",
        lambda payout: payout.id,
        lambda: payouts.mark_payout_failed(current_user, payout_id, form.reason.data),
        reason=form.reason.data,
        ip=request.remote_addr or "",
        after=_payout_state,
    )
    db.session.commit()
    flash("Payout marked as failed: the amount is back in the vendor's balance.", "success")
    return redirect_to(url_for("vendors.admin_payouts_GET"))
