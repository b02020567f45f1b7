"""Catalog services: listings, their review flow, categories and public queries.

Functions take the acting user explicitly and never read the request; views own the commit.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nh3
from flask import has_app_context
from markdown_it import MarkdownIt
from sqlalchemy import bindparam, func, select
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User
from app.cache import bump_catalog_version, catalog_fact
from app.catalog.models import (
    Category,
    PriceType,
    Product,
    ProductRevision,
    ProductStatus,
    ProductTransition,
    RevisionState,
    Tag,
    product_tags,
)
from app.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.images import store_image
from app.notifications.services import external_url, send_email
from app.outbox.services import record_event
from app.pagination import Page, paginate
from app.timeutil import utcnow
from app.vendors.models import VendorProfile

log = logging.getLogger(__name__)

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

# Reasons a moderator gives; each says what the vendor can do about it.
REASON_CODES: dict[str, str] = {
    "description": "The description does not say clearly what the product does and how.",
    "setup": "Setup steps, requirements or credentials needed are missing.",
    "pricing": "The price or pricing model does not match what is delivered.",
    "media": "The thumbnail, screenshots or video are missing, broken or misleading.",
    "category": "The category, type or tags do not fit the product.",
    "secrets": "The listing or its files contain credentials or other secrets.",
    "quality": "The product does not work as described.",
    "policy": "The product breaks the marketplace's content or licence policy.",
    "duplicate": "The product duplicates an existing listing.",
}

CURRENCIES = ("USD", "EUR", "GBP")
MAX_SCREENSHOTS = 6
MAX_TAGS = 10
IMAGE_MAX_BYTES = 5 * 1024 * 1024
THUMBNAIL_SIZE = (640, 400)
SCREENSHOT_SIZE = (1600, 1000)

# (product status or revision state, action) -> new status. Anything else is refused.
PRODUCT_TRANSITIONS: dict[tuple[str, str], str] = {
    (ProductStatus.DRAFT, "submit"): ProductStatus.PENDING,
    (ProductStatus.CHANGES_REQUESTED, "submit"): ProductStatus.PENDING,
    (ProductStatus.PENDING, "withdraw"): ProductStatus.DRAFT,
    (ProductStatus.PENDING, "approve"): ProductStatus.APPROVED,
    (ProductStatus.PENDING, "request_changes"): ProductStatus.CHANGES_REQUESTED,
    (ProductStatus.PENDING, "reject"): ProductStatus.REJECTED,
    (ProductStatus.APPROVED, "suspend"): ProductStatus.SUSPENDED,
    (ProductStatus.SUSPENDED, "reinstate"): ProductStatus.APPROVED,
}
# An edit of a live listing goes through the same review steps (the state names are shared);
# suspending and reinstating concern the live listing only.
LIVE_ONLY_ACTIONS = frozenset({"suspend", "reinstate"})
REVISION_TRANSITIONS: dict[tuple[str, str], str] = {
    key: after for key, after in PRODUCT_TRANSITIONS.items() if key[1] not in LIVE_ONLY_ACTIONS
}
# The event each decision emits (the outbox turns them into email and index updates).
ACTION_EVENTS = {
    "submit": "product.submitted",
    "withdraw": "product.withdrawn",
    "approve": "product.approved",
    "request_changes": "product.changes_requested",
    "reject": "product.rejected",
    "suspend": "product.suspended",
    "reinstate": "product.reinstated",
}
VENDOR_ACTIONS = frozenset({"submit", "withdraw"})
EDITABLE_STATUSES = frozenset({ProductStatus.DRAFT, ProductStatus.CHANGES_REQUESTED})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


class ListingError(DomainError):
    status = 422
    message = "That listing could not be saved."


class ListingNotEditable(Conflict):
    message = "This listing cannot be edited in its current state."


class TransitionNotAllowed(Conflict):
    message = "That change of status is not allowed."


class NotAVendor(PermissionDenied):
    message = "Only approved vendors can create listings."


# --- content helpers ------------------------------------------------------------------------


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to show: raw HTML off, then an allow-list sanitiser."""
    html = _markdown.render(text or "")
    # Headings shift down so a description never competes with the page's <h1>.
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
    )


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(model: Any, text: str) -> str:
    """A slug of ``text`` no ``model`` row has yet ("title", then "title-2", "title-3", ...)."""
    base = slugify(text)
    slug, n = base, 2
    while True:
        if db.session.scalar(select(model.id).where(model.slug == slug)) is None:
            return slug
        slug = f"{base[:74]}-{n}"
        n += 1


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^[0-9]{1,12}$")


