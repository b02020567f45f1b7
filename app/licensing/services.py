"""Licences: issuing and revoking them (fulfilment, refunds, subscriptions), the licence API's
checks (validate, activate, deactivate), the buyer's library and activations, and the vendor's
list of issued keys with disable and re-enable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.catalog.listings import require_vendor
from app.catalog.models import Product
from app.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.licensing.keys import InvalidKey, generate_key, is_well_formed, normalise_key
from app.licensing.models import Licence, LicenceActivation, LicenceKind, LicenceStatus
from app.outbox.services import record_event
from app.pagination import Page, contains_pattern, paginate
from app.timeutil import as_utc, utcnow

# Limits every licence starts with (None: unlimited); a listing cannot set them yet.
DEFAULT_MAX_ACTIVATIONS = 3
DEFAULT_MAX_DOWNLOADS: int | None = None


def issue_licence(
    user_id: int,
    product: Product,
    order_line_id: int,
    kind: LicenceKind = LicenceKind.PERPETUAL,
    subscription_id: int | None = None,
    expires_at: datetime | None = None,
) -> Licence:
    """The licence for one order line, added to the caller's transaction; the line's existing
    licence when it has one (fulfilling twice issues nothing new). Permissions come from the
    listing's terms; limits from the defaults above."""
    existing = db.session.scalar(select(Licence).where(Licence.order_line_id == order_line_id))
    if existing is not None:
        return existing
    licence = Licence(
        key=generate_key(),
        user_id=user_id,
        product_id=product.id,
        order_line_id=order_line_id,
        subscription_id=subscription_id,
        kind=kind.value,
        status=LicenceStatus.ACTIVE.value,
        can_download=True,
        commercial_use=product.licence_commercial,
        redistribution=product.licence_redistribution,
        modification=product.licence_modification,
        max_downloads=DEFAULT_MAX_DOWNLOADS,
        max_activations=DEFAULT_MAX_ACTIVATIONS,
        expires_at=expires_at,
    )
    db.session.add(licence)
    db.session.flush()
    return licence


