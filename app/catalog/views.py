"""Catalog pages: public product and category pages, the vendor's listing editor, media."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.assets.services import current_version
from app.catalog import content, listings, pages, pageviews, queries, review, screenshots
from app.catalog.categories import category_choices
from app.catalog.errors import ListingError, ListingIncomplete
from app.catalog.forms import ListingForm, WatermarkForm
from app.catalog.models import (
    COMPLEXITY_LABELS,
    PRICE_TYPE_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Product,
)
from app.commerce.ledger import vendor_earnings
from app.extensions import db
from app.forms import options, page_number
from app.htmx import redirect_to, render
from app.images import InvalidImage
from app.money import format_money, price_label
from app.reviews.services import panel_html
from app.sorting import LIST_SORTS
from app.storage import send_stored
from app.timeutil import utcnow

bp = Blueprint("catalog", __name__)

INVALID = 422


@bp.record_once
def _template_globals(state: Any) -> None:
    # Globals, not a context processor: imported macros (product cards) see them too.
    state.app.jinja_env.globals.update(
        TYPE_LABELS=TYPE_LABELS,
        PRICE_TYPE_LABELS=PRICE_TYPE_LABELS,
        STATUS_LABELS=STATUS_LABELS,
        COMPLEXITY_LABELS=COMPLEXITY_LABELS,
        price_label=price_label,
    )
    # Every amount a template shows goes through these two (app/money.py).
    state.app.jinja_env.filters["money"] = format_money


# --- public pages ---------------------------------------------------------------------------


@bp.get("/products/<slug>")
def product_GET(slug: str):
    page = pages.product_page(slug)
    number = page_number({"page": request.args.get("reviews", "1")})
    reviews = panel_html(page.product, page.store, current_user, number)
    response = render(
        "catalog/product.html",
        "reviews",
        product=page.product,
        store=page.store,
        body=page.body,
        reviews=reviews,
    )
    _count_view(page.product, page.store)
    return response


def _count_view(product: pages.ProductHead, store: pages.StoreLink) -> None:
    """One view per account or (anonymous) network address per day, a few per address at most
    (pageviews.py); the vendor's own visits and obvious bots do not count."""
    agent = (request.user_agent.string or "").lower()
    if any(word in agent for word in ("bot", "crawler", "spider")):
        return
    if current_user.is_authenticated and store.user_id == current_user.id:
        return
    network = pageviews.address_of(request.remote_addr)
    user_id = current_user.id if current_user.is_authenticated else None
    today = utcnow().date()
    secret = current_app.secret_key
    pageviews.note(
        product.id,
        pageviews.visitor_key(secret, pageviews.visitor_identity(user_id, network), today),
        today,
        address=pageviews.visitor_key(secret, f"address:{network}", today),
        referrer=pageviews.referrer_host(request.referrer, request.host),
    )


@bp.get("/categories/<slug>")
def category_GET(slug: str):
    sort = request.args.get("sort", "popular")
    if sort not in LIST_SORTS:
        sort = "popular"
    number = page_number(request.args)
    page = pages.category_page(slug, sort, number)
    return render(
        "catalog/category.html",
        "results",
        category=page,
        number=number,
        sort=sort,
        sorts=LIST_SORTS,
    )


@bp.get("/media/products/<name>")
def media_GET(name: str):
    return send_stored("products", name, "image/png")


@bp.get("/media/previews/<name>")
def preview_GET(name: str):
    return send_stored("previews", name, "image/svg+xml")


@bp.get("/sitemap.xml")
def sitemap_GET():
    response = make_response(
        render_template("catalog/sitemap.xml", entries=queries.sitemap_entries())
    )
    response.headers["Content-Type"] = "application/xml; charset=utf-8"
    return response


@bp.get("/robots.txt")
def robots_GET():
    lines = [
        "User-agent: *",
        "Disallow: /account",
        "Disallow: /admin/",
        "Disallow: /vendor/",
        "Disallow: /search",
        f"Sitemap: {url_for('catalog.sitemap_GET', _external=True)}",
    ]
    response = make_response("\n".join(lines) + "\n")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