def parse_video_url(url: str) -> tuple[str, str] | None:
    """An allow-listed YouTube or Vimeo link as (provider, id); None for an empty value.

    Raises ListingError for any other link: only the id is kept, never the URL itself.
    """
    url = (url or "").strip()
    if not url:
        return None
    error = ListingError("Use a YouTube or Vimeo link, e.g. https://www.youtube.com/watch?v=...")
    if len(url) > 300:
        raise error
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"}:
        raise error
    candidate = ""
    if host in {"youtube.com", "www.youtube.com", "m.youtube.com"}:
        if parts.path == "/watch":
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        elif parts.path.startswith(("/embed/", "/shorts/")):
            candidate = parts.path.split("/")[2]
    elif host == "youtu.be":
        candidate = parts.path.lstrip("/")
    elif host in {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}:
        candidate = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if _VIMEO_ID.match(candidate):
            return "vimeo", candidate
        raise error
    if _YOUTUBE_ID.match(candidate):
        return "youtube", candidate
    raise error


def video_url(provider: str | None, video_id: str | None) -> str:
    """The watch link for a stored video (what the edit form shows back)."""
    if provider == "youtube" and video_id:
        return f"https://www.youtube.com/watch?v={video_id}"
    if provider == "vimeo" and video_id:
        return f"https://vimeo.com/{video_id}"
    return ""


def clean_list(values: Iterable[str], limit: int, length: int = 80) -> list[str]:
    """Trimmed, de-duplicated, bounded list of short strings (order kept)."""
    kept: list[str] = []
    seen: set[str] = set()
    for value in values:
        value = " ".join(str(value).split())[:length]
        if value and value.lower() not in seen and len(kept) < limit:
            kept.append(value)
            seen.add(value.lower())
    return kept


def store_thumbnail(data: bytes) -> str:
    return store_image("products", data, IMAGE_MAX_BYTES, THUMBNAIL_SIZE, crop=True)


def store_screenshot(data: bytes) -> str:
    return store_image("products", data, IMAGE_MAX_BYTES, SCREENSHOT_SIZE)


# --- ownership ------------------------------------------------------------------------------


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


