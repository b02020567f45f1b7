"""Applying to sell, and the public storefronts."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for
from flask_login import current_user

from app.accounts.permissions import Permission, permission_required
from app.cache import fragment
from app.catalog import services as catalog
from app.extensions import db
from app.forms import page_number
from app.htmx import redirect_to, render
from app.vendors import services
from app.vendors.forms import ApplyForm

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
    vendor = services.public_vendor(slug)
    number = page_number(request.args)
    results = fragment(
        f"vendor:{vendor.id}:{number}",
        lambda: render_template(
            "catalog/_results.html",
            page=catalog.vendor_products(vendor, number),
            endpoint="vendors.storefront_GET",
            args={"slug": vendor.slug},
        ),
    )
    rating, reviews = catalog.vendor_rating(vendor)
    return render(
        "vendors/storefront.html",
        "results",
        vendor=vendor,
        results=results,
        rating=rating,
        reviews=reviews,
    )
