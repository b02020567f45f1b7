"""Listings in a vendor's store: ownership, content, drafts, edits of live listings, copies.

Functions take the acting user explicitly and never read the request; views own the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.catalog.content import clean_list, render_markdown, slugify, unique_slug
from app.catalog.errors import ListingError, ListingNotEditable, NotAVendor
from app.catalog.models import (
    Category,
    PriceType,
    Product,
    ProductRevision,
    ProductStatus,
    ProductTransition,
    RevisionState,
    Tag,
)
from app.errors import NotFound
from app.extensions import db
from app.outbox.services import record_event
from app.vendors.models import VendorProfile

FIELD_LABELS = {
    "title": "Title",
    "short_description": "Short description",
    "description_md": "Description",
    "type": "Type",
    "category_id": "Category",
    "tags": "Tags",
    "price_type": "Pricing",
    "currency": "Currency",
    "price_cents": "Price",
    "monthly_price_cents": "Monthly price",
    "yearly_price_cents": "Yearly price",
    "thumbnail_key": "Thumbnail",
    "screenshot_keys": "Screenshots",
    "video_provider": "Video provider",
    "video_id": "Video",
    "complexity": "Complexity",
    "setup_minutes": "Setup minutes",
    "requirements": "Requirements",
    "n8n_version": "n8n version",
    "node_types": "Nodes",
    "credentials_required": "Credentials needed",
    "licence_commercial": "Commercial use",
    "licence_redistribution": "Redistribution",
    "licence_modification": "Modification",
    "support_policy": "Support policy",
    "refund_policy": "Refund policy",
}
# What a revision of a live listing may change; everything else (status, stats, slug) is not
# the vendor's to edit. "tags" holds tag names.
LISTING_FIELDS: tuple[str, ...] = tuple(FIELD_LABELS)

# What an absent or empty value means; fields not named here may stay None.
FIELD_DEFAULTS: dict[str, Any] = {
    "title": "",
    "short_description": "",
    "description_md": "",
    "type": "n8n_workflow",
    "price_type": "free",
    "currency": "USD",
    "price_cents": 0,
    "complexity": "beginner",
    "requirements": "",
    "n8n_version": "",
    "licence_commercial": False,
    "licence_redistribution": False,
    "licence_modification": False,
    "support_policy": "",
    "refund_policy": "",
}

CURRENCIES = ("USD", "EUR", "GBP")
MAX_SCREENSHOTS = 6
MAX_TAGS = 10
EDITABLE_STATUSES = frozenset({ProductStatus.DRAFT, ProductStatus.CHANGES_REQUESTED})


def vendor_of(user: User) -> VendorProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == user.id))


def require_vendor(user: User) -> VendorProfile:
    """The user's approved vendor profile; raises NotAVendor otherwise."""
    vendor = vendor_of(user)
    if vendor is None or not vendor.is_approved or not user.is_vendor:
        raise NotAVendor()
    return vendor


def get_own_product(user: User, product_id: int) -> Product:
    """A product of ``user``'s store; NotFound for any other (never reveals that it exists)."""
    product = db.session.get(Product, product_id)
    vendor = vendor_of(user)
    if product is None or vendor is None or product.vendor_id != vendor.id:
        raise NotFound()
    return product


def listing_values(product: Product) -> dict[str, Any]:
    """The live content of ``product`` as LISTING_FIELDS values."""
    values = {name: getattr(product, name) for name in LISTING_FIELDS if name != "tags"}
    values["tags"] = [tag.name for tag in product.tags]
    values["screenshot_keys"] = list(product.screenshot_keys or [])
    return values


def working_values(product: Product) -> dict[str, Any]:
    """What the vendor is editing: the open revision of a live product, else the product."""
    values = listing_values(product)
    revision = product.open_revision
    if revision is not None:
        values.update({k: v for k, v in revision.data.items() if k in LISTING_FIELDS})
    return values