def get_product_for_review(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return product


# --- listing content ------------------------------------------------------------------------


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


def _apply(product: Product, data: dict[str, Any]) -> None:
    for name in LISTING_FIELDS:
        if name == "tags":
            product.tags = tags_named(data["tags"])
        elif name in data:
            setattr(product, name, data[name])
    product.description_html = render_markdown(product.description_md)


def create_listing(user: User, values: dict[str, Any]) -> Product:
    """Create a draft listing in ``user``'s store. Raises NotAVendor, ListingError."""
    vendor = require_vendor(user)
    data = _checked_values(values)
    product = Product(
        vendor=vendor,
        slug=unique_slug(Product, data["title"] or "listing"),
        status=ProductStatus.DRAFT,
    )
    _apply(product, data)
    db.session.add(product)
    db.session.flush()
    _record(product, None, "", ProductStatus.DRAFT, user)
    record_event("product.created", product_id=product.id, vendor_id=vendor.id)
    return product


def update_listing(user: User, product: Product, values: dict[str, Any]) -> ProductRevision | None:
    """Save the vendor's edit of ``product``.

    Drafts and listings with changes requested change in place. A live listing keeps its
    approved content: the edit goes into its open revision, reviewed separately; returns it.
    Raises ListingNotEditable (pending, rejected, suspended, or a revision under review).
    """
    if product.vendor.user_id != user.id:
        raise NotFound()
    if "edit" not in vendor_actions(product):
        if product.status == ProductStatus.PENDING:
            raise ListingNotEditable("This listing is waiting for review. Withdraw it to edit.")
        if product.status == ProductStatus.APPROVED:
            raise ListingNotEditable(
                "Your last edit is waiting for review. Withdraw it to make more changes."
            )
        raise ListingNotEditable()
    data = _checked_values(values)
    if product.status in EDITABLE_STATUSES:
        _apply(product, data)
        return None
    revision = product.open_revision
    if revision is None:
        revision = ProductRevision(product=product, state=RevisionState.DRAFT)
        db.session.add(revision)
    revision.data = data
    return revision


def vendor_actions(product: Product) -> frozenset[str]:
    """What the vendor may do with ``product`` now ("edit", "submit", "withdraw", "discard"),
    by the same tables the services enforce; the listing page shows exactly these buttons."""
    revision = product.open_revision if product.status == ProductStatus.APPROVED else None
    state = revision.state if revision is not None else product.status
    table = REVISION_TRANSITIONS if revision is not None else PRODUCT_TRANSITIONS
    actions = {action for action in VENDOR_ACTIONS if (state, action) in table}
    if product.status in EDITABLE_STATUSES or (
        product.status == ProductStatus.APPROVED and state != RevisionState.PENDING
    ):
        actions.add("edit")
    if revision is not None and revision.state != RevisionState.PENDING:
        actions.add("discard")
    return frozenset(actions)


def discard_revision(user: User, product: Product) -> None:
    """Drop the vendor's unsubmitted edit of a live listing."""
    if product.vendor.user_id != user.id:
        raise NotFound()
    if "discard" not in vendor_actions(product):
        raise ListingNotEditable("There is no unsubmitted edit to discard.")
    product.revisions.remove(product.open_revision)


# --- the status flow ------------------------------------------------------------------------


def _record(
    product: Product,
    revision: ProductRevision | None,
    before: str,
    after: str,
    actor: User | None,
    reason_codes: Sequence[str] = (),
    note: str = "",
) -> ProductTransition:
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


def _reviewable_revision(product: Product, action: str) -> ProductRevision | None:
    """The revision an action applies to: a live product's open edit, if it has one."""
    if product.status != ProductStatus.APPROVED or action in LIVE_ONLY_ACTIONS:
        return None
    revision = product.open_revision
    if revision is None:
        raise TransitionNotAllowed("This listing has no edit waiting for that.")
    return revision


def transition(
    actor: User,
    product: Product,
    action: str,
    reason_codes: Sequence[str] = (),
    note: str = "",
) -> ProductTransition:
    """Move ``product`` (or its open revision) along the review flow by ``action``.

    Vendors may only submit and withdraw their own listings; admins decide. A live listing's
    edit is approved by copying it onto the live content. Records who, when and why, and emits
    the action's event. Raises PermissionDenied, NotFound, TransitionNotAllowed, ListingError.
    """
    if action in VENDOR_ACTIONS:
        if product.vendor.user_id != actor.id:
            raise NotFound()
    elif not actor.is_admin:
        raise PermissionDenied()
    unknown = [code for code in reason_codes if code not in REASON_CODES]
    if unknown:
        raise ListingError("Unknown reason.")
    note = (note or "").strip()[:2000]
    if action in {"request_changes", "reject"} and not (reason_codes or note):
        raise ListingError("Give at least one reason so the vendor knows what to do.")
    revision = _reviewable_revision(product, action)
    now = utcnow()
    if revision is None:
        before = product.status
        after = PRODUCT_TRANSITIONS.get((before, action))
        if after is None:
            raise TransitionNotAllowed()
        if action == "submit":
            _check_complete(listing_values(product))
        product.status = after
        if after == ProductStatus.APPROVED and product.published_at is None:
            product.published_at = now
    else:
        before = revision.state
        after = REVISION_TRANSITIONS.get((before, action))
        if after is None:
            raise TransitionNotAllowed()
        if action == "submit":
            _check_complete(revision.data)
            revision.submitted_at = now
        if action == "approve":
            _apply(product, revision.data)
        if after in {RevisionState.APPROVED, RevisionState.REJECTED}:
            revision.decided_at = now
        revision.state = after
    record = _record(product, revision, before, after, actor, reason_codes, note)
    record_event(
        ACTION_EVENTS[action],
        product_id=product.id,
        revision_id=revision.id if revision is not None else None,
        actor_id=actor.id,
    )
    return record


def _check_complete(values: dict[str, Any]) -> None:
    """What a listing needs before review (drafts may be incomplete)."""
    missing = [
        FIELD_LABELS[name]
        for name in ("title", "short_description", "description_md", "category_id")
        if not values.get(name)
    ]
    if missing:
        raise ListingError("Fill in before submitting: " + ", ".join(missing) + ".")


# --- moderation -----------------------------------------------------------------------------


@dataclass
class QueueItem:
    product: Product
    revision: ProductRevision | None
    submitted_at: datetime

    @property
    def is_edit(self) -> bool:
        return self.revision is not None


def moderation_queue() -> list[QueueItem]:
    """Listings and edits of live listings waiting for review, oldest submission first."""
    items: list[QueueItem] = []
    submitted = (
        select(ProductTransition.product_id, func.max(ProductTransition.created_at))
        .where(ProductTransition.to_status == ProductStatus.PENDING)
        .group_by(ProductTransition.product_id)
    )
    when = dict(db.session.execute(submitted).tuples().all())
    products = db.session.scalars(
        select(Product)
        .where(Product.status == ProductStatus.PENDING)
        .options(selectinload(Product.vendor))
    )
    for product in products:
        items.append(QueueItem(product, None, when.get(product.id) or product.updated_at))
    revisions = db.session.scalars(
        select(ProductRevision)
        .where(ProductRevision.state == RevisionState.PENDING)
        .options(selectinload(ProductRevision.product).selectinload(Product.vendor))
    )
    for revision in revisions:
        items.append(QueueItem(revision.product, revision, revision.submitted_at or utcnow()))
    items.sort(key=lambda item: (_aware(item.submitted_at), item.product.id))
    return items


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Change:
    field: str
    label: str
    before: str
    after: str


def _shown(name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name == "category_id":
        category = db.session.get(Category, value)
        return " › ".join(c.name for c in category.path) if category else "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if name.endswith("_cents"):
        return f"{value / 100:.2f}"
    return str(value)


def listing_diff(product: Product, revision: ProductRevision | None) -> list[Change]:
    """What review would change: a revision against the live content, or a new listing whole."""
    live = listing_values(product)
    if revision is None:
        return [
            Change(name, FIELD_LABELS[name], "—", _shown(name, live[name]))
            for name in LISTING_FIELDS
            if live[name] not in (None, "", [])
        ]
    changes = []
    for name in LISTING_FIELDS:
        new = revision.data.get(name)
        if new != live[name]:
            changes.append(
                Change(name, FIELD_LABELS[name], _shown(name, live[name]), _shown(name, new))
            )
    return changes


def history(product: Product) -> list[ProductTransition]:
    return list(
        db.session.scalars(
            select(ProductTransition)
            .where(ProductTransition.product_id == product.id)
            .order_by(ProductTransition.created_at.desc(), ProductTransition.id.desc())
        )
    )


def latest_feedback(product: Product) -> ProductTransition | None:
    """The last moderator decision the vendor must act on: changes, rejection or suspension."""
    return db.session.scalar(
        select(ProductTransition)
        .where(
            ProductTransition.product_id == product.id,
            ProductTransition.to_status.in_(
                [ProductStatus.CHANGES_REQUESTED, ProductStatus.REJECTED, ProductStatus.SUSPENDED]
            ),
        )
        .order_by(ProductTransition.id.desc())
        .limit(1)
    )


# --- public queries -------------------------------------------------------------------------

# The ORDER BY of each of app.sorting.LIST_SORTS.
SORTS = {
    "popular": (Product.popularity.desc(), Product.id.desc()),
    "newest": (Product.published_at.desc(), Product.id.desc()),
    "price_asc": (Product.display_price_cents.asc(), Product.id),
    "price_desc": (Product.display_price_cents.desc(), Product.id.desc()),
    "rating": (Product.rating_avg.desc(), Product.rating_count.desc(), Product.id.desc()),
}


def _public() -> Any:
    return (
        select(Product)
        .where(Product.status == ProductStatus.APPROVED)
        .options(selectinload(Product.vendor), selectinload(Product.category))
    )


# The product page's query is built once: building a statement with loader options (and its
# cache key) costs more than running it. The tag names come in the same round trip, joined
# by a separator no tag name holds (clean_list folds it away as whitespace). The store and
# the category trail are catalog facts (``store_link``, ``category_trail``), not joins:
# loading three more rows through the ORM cost half as much again as the product.
TAG_SEPARATOR = "\x1f"


@functools.cache
def _public_product_query() -> Any:
    tag_names = (
        select(func.aggregate_strings(Tag.name, TAG_SEPARATOR))
        .join(product_tags, product_tags.c.tag_id == Tag.id)
        .where(product_tags.c.product_id == Product.id)
        .scalar_subquery()
    )
    return select(Product, tag_names).where(
        Product.status == ProductStatus.APPROVED, Product.slug == bindparam("slug")
    )


def public_product(slug: str) -> tuple[Product, list[str]]:
    """An approved product by slug and its tag names, sorted; NotFound otherwise (drafts are
    never public)."""
    row = db.session.execute(_public_product_query(), {"slug": slug}).one_or_none()
    if row is None:
        raise NotFound()
    product, joined = row
    return product, sorted(joined.split(TAG_SEPARATOR), key=str.lower) if joined else []


@dataclass(frozen=True)
class StoreLink:
    """What a product page shows of its store."""

    id: int
    user_id: int
    slug: str
    store_name: str
    is_verified: bool


def store_link(vendor_id: int) -> StoreLink:
    def build() -> StoreLink:
        vendor = db.session.get(VendorProfile, vendor_id)
        if vendor is None:
            raise NotFound()
        return StoreLink(
            vendor.id, vendor.user_id, vendor.slug, vendor.store_name, vendor.is_verified
        )

    return catalog_fact(f"store:{vendor_id}", build)


def category_trail(category_id: int | None) -> tuple[tuple[str, str], ...]:
    """(slug, name) from the root category down to ``category_id``; () for none."""
    if category_id is None:
        return ()

    def build() -> tuple[tuple[str, str], ...]:
        category = db.session.get(Category, category_id)
        return tuple((c.slug, c.name) for c in category.path) if category else ()

    return catalog_fact(f"trail:{category_id}", build)


def home_sections(limit: int = 8) -> dict[str, list[Product]]:
    return {
        "featured": list(
            db.session.scalars(
                _public()
                .where(Product.is_featured.is_(True))
                .order_by(*SORTS["popular"])
                .limit(limit)
            )
        ),
        "new": list(db.session.scalars(_public().order_by(*SORTS["newest"]).limit(limit))),
        "popular": list(db.session.scalars(_public().order_by(*SORTS["popular"]).limit(limit))),
    }


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


def category_by_slug(slug: str) -> Category:
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound()
    return category


def descendant_ids(category: Category) -> list[int]:
    ids, frontier = [category.id], [category]
    while frontier and len(ids) < 500:
        node = frontier.pop()
        for child in node.children:
            if child.id not in ids:
                ids.append(child.id)
                frontier.append(child)
    return ids


def category_products(category: Category, page: int, sort: str) -> Page:
    query = _public().where(Product.category_id.in_(descendant_ids(category)))
    return paginate(query.order_by(*SORTS.get(sort, SORTS["popular"])), page)


def vendor_products(vendor: VendorProfile, page: int) -> Page:
    query = _public().where(Product.vendor_id == vendor.id).order_by(*SORTS["popular"])
    return paginate(query, page)


@functools.cache
def _vendor_rating_query() -> Any:
    return select(
        func.sum(Product.rating_avg * Product.rating_count), func.sum(Product.rating_count)
    ).where(Product.vendor_id == bindparam("vendor_id"), Product.status == ProductStatus.APPROVED)


def vendor_rating(vendor: VendorProfile) -> tuple[float, int]:
    """The review-weighted mean rating over the vendor's live products, and the review count."""
    total, count = db.session.execute(_vendor_rating_query(), {"vendor_id": vendor.id}).one()
    return (round(float(total) / count, 2) if count else 0.0), int(count or 0)


def top_categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position, Category.name)
            .options(selectinload(Category.children))
        )
    )