# --- the vendor's listings ------------------------------------------------------------------


@bp.get("/vendor/products")
@permission_required(Permission.SELL)
def dashboard_GET():
    vendor = listings.require_vendor(current_user)
    return render(
        "catalog/dashboard.html",
        vendor=vendor,
        products=listings.vendor_listings(vendor),
        earnings=vendor_earnings(vendor.id),
    )


def _listing_form(form: ListingForm, values: dict[str, Any]) -> ListingForm:
    """Fill the choices that depend on the database and on the listing being edited."""
    form.category_id.choices = options([(0, "Choose a category…"), *category_choices()])
    keys = values.get("screenshot_keys") or []
    form.remove_screenshots.choices = options((key, key.rsplit("/", 1)[-1]) for key in keys)
    return form


def _editor(form: ListingForm, product: Product | None, values: dict[str, Any], status=200):
    return render(
        "catalog/edit.html",
        "listing_form",
        status=status,
        form=form,
        product=product,
        values=values,
    )


def _values_with_media(form: ListingForm, base: dict[str, Any]) -> dict[str, Any]:
    """The form's fields plus media: new images stored, removed ones dropped, the video parsed.

    Raises InvalidImage or ListingError.
    """
    values = form.values()
    thumbnail = form.thumbnail.data
    values["thumbnail_key"] = base.get("thumbnail_key")
    if isinstance(thumbnail, FileStorage) and thumbnail.filename:
        values["thumbnail_key"] = content.store_thumbnail(thumbnail.read())
    removed = set(form.remove_screenshots.data or [])
    keys = [key for key in base.get("screenshot_keys") or [] if key not in removed]
    for upload in form.screenshots.data or []:
        if isinstance(upload, FileStorage) and upload.filename:
            if len(keys) >= listings.MAX_SCREENSHOTS:
                raise ListingError(f"Up to {listings.MAX_SCREENSHOTS} screenshots per listing.")
            keys.append(content.store_screenshot(upload.read()))
    values["screenshot_keys"] = keys
    video = content.parse_video_url(form.video_url.data or "")
    values["video_provider"], values["video_id"] = video or (None, None)
    return values


def _save(form: ListingForm, product: Product | None, base: dict[str, Any]) -> Product | None:
    """Validate, store media and save; None (errors on the form) when the editor must return."""
    if not form.validate_on_submit():
        return None
    try:
        values = _values_with_media(form, base)
        if product is None:
            return listings.create_listing(current_user, values)
        listings.update_listing(current_user, product, values)
        return product
    except InvalidImage as exc:
        db.session.rollback()
        form.thumbnail.errors = [*form.thumbnail.errors, exc.message]
    except ListingError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
    return None


@bp.get("/vendor/products/new")
@permission_required(Permission.SELL)
def new_GET():
    listings.require_vendor(current_user)
    form = _listing_form(ListingForm(licence_commercial=True, licence_modification=True), {})
    return _editor(form, None, {})


@bp.post("/vendor/products/new")
@permission_required(Permission.SELL)
def new_POST():
    listings.require_vendor(current_user)
    form = _listing_form(ListingForm(), {})
    product = _save(form, None, {})
    if product is None:
        return _editor(form, None, {}, INVALID)
    db.session.commit()
    flash("Draft saved. Submit it for review when it is ready.", "success")
    return redirect_to(url_for("catalog.manage_GET", product_id=product.id))


@bp.get("/vendor/products/<id:product_id>")
@permission_required(Permission.SELL)
def manage_GET(product_id: int):
    return _manage_page(listings.get_own_product(current_user, product_id))