def _checked_values(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check the rules a form cannot see alone; raises ListingError."""
    data = {name: values.get(name) for name in LISTING_FIELDS}
    for name, default in FIELD_DEFAULTS.items():
        if data[name] is None:
            data[name] = default
    data["tags"] = sorted(clean_list(values.get("tags") or [], MAX_TAGS, 40), key=str.lower)
    data["node_types"] = clean_list(values.get("node_types") or [], 100, 120)
    data["credentials_required"] = clean_list(values.get("credentials_required") or [], 50, 120)
    data["screenshot_keys"] = list(values.get("screenshot_keys") or [])[:MAX_SCREENSHOTS]
    if data["price_type"] == PriceType.FREE:
        data["price_cents"], data["monthly_price_cents"], data["yearly_price_cents"] = 0, None, None
    elif data["price_type"] == PriceType.ONE_TIME:
        if not data["price_cents"] or data["price_cents"] <= 0:
            raise ListingError("A one-time price must be more than zero.")
        data["monthly_price_cents"] = data["yearly_price_cents"] = None
    elif data["price_type"] == PriceType.SUBSCRIPTION:
        data["price_cents"] = 0
        if not (data["monthly_price_cents"] or data["yearly_price_cents"]):
            raise ListingError("A subscription needs a monthly or a yearly price (or both).")
    else:
        raise ListingError("Choose free, one-time or subscription pricing.")
    if data["currency"] not in CURRENCIES:
        raise ListingError("Choose a supported currency.")
    category_id = data["category_id"]
    if category_id is not None and db.session.get(Category, category_id) is None:
        raise ListingError("Choose a category from the list.")
    return data


def tags_named(names: Sequence[str]) -> list[Tag]:
    """One tag per slug, in the order named, in one query; a new slug becomes a new tag, named
    by its first spelling."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(slugify(name, 40), name)
    if not wanted:
        return []
    found = {t.slug: t for t in db.session.scalars(select(Tag).where(Tag.slug.in_(list(wanted))))}
    tags = []
    for slug, name in wanted.items():
        tag = found.get(slug)
        if tag is None:
            tag = Tag(name=name, slug=slug)
            db.session.add(tag)
        tags.append(tag)
    return tags


def apply_values(product: Product, data: dict[str, Any]) -> None:
    """Copy checked listing values onto ``product`` (the description rendered once, here);
    new screenshots of a listing with the watermark on are stamped by a job after commit."""
    screenshots_before = list(product.screenshot_keys or [])
    for name in LISTING_FIELDS:
        if name == "tags":
            product.tags = tags_named(data["tags"])
        elif name in data:
            setattr(product, name, data[name])
    product.description_html = render_markdown(product.description_md)
    if product.watermark_screenshots and list(product.screenshot_keys or []) != screenshots_before:
        record_event("product.screenshots_changed", product_id=product.id)


def record_transition(
    product: Product,
    revision: ProductRevision | None,
    before: str,
    after: str,
    actor: User | None,
    reason_codes: Sequence[str] = (),
    note: str = "",
) -> ProductTransition:
    """A row of the listing's history: who moved it (or its edit) from what to what, and why."""
    transition = ProductTransition(
        product_id=product.id,
        revision_id=revision.id if revision is not None else None,
        from_status=str(before),
        to_status=str(after),
        actor_id=actor.id if actor is not None else None,
        reason_codes=list(reason_codes),
        note=note,
    )
    db.session.add(transition)
    return transition


def _new_draft(user: User, vendor: VendorProfile, data: dict[str, Any]) -> Product:
    product = Product(
        vendor=vendor,
        slug=unique_slug(Product, data["title"] or "listing"),
        status=ProductStatus.DRAFT,
    )
    apply_values(product, data)
    db.session.add(product)
    db.session.flush()
    record_transition(product, None, "", ProductStatus.DRAFT, user)
    record_event("product.created", product_id=product.id, vendor_id=vendor.id)
    return product


def create_listing(user: User, values: dict[str, Any]) -> Product:
    """Create a draft listing in ``user``'s store. Raises NotAVendor, ListingError."""
    vendor = require_vendor(user)
    return _new_draft(user, vendor, _checked_values(values))


def duplicate_listing(user: User, product: Product) -> Product:
    """A new draft copied from ``user``'s rejected listing ``product``, with a new slug.

    The copy reuses the media (storage keys are content hashes) and the workflow's facts, and
    starts its own history: the rejection stays with the original. Raises NotFound (not the
    user's), ListingNotEditable (not rejected), NotAVendor.
    """
    if product.vendor.user_id != user.id:
        raise NotFound()
    if product.status != ProductStatus.REJECTED:
        raise ListingNotEditable("Only a rejected listing can be copied into a new draft.")
    vendor = require_vendor(user)
    copy = _new_draft(user, vendor, _checked_values(listing_values(product)))
    copy.preview_key, copy.services = product.preview_key, list(product.services or [])
    return copy


def is_editable(product: Product) -> bool:
    """Whether the vendor may edit now: a draft, a listing sent back, or a live listing whose
    edit is not waiting for review."""
    if product.status in EDITABLE_STATUSES:
        return True
    revision = product.open_revision
    return product.status == ProductStatus.APPROVED and (
        revision is None or revision.state != RevisionState.PENDING
    )


def has_unsubmitted_edit(product: Product) -> bool:
    revision = product.open_revision if product.status == ProductStatus.APPROVED else None
    return revision is not None and revision.state != RevisionState.PENDING


def update_listing(user: User, product: Product, values: dict[str, Any]) -> ProductRevision | None:
    """Save the vendor's edit of ``product``.

    Drafts and listings with changes requested change in place. A live listing keeps its
    approved content: the edit goes into its open revision, reviewed separately; returns it.
    Raises ListingNotEditable (pending, rejected, suspended, or a revision under review).
    """
    if product.vendor.user_id != user.id:
        raise NotFound()
    if not is_editable(product):
        if product.status == ProductStatus.PENDING:
            raise ListingNotEditable("This listing is waiting for review. Withdraw it to edit.")
        if product.status == ProductStatus.APPROVED:
            raise ListingNotEditable(
                "Your last edit is waiting for review. Withdraw it to make more changes."
            )
        raise ListingNotEditable()
    data = _checked_values(values)
    if product.status in EDITABLE_STATUSES:
        apply_values(product, data)
        return None
    revision = product.open_revision
    if revision is None:
        revision = ProductRevision(product=product, state=RevisionState.DRAFT)
        db.session.add(revision)
    revision.data = data
    return revision


def discard_revision(user: User, product: Product) -> None:
    """Drop the vendor's unsubmitted edit of a live listing."""
    if product.vendor.user_id != user.id:
        raise NotFound()
    if not has_unsubmitted_edit(product):
        raise ListingNotEditable("There is no unsubmitted edit to discard.")
    product.revisions.remove(product.open_revision)


def vendor_listings(vendor: VendorProfile) -> list[Product]:
    """Every listing of ``vendor``'s store, whatever its status, most recently changed first."""
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == vendor.id)
            .order_by(Product.updated_at.desc())
            .options(selectinload(Product.revisions))
        )
    )