def category_choices() -> list[tuple[int, str]]:
    """Every category as (id, "Parent › Child") for a select, in tree order."""
    categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    labelled = [(c.id, " › ".join(n.name for n in c.path)) for c in categories]
    return sorted(labelled, key=lambda item: item[1].lower())


def sitemap_entries() -> list[tuple[str, str, datetime | None]]:
    """(kind, slug, last modified) for every public page worth indexing."""
    entries: list[tuple[str, str, datetime | None]] = []
    products = db.session.execute(
        select(Product.slug, Product.updated_at)
        .where(Product.status == ProductStatus.APPROVED)
        .order_by(Product.id)
    )
    entries += [("product", slug, updated) for slug, updated in products]
    entries += [("category", slug, None) for slug in db.session.scalars(select(Category.slug))]
    vendors = db.session.scalars(
        select(VendorProfile.slug).where(VendorProfile.status == "approved")
    )
    entries += [("vendor", slug, None) for slug in vendors]
    return entries


# --- categories (admin-managed tree) --------------------------------------------------------


def save_category(
    admin: User,
    name: str,
    parent_id: int | None,
    description: str = "",
    position: int = 0,
    category: Category | None = None,
) -> Category:
    """Create or edit a category; refuses a parent that would make a cycle."""
    if not admin.is_admin:
        raise PermissionDenied()
    parent = db.session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise ListingError("Choose an existing parent category.")
    if category is not None and parent is not None and category in parent.path:
        raise ListingError("A category cannot sit inside itself.")
    if category is None:
        category = Category(slug=unique_slug(Category, name))
        db.session.add(category)
    elif category.name != name.strip() or category.parent is not parent:
        # Every listing below it is indexed with its category trail: rebuild the index.
        record_event("category.changed", category_id=category.id)
    category.name = name.strip()
    category.parent = parent
    category.description = description.strip()
    category.position = position
    return category


