"""Admin pages: the moderation queue, vendor applications, the category tree, failed deliveries."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.catalog import review
from app.catalog.categories import category_choices, save_category
from app.catalog.errors import ListingError
from app.catalog.forms import CategoryForm, DecisionForm
from app.catalog.models import Category
from app.extensions import db
from app.forms import id_arg, options
from app.htmx import redirect_to, render
from app.outbox import services as outbox
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
        review.transition(
            current_user, product, action, form.reason_codes.data or [], form.note.data or ""
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


@bp.get("/vendors")
@permission_required(Permission.MODERATE)
def vendors_GET():
    status = request.args.get("status", "pending")
    if status not in {"pending", "approved", "declined", ""}:
        status = "pending"
    return render(
        "admin/vendors.html",
        applications=vendors.applications(status or None),
        shown=status,
        confirm=ConfirmForm(),
        decline=DeclineForm(),
    )


@bp.post("/vendors/<id:vendor_id>/<action>")
@permission_required(Permission.MODERATE)
def vendor_POST(vendor_id: int, action: str):
    if action == "decline":
        form = DeclineForm()
        if not form.validate_on_submit():
            flash("Give a reason when you decline an application.", "error")
            return redirect_to(url_for("admin.vendors_GET"))
        vendors.decline_vendor(current_user, vendor_id, form.reason.data)
        message = "Application declined."
    else:
        if not ConfirmForm().validate_on_submit():
            abort(400)
        if action == "approve":
            vendors.approve_vendor(current_user, vendor_id)
            message = "Application approved: the store can list products."
        elif action in {"verify", "unverify"}:
            vendors.set_verified(current_user, vendor_id, action == "verify")
            message = "Verified badge updated."
        else:
            abort(404)
    db.session.commit()
    flash(message, "success")
    return redirect_to(url_for("admin.vendors_GET", status=request.args.get("status", "pending")))


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
        save_category(
            current_user,
            form.name.data,
            form.parent_id.data or None,
            form.description.data or "",
            form.position.data or 0,
            category,
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
    delivery = outbox.retry_delivery(current_user, delivery_id)
    db.session.commit()
    flash(f"Sent again: {delivery.handler} for {delivery.event.name}.", "success")
    return redirect_to(url_for("admin.deliveries_GET"))
