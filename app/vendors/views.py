"""Applying to sell, and the public storefronts."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from app.accounts.permissions import Permission, permission_required
from app.catalog.pages import storefront_page
from app.extensions import db
from app.forms import page_number
from app.htmx import redirect_to, render
from app.reviews.services import store_rating_by_slug
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
    page = storefront_page(slug, page_number(request.args))
    # The rating is read apart from the cached page: it follows reviews, not the catalog.
    return render(
        "vendors/storefront.html", "results", vendor=page, rating=store_rating_by_slug(slug)
    )