def revoke_licences_for(order_line_id: int, reason: str = "refunded") -> int:
    """Revoke every licence an order line paid for (a refund); return how many changed."""
    result = db.session.execute(
        update(Licence)
        .where(Licence.order_line_id == order_line_id, Licence.status != LicenceStatus.REVOKED)
        .values(status=LicenceStatus.REVOKED.value, status_reason=reason[:200], updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def follow_subscription(subscription_id: int, expires_at: datetime | None) -> int:
    """Set the expiry of a subscription's licences (its current period's end, or the moment it
    ended); return how many licences it applies to."""
    result = db.session.execute(
        update(Licence)
        .where(Licence.subscription_id == subscription_id)
        .values(expires_at=expires_at, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def holds_perpetual_licence(user_id: int, product_id: int) -> bool:
    """True when ``user_id`` holds a valid perpetual licence for ``product_id``."""
    found = db.session.scalar(
        select(Licence.id).where(
            Licence.user_id == user_id,
            Licence.product_id == product_id,
            Licence.kind == LicenceKind.PERPETUAL,
            Licence.status == LicenceStatus.ACTIVE,
        )
    )
    return found is not None


def licences_of_lines(line_ids: list[int]) -> dict[int, Licence]:
    """Licences by order line id."""
    if not line_ids:
        return {}
    rows = db.session.scalars(select(Licence).where(Licence.order_line_id.in_(line_ids)))
    return {row.order_line_id: row for row in rows}


def owned_product_ids(user_id: int, product_ids: list[int]) -> set[int]:
    """Which of ``product_ids`` ``user_id`` already holds a valid licence for (perpetual, or a
    subscription or trial not yet expired)."""
    if not product_ids:
        return set()
    now = utcnow()
    rows = db.session.scalars(
        select(Licence).where(
            Licence.user_id == user_id,
            Licence.product_id.in_(product_ids),
            Licence.status == LicenceStatus.ACTIVE,
        )
    )
    return {row.product_id for row in rows if row.is_valid(now)}


def holder_ids(product_id: int, now: datetime | None = None) -> list[int]:
    """Each user holding a valid licence for ``product_id`` once, in id order (``Licence.state``
    "active" in SQL: neither revoked nor disabled, not expired)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Licence.user_id)
            .where(
                Licence.product_id == product_id,
                Licence.status == LicenceStatus.ACTIVE,
                or_(Licence.expires_at.is_(None), Licence.expires_at > now),
            )
            .distinct()
            .order_by(Licence.user_id)
        )
    )


MAX_INSTANCE_ID = 128
MAX_REASON = 200
VENDOR_PAGE_SIZE = 25


class LicenceKeyInvalid(DomainError):
    status = 422
    message = "That is not a licence key: its shape or checksum does not match."


class LicenceNotFound(NotFound):
    # The same answer for an unknown key and a key for another product: a key's existence
    # is never revealed to someone who does not also name its product.
    message = "No licence with that key exists for that product."


class LicenceNotUsable(PermissionDenied):
    message = "That licence cannot be used."


class ActivationLimitReached(Conflict):
    message = "That licence is active on as many instances as it allows; deactivate one first."


class ActivationNotFound(NotFound):
    message = "That licence is not active on that instance."


class LicenceStatusUnchanged(Conflict):
    message = "That licence is already in that state."


# What a licence that cannot be used says, by state.
REFUSALS = {
    "disabled": "That licence has been disabled by its vendor.",
    "revoked": "That licence has been revoked (its order was refunded or it ended).",
    "expired": "That licence has expired.",
}


def require_usable(licence: Licence, now: datetime | None = None) -> None:
    """Raise LicenceNotUsable (with the reason) unless ``licence`` is active."""
    state = licence.state(now)
    if state != "active":
        raise LicenceNotUsable(REFUSALS[state])


def active_activations(licence: Licence) -> list[LicenceActivation]:
    return [a for a in licence.activations if a.deactivated_at is None]


# One query: the licence, its product (the slug check) and its activations (the count). Built
# once: making the statement costs more than running it (the licence API's hot path).
_BY_KEY = (
    select(Licence)
    .where(Licence.key == bindparam("key"))
    .options(joinedload(Licence.product), joinedload(Licence.activations))
)


def canonical_key(key: str) -> str:
    """``key`` as stored; raises LicenceKeyInvalid for a wrong shape or checksum."""
    try:
        return normalise_key(key)
    except InvalidKey as exc:
        raise LicenceKeyInvalid(str(exc)) from exc


def find_licence(key: str, product: str | int | None = None) -> Licence:
    """The licence with ``key`` (as typed), for ``product`` (its slug or id) when given.

    The key is normalised and looked up through its unique index: the database compares it,
    so no string comparison here answers faster for a longer correct prefix. Raises
    LicenceKeyInvalid (wrong shape or checksum) and LicenceNotFound (unknown key, or a key
    for another product).
    """
    licence = db.session.scalars(_BY_KEY, {"key": canonical_key(key)}).unique().one_or_none()
    if licence is None or (product is not None and not _is_product(licence, product)):
        raise LicenceNotFound()
    return licence


def _lock_licence(key: str, now: datetime) -> None:
    """Take the licence's write lock before its activations are read: the row lock on
    PostgreSQL (the next statement sees every activation committed before it), the database's
    write lock on SQLite. Two instances racing for the last place then count one after the
    other. A wrong key changes no row and is refused by the look-up that follows."""
    db.session.execute(
        update(Licence)
        .where(Licence.key == canonical_key(key))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _is_product(licence: Licence, product: str | int, slug: str | None = None) -> bool:
    if isinstance(product, int):
        return licence.product_id == product
    if product.isascii() and product.isdigit() and licence.product_id == int(product):
        return True
    return (licence.product.slug if slug is None else slug) == product


@dataclass(frozen=True)
class ActivationResult:
    licence: Licence
    activation: LicenceActivation
    created: bool  # False: that instance was already active (the call is idempotent)


# The validate call's one query: the licence with its product's slug and the count of its
# active instances, not the product and activation rows find_licence loads (loading those
# took half of the API's time per call; validate is the call tools make most).
_ACTIVE_COUNT = (
    select(func.count())
    .where(LicenceActivation.licence_id == Licence.id, LicenceActivation.deactivated_at.is_(None))
    .correlate(Licence)
    .scalar_subquery()
)
_VALIDATE = (
    select(Licence, Product.slug, _ACTIVE_COUNT)
    .join(Product, Product.id == Licence.product_id)
    .where(Licence.key == bindparam("key"))
)


def validate_licence(key: str, product: str | int, now: datetime | None = None) -> dict[str, Any]:
    """What the licence API says about the licence ``key`` opens for ``product``, whatever
    its state (see licence_summary).

    Raises LicenceKeyInvalid and LicenceNotFound (as find_licence).
    """
    row = db.session.execute(_VALIDATE, {"key": canonical_key(key)}).one_or_none()
    if row is None or not _is_product(row[0], product, row[1]):
        raise LicenceNotFound()
    licence, slug, used = row
    return _summary(licence, slug, used, now)


def activate_instance(
    key: str, product: str | int, instance_id: str, now: datetime | None = None
) -> ActivationResult:
    """Activate the licence on ``instance_id``, up to its max_activations.

    Activating an instance already active changes nothing but its last-seen time; one freed
    earlier is active again. The licence is locked while its activations are counted, so two
    instances racing for the last place cannot both get it. Raises
    LicenceKeyInvalid, LicenceNotFound, LicenceNotUsable and ActivationLimitReached.
    """
    now = now or utcnow()
    _lock_licence(key, now)
    licence = find_licence(key, product)
    require_usable(licence, now)
    existing = next((a for a in licence.activations if a.instance_id == instance_id), None)
    if existing is not None and existing.deactivated_at is None:
        existing.last_seen_at = now
        return ActivationResult(licence, existing, created=False)
    limit = licence.max_activations
    if limit is not None and len(active_activations(licence)) >= limit:
        raise ActivationLimitReached()
    if existing is not None:
        existing.deactivated_at = None
        existing.last_seen_at = now
        return ActivationResult(licence, existing, created=True)
    activation = LicenceActivation(instance_id=instance_id, created_at=now, last_seen_at=now)
    licence.activations.append(activation)
    db.session.flush()
    return ActivationResult(licence, activation, created=True)


def deactivate_instance(key: str, instance_id: str, now: datetime | None = None) -> Licence:
    """Free the licence's place on ``instance_id`` (allowed in any licence state).

    Raises LicenceKeyInvalid, LicenceNotFound and ActivationNotFound.
    """
    now = now or utcnow()
    _lock_licence(key, now)
    licence = find_licence(key)
    activation = next(
        (
            a
            for a in licence.activations
            if a.instance_id == instance_id and a.deactivated_at is None
        ),
        None,
    )
    if activation is None:
        raise ActivationNotFound()
    activation.deactivated_at = now
    return licence


def licence_summary(licence: Licence, now: datetime | None = None) -> dict[str, Any]:
    """What the licence API says about a licence (the OpenAPI schema LicenceStatus)."""
    return _summary(licence, licence.product.slug, len(active_activations(licence)), now)


def _summary(licence: Licence, slug: str, used: int, now: datetime | None) -> dict[str, Any]:
    state = licence.state(now)
    return {
        "valid": state == "active",
        "status": state,
        "kind": licence.kind,
        "product": {"id": licence.product_id, "slug": slug},
        "expires_at": iso_time(licence.expires_at),
        "permissions": {
            "download": licence.can_download,
            "commercial_use": licence.commercial_use,
            "redistribution": licence.redistribution,
            "modification": licence.modification,
        },
        "activations": {
            "used": used,
            "limit": licence.max_activations,
        },
    }


def iso_time(value: datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value is not None else None


# --- the buyer's library ---------------------------------------------------------------------


def get_own_licence(user: User, licence_id: int) -> Licence:
    """A licence ``user`` holds; NotFound for any other (never reveals that it exists)."""
    licence = db.session.get(Licence, licence_id)
    if licence is None or licence.user_id != user.id:
        raise NotFound("We could not find that licence in your library.")
    return licence


@dataclass(frozen=True)
class LibraryEntry:
    licence: Licence
    state: str  # Licence.state
    file: Any  # what files_for answered: the current version's file, or None

    @property
    def product(self) -> Product:
        return self.licence.product

    @property
    def changelog(self) -> str:
        """The current version's changelog, when the file supplier gives one."""
        return getattr(self.file, "changelog", "") or ""

    @property
    def can_download(self) -> bool:
        licence = self.licence
        return (
            self.state == "active"
            and licence.can_download
            and self.file is not None
            and (licence.max_downloads is None or licence.download_count < licence.max_downloads)
        )


def library_for(
    user: User, files_for: Callable[[list[Product]], Mapping[int, Any]]
) -> list[LibraryEntry]:
    """Every licence ``user`` holds, newest first, with its state and its product's file from
    ``files_for(products)`` (app.downloads.services.downloadable_files: one query for the
    page, the sizes recorded on the version rows)."""
    now = utcnow()
    licences = list(
        db.session.scalars(
            select(Licence)
            .where(Licence.user_id == user.id)
            .options(joinedload(Licence.product))
            .order_by(Licence.created_at.desc(), Licence.id.desc())
        )
    )
    files = files_for([licence.product for licence in licences])
    return [
        LibraryEntry(licence, licence.state(now), files.get(licence.product_id))
        for licence in licences
    ]


def free_activation(user: User, licence_id: int, activation_id: int) -> LicenceActivation:
    """The buyer frees one of their licence's activations.

    Raises NotFound for another user's licence or an activation of another licence, and
    ActivationNotFound when that activation is already free.
    """
    licence = get_own_licence(user, licence_id)
    activation = next((a for a in licence.activations if a.id == activation_id), None)
    if activation is None:
        raise NotFound("That licence has no such activation.")
    if activation.deactivated_at is not None:
        raise ActivationNotFound("That activation is already free.")
    activation.deactivated_at = utcnow()
    return activation


# --- the vendor's keys -----------------------------------------------------------------------


def vendor_licences(user: User, q: str = "", page: int = 1) -> Page:
    """One page of the keys issued for ``user``'s store's products, newest first; ``q``
    matches part of a key, the buyer's email or the product's title. Raises NotAVendor."""
    vendor = require_vendor(user)
    query = (
        select(Licence)
        .join(Product, Licence.product_id == Product.id)
        .join(User, Licence.user_id == User.id)
        .where(Product.vendor_id == vendor.id)
        .options(joinedload(Licence.product), joinedload(Licence.user))
        .order_by(Licence.created_at.desc(), Licence.id.desc())
    )
    q = q.strip()[:100]
    if q:
        pattern = contains_pattern(q, lower=False)
        # A whole key as typed (any case, spaces, no dashes) is found by its stored form.
        key_pattern = contains_pattern(
            normalise_key(q) if is_well_formed(q) else q.upper(), lower=False
        )
        query = query.where(
            or_(
                Licence.key.like(key_pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
                Product.title.ilike(pattern, escape="\\"),
            )
        )
    return paginate(query, page, VENDOR_PAGE_SIZE)


def get_vendor_licence(user: User, licence_id: int) -> Licence:
    """A licence for one of ``user``'s store's products; NotFound for any other."""
    vendor = require_vendor(user)
    licence = db.session.get(Licence, licence_id)
    if licence is None or licence.product.vendor_id != vendor.id:
        raise NotFound("We could not find that licence among your store's keys.")
    return licence


def set_licence_disabled(user: User, licence_id: int, disabled: bool, reason: str) -> Licence:
    """The vendor disables (or enables again) a key issued for one of their products.

    ``reason`` (required, kept on the licence) goes with the outbox event license.disabled
    or license.enabled. Raises NotAVendor, NotFound, LicenceStatusUnchanged (already in that
    state) and Conflict (a revoked licence stays revoked).
    """
    licence = get_vendor_licence(user, licence_id)
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise DomainError("Say why: the reason is kept with the licence.")
    if licence.status == LicenceStatus.REVOKED:
        raise Conflict("That licence was revoked (refunded or ended): it cannot change.")
    target = LicenceStatus.DISABLED if disabled else LicenceStatus.ACTIVE
    if licence.status == target:
        raise LicenceStatusUnchanged()
    licence.status = target.value
    licence.status_reason = reason
    record_event(
        "license.disabled" if disabled else "license.enabled",
        licence_id=licence.id,
        product_id=licence.product_id,
        buyer_id=licence.user_id,
        vendor_id=licence.product.vendor_id,
        actor_id=user.id,
        reason=reason,
    )
    return licence