def notify_vendor_of_decision(product_id: int, event_name: str) -> None:
    """Email the vendor the outcome of a review (job handler for the product.* events)."""
    product = db.session.get(Product, product_id)
    if product is None:
        return
    feedback = latest_feedback(product) if event_name != "product.approved" else None
    reasons = [REASON_CODES[c] for c in (feedback.reason_codes if feedback else [])]
    link = external_url("catalog.manage_GET", product_id=product.id)
    send_email(
        to=product.vendor.support_email or product.vendor.user.email,
        subject=DECISION_SUBJECTS[event_name].format(title=product.title),
        template="listing_decision",
        product=product,
        event_name=event_name,
        reasons=reasons,
        note=feedback.note if feedback else "",
        link=link,
    )


DECISION_SUBJECTS = {
    "product.approved": "Approved: {title}",
    "product.changes_requested": "Changes requested: {title}",
    "product.rejected": "Not approved: {title}",
    "product.suspended": "Suspended: {title}",
    "product.reinstated": "Back on sale: {title}",
}


# --- cached public fragments follow the catalog ---------------------------------------------

# Counters move on every page view; fragments may show them up to a minute late.
_STAT_COLUMNS = frozenset(
    {"view_count", "sales_count", "popularity", "rating_avg", "rating_count", "updated_at"}
)
_CHANGED = "catalog_changed"


_CATALOG_TYPES = (Product, Category, Tag, VendorProfile)


def _changes_content(obj: Any) -> bool:
    if isinstance(obj, Product):
        state = sa_inspect(obj)
        return any(
            attr.history.has_changes() for attr in state.attrs if attr.key not in _STAT_COLUMNS
        )
    return isinstance(obj, _CATALOG_TYPES)


@sa_event.listens_for(Session, "after_flush")
def _note_catalog_changes(session: Session, _context: Any) -> None:
    if session.info.get(_CHANGED):
        return
    if any(isinstance(o, _CATALOG_TYPES) for o in (*session.new, *session.deleted)) or any(
        _changes_content(o) for o in session.dirty
    ):
        session.info[_CHANGED] = True


@sa_event.listens_for(Session, "after_commit")
def _expire_fragments(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        try:
            bump_catalog_version()
        except Exception:  # noqa: BLE001 - fragments then expire by their timeout instead
            log.warning("could not expire fragments", exc_info=True)


@sa_event.listens_for(Session, "after_rollback")
def _forget_catalog_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
