"""The review flow: transitions of listings and of edits to live ones, the moderation queue,
the diff a moderator reads, the history, and the email each decision sends.

Functions take the acting user explicitly and never read the request; views own the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.assets.services import submission_problems
from app.catalog.content import node_labels
from app.catalog.errors import ListingError, ListingIncomplete, TransitionNotAllowed
from app.catalog.listings import (
    FIELD_LABELS,
    LISTING_FIELDS,
    apply_values,
    has_unsubmitted_edit,
    is_editable,
    listing_values,
    record_transition,
)
from app.catalog.models import (
    COMPLEXITY_LABELS,
    PRICE_TYPE_LABELS,
    TYPE_LABELS,
    Category,
    Product,
    ProductRevision,
    ProductStatus,
    ProductTransition,
    ProductType,
    RevisionState,
)
from app.errors import NotFound, PermissionDenied
from app.extensions import db
from app.money import format_money
from app.notifications.services import Email, notify, site_path
from app.outbox.services import record_event
from app.timeutil import utcnow

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
# Every product type is delivered as a file (a workflow, a bundle, a document): review needs
# a clean current version of it.
FILE_TYPES = frozenset(ProductType)


def vendor_actions(product: Product) -> frozenset[str]:
    """What the vendor may do with ``product`` now ("edit", "submit", "withdraw", "discard",
    "duplicate"), by the same tables and rules the services enforce; the listing page shows
    exactly these buttons."""
    revision = product.open_revision if product.status == ProductStatus.APPROVED else None
    state = revision.state if revision is not None else product.status
    table = REVISION_TRANSITIONS if revision is not None else PRODUCT_TRANSITIONS
    actions = {action for action in VENDOR_ACTIONS if (state, action) in table}
    if is_editable(product):
        actions.add("edit")
    if has_unsubmitted_edit(product):
        actions.add("discard")
    if product.status == ProductStatus.REJECTED:
        actions.add("duplicate")
    return frozenset(actions)


def get_product_for_review(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return product


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
            _check_complete(listing_values(product), product)
        product.status = after
        if after == ProductStatus.APPROVED and product.published_at is None:
            product.published_at = now
    else:
        before = revision.state
        after = REVISION_TRANSITIONS.get((before, action))
        if after is None:
            raise TransitionNotAllowed()
        if action == "submit":
            _check_complete(revision.data, product)
            revision.submitted_at = now
        if action == "approve":
            apply_values(product, revision.data)
        if after in {RevisionState.APPROVED, RevisionState.REJECTED}:
            revision.decided_at = now
        revision.state = after
    record = record_transition(product, revision, before, after, actor, reason_codes, note)
    record_event(
        ACTION_EVENTS[action],
        product_id=product.id,
        revision_id=revision.id if revision is not None else None,
        actor_id=actor.id,
    )
    return record


def _check_complete(values: dict[str, Any], product: Product) -> None:
    """What a listing needs before review (drafts may be incomplete): its fields, and for a
    type that is delivered as a file, a clean current version with its findings settled."""
    missing = [
        FIELD_LABELS[name]
        for name in ("title", "short_description", "description_md", "category_id")
        if not values.get(name)
    ]
    if values.get("type") in FILE_TYPES:
        missing += submission_problems(product)
    if missing:
        raise ListingIncomplete(missing)


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


@dataclass(frozen=True)
class Change:
    """One field of the diff, as a moderator reads it: labels, money, names; for image fields
    the storage keys, shown as thumbnails."""

    field: str
    label: str
    before: str
    after: str
    before_images: tuple[str, ...] = ()
    after_images: tuple[str, ...] = ()


IMAGE_FIELDS = frozenset({"thumbnail_key", "screenshot_keys"})
_LABELS: dict[str, dict[Any, str]] = {
    "type": TYPE_LABELS,
    "price_type": PRICE_TYPE_LABELS,
    "complexity": COMPLEXITY_LABELS,
}


def _shown(name: str, value: Any, values: dict[str, Any]) -> str:
    """``value`` of field ``name`` as text; ``values`` (the same side's listing) gives money
    its currency."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "category_id":
        category = db.session.get(Category, value)
        return " › ".join(c.name for c in category.path) if category else "—"
    if name in _LABELS:
        return _LABELS[name].get(value, str(value))
    if name.endswith("_cents"):
        return format_money(value, values.get("currency") or "USD")
    if name == "node_types":
        return ", ".join(node_labels(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _images(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _change(name: str, before: dict[str, Any] | None, after: dict[str, Any]) -> Change:
    old = before.get(name) if before is not None else None
    new = after.get(name)
    if name in IMAGE_FIELDS:
        label = FIELD_LABELS[name]
        return Change(name, label, "—", "—", _images(old), _images(new))
    shown_old = _shown(name, old, before) if before is not None else "—"
    return Change(name, FIELD_LABELS[name], shown_old, _shown(name, new, after))


def listing_diff(product: Product, revision: ProductRevision | None) -> list[Change]:
    """What review would change: a revision against the live content, or a new listing whole."""
    live = listing_values(product)
    if revision is None:
        return [
            _change(name, None, live) for name in LISTING_FIELDS if live[name] not in (None, "", [])
        ]
    return [
        _change(name, live, revision.data)
        for name in LISTING_FIELDS
        if revision.data.get(name) != live[name]
    ]


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


def notify_vendor_of_decision(
    product_id: int, event_name: str, event_id: str | None = None
) -> None:
    """Notify the vendor of the outcome of a review, in the app and by email as they chose
    (job handler for the product.* events; idempotent per ``event_id``)."""
    product = db.session.get(Product, product_id)
    if product is None:
        return
    feedback = latest_feedback(product) if event_name != "product.approved" else None
    reasons = [REASON_CODES[c] for c in (feedback.reason_codes if feedback else [])]
    subject = DECISION_SUBJECTS[event_name].format(title=product.title)
    note = feedback.note if feedback else ""
    notify(
        product.vendor.user,
        "listing_decision",
        subject,
        "\n".join([*reasons, note]).strip(),
        site_path("catalog.manage_GET", product_id=product.id),
        event_id=event_id,
        email=Email(
            subject=subject,
            template="listing_decision",
            context={
                "product": product,
                "event_name": event_name,
                "reasons": reasons,
                "note": note,
            },
            to=product.vendor.support_email or product.vendor.user.email,
        ),
    )


DECISION_SUBJECTS = {
    "product.approved": "Approved: {title}",
    "product.changes_requested": "Changes requested: {title}",
    "product.rejected": "Not approved: {title}",
    "product.suspended": "Suspended: {title}",
    "product.reinstated": "Back on sale: {title}",
}