def _manage_page(product: Product, missing: list[str] | None = None, status: int = 200):
    """The vendor's page of one listing; ``missing`` names what a refused submission lacked."""
    return render(
        "catalog/manage.html",
        status=status,
        product=product,
        revision=product.open_revision,
        actions=review.vendor_actions(product),
        feedback=review.latest_feedback(product),
        history=review.history(product),
        reasons=review.REASON_CODES,
        missing=missing or [],
        confirm=ConfirmForm(),
        current_version=current_version(product),
        watermark_form=WatermarkForm(formdata=None, enabled=product.watermark_screenshots),
    )


@bp.get("/vendor/products/<id:product_id>/edit")
@permission_required(Permission.SELL)
def edit_GET(product_id: int):
    product = listings.get_own_product(current_user, product_id)
    values = listings.working_values(product)
    form = _listing_form(ListingForm(), values)
    form.fill(values)
    return _editor(form, product, values)


@bp.post("/vendor/products/<id:product_id>/edit")
@permission_required(Permission.SELL)
def edit_POST(product_id: int):
    product = listings.get_own_product(current_user, product_id)
    values = listings.working_values(product)
    form = _listing_form(ListingForm(), values)
    if _save(form, product, values) is None:
        return _editor(form, product, values, INVALID)
    db.session.commit()
    if product.status == "approved":
        flash(
            "Your edit is saved. The live listing stays as it is until the edit is approved.",
            "success",
        )
    else:
        flash("Your changes are saved.", "success")
    return redirect_to(url_for("catalog.manage_GET", product_id=product.id))


def _vendor_action(product_id: int, act: Callable[[Product], object], message: str):
    """A one-button POST on the vendor's own listing: ``act`` it, commit, then to the page of
    the listing ``act`` returns (another, for a copy) or of this one."""
    product = listings.get_own_product(current_user, product_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    result = act(product)
    db.session.commit()
    flash(message, "success")
    target = result if isinstance(result, Product) else product
    return redirect_to(url_for("catalog.manage_GET", product_id=target.id))


@bp.post("/vendor/products/<id:product_id>/submit")
@permission_required(Permission.SELL)
def submit_POST(product_id: int):
    try:
        return _vendor_action(
            product_id,
            lambda product: review.transition(current_user, product, "submit"),
            "Submitted for review. We will email you.",
        )
    except ListingIncomplete as exc:
        db.session.rollback()
        product = listings.get_own_product(current_user, product_id)
        return _manage_page(product, exc.missing, INVALID)


@bp.post("/vendor/products/<id:product_id>/withdraw")
@permission_required(Permission.SELL)
def withdraw_POST(product_id: int):
    return _vendor_action(
        product_id,
        lambda product: review.transition(current_user, product, "withdraw"),
        "Withdrawn from review. You can edit it again.",
    )


@bp.post("/vendor/products/<id:product_id>/discard")
@permission_required(Permission.SELL)
def discard_POST(product_id: int):
    return _vendor_action(
        product_id,
        lambda product: listings.discard_revision(current_user, product),
        "Your unsubmitted edit is discarded.",
    )


@bp.post("/vendor/products/<id:product_id>/screenshots/watermark")
@permission_required(Permission.SELL)
def watermark_POST(product_id: int):
    listings.get_own_product(current_user, product_id)  # another store's listing: 404 first
    form = WatermarkForm()
    if not form.validate_on_submit():
        abort(400)
    product = screenshots.set_screenshot_watermark(
        current_user, product_id, bool(form.enabled.data)
    )
    db.session.commit()
    flash(
        "Shoppers see your screenshots watermarked (the copies are made in a moment)."
        if product.watermark_screenshots
        else "Shoppers see your screenshots without a watermark.",
        "success",
    )
    return redirect_to(url_for("catalog.manage_GET", product_id=product.id))


@bp.post("/vendor/products/<id:product_id>/duplicate")
@permission_required(Permission.SELL)
def duplicate_POST(product_id: int):
    return _vendor_action(
        product_id,
        lambda product: listings.duplicate_listing(current_user, product),
        "A new draft, copied from the rejected listing. Change what the reviewer asked for, "
        "then submit it.",
    )
