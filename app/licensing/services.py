"""Issuing and revoking licences (the licence API, library and downloads build on these)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.catalog.models import Product
from app.extensions import db
from app.licensing.keys import generate_key
from app.licensing.models import Licence, LicenceKind, LicenceStatus
from app.timeutil import utcnow

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
