"""Vendor onboarding: apply to sell, admin approval or decline, the verified badge."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.permissions import Permission, Role, refusal
from app.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.notifications.services import Email, notify, site_path
from app.outbox.services import record_event
from app.timeutil import utcnow
from app.vendors.models import VendorProfile, VendorStatus

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,58}[a-z0-9])$")
# Paths a storefront slug must not shadow in links and sitemaps.
RESERVED_SLUGS = frozenset({"admin", "api", "new", "apply", "search", "static", "autopilot"})


class ApplicationError(DomainError):
    status = 422
    message = "That application could not be saved."


def check_slug(slug: str, vendor_id: int | None = None) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug) or "--" in slug:
        raise ApplicationError(
            "Use 3-60 lowercase letters, digits and single hyphens for the store address."
        )
    if slug in RESERVED_SLUGS:
        raise ApplicationError("That store address is reserved. Choose another.")
    taken = db.session.scalar(select(VendorProfile.id).where(VendorProfile.slug == slug))
    if taken is not None and taken != vendor_id:
        raise ApplicationError("That store address is taken. Choose another.")
    return slug


def application_of(user: User) -> VendorProfile | None:
    return db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == user.id))


def apply_to_sell(
    user: User, store_name: str, slug: str, bio: str, support_email: str, country: str
) -> VendorProfile:
    """Create (or, after a decline, resubmit) ``user``'s application to sell.

    Raises PermissionDenied (unverified, an admin, or already a vendor), Conflict (already
    applied), ApplicationError (slug rules).
    """
    if not user.can(Permission.APPLY_TO_SELL):
        raise PermissionDenied(refusal(user, Permission.APPLY_TO_SELL))
    profile = application_of(user)
    if profile is not None and profile.status != VendorStatus.DECLINED:
        raise Conflict("You have already applied to sell.")
    slug = check_slug(slug, profile.id if profile else None)
    if profile is None:
        profile = VendorProfile(user_id=user.id)
        db.session.add(profile)
    profile.store_name = store_name.strip()
    profile.slug = slug
    profile.bio = bio.strip()
    profile.support_email = support_email.strip().lower()
    profile.country = country.upper()
    profile.status = VendorStatus.PENDING
    profile.decline_reason = ""
    db.session.flush()
    record_event("vendor.applied", vendor_id=profile.id, user_id=user.id)
    return profile


def _decide(admin: User, vendor_id: int) -> VendorProfile:
    if not admin.is_admin:
        raise PermissionDenied()
    profile = db.session.get(VendorProfile, vendor_id)
    if profile is None:
        raise NotFound()
    if profile.status != VendorStatus.PENDING:
        raise Conflict("That application was already decided.")
    profile.reviewed_by_id = admin.id
    profile.reviewed_at = utcnow()
    return profile


def approve_vendor(admin: User, vendor_id: int) -> VendorProfile:
    """Approve an application: the user becomes a vendor. Raises Conflict if decided."""
    profile = _decide(admin, vendor_id)
    profile.status = VendorStatus.APPROVED
    if profile.user.role == Role.CUSTOMER:
        profile.user.role = Role.VENDOR.value
    record_event("vendor.approved", vendor_id=profile.id, user_id=profile.user_id)
    return profile


def decline_vendor(admin: User, vendor_id: int, reason: str) -> VendorProfile:
    """Decline an application with a reason the applicant sees; they may apply again."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why, so the applicant can fix it.")
    profile = _decide(admin, vendor_id)
    profile.status = VendorStatus.DECLINED
    profile.decline_reason = reason[:2000]
    record_event("vendor.declined", vendor_id=profile.id, user_id=profile.user_id)
    return profile


def set_verified(admin: User, vendor_id: int, verified: bool) -> VendorProfile:
    if not admin.is_admin:
        raise PermissionDenied()
    profile = db.session.get(VendorProfile, vendor_id)
    if profile is None or profile.status != VendorStatus.APPROVED:
        raise NotFound()
    profile.is_verified = verified
    return profile


def public_vendor(slug: str) -> VendorProfile:
    profile = db.session.scalar(
        select(VendorProfile).where(
            VendorProfile.slug == slug, VendorProfile.status == VendorStatus.APPROVED
        )
    )
    if profile is None:
        raise NotFound()
    return profile


def applications(status: str | None = None) -> list[VendorProfile]:
    query = select(VendorProfile).order_by(VendorProfile.created_at, VendorProfile.id)
    if status:
        query = query.where(VendorProfile.status == status)
    return list(db.session.scalars(query))


def send_decision_email(vendor_id: int, event_name: str, event_id: str | None = None) -> None:
    """Notify an applicant of the decision on their store, in the app and by email (job
    handler for vendor.* events; essential mail, idempotent per ``event_id``)."""
    profile = db.session.get(VendorProfile, vendor_id)
    if profile is None:
        return
    approved = event_name == "vendor.approved"
    subject = "Your store is approved" if approved else "About your application to sell"
    notify(
        profile.user,
        "vendor_decision",
        subject,
        "" if approved else profile.decline_reason,
        site_path("catalog.dashboard_GET" if approved else "vendors.apply_GET"),
        event_id=event_id,
        email=Email(
            subject=subject,
            template="vendor_decision",
            context={"profile": profile, "approved": approved},
        ),
    )
