"""Admin services: the audit log, run-time settings with their history, users (roles,
suspension, bans), products (listing decisions, featuring), background jobs, and the audited
wrappers of the existing admin actions. Each takes the acting admin and the request's address
explicitly and writes its audit row in the caller's transaction."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Select, asc, desc, func, or_, select

from app.accounts.models import User
from app.accounts.permissions import Role
from app.admin.models import AppSetting, AppSettingChange, AuditEntry
from app.assets.models import ProductVersion, VersionStatus
from app.catalog import review
from app.catalog.listeners import mark_catalog_changed
from app.catalog.models import Product, ProductStatus
from app.commerce.models import Order, OrderStatus
from app.config import Config
from app.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.forms import page_number
from app.pagination import Page, contains_pattern, paginate
from app.queue import QUEUES, get_queue, redis_connection
from app.redis_guard import guarded
from app.timeutil import utcnow
from app.vendors.models import Payout, PayoutMethod, PayoutStatus, VendorProfile, VendorStatus

log = logging.getLogger(__name__)

ADMIN_PAGE_SIZE = 25


class ReasonRequired(DomainError):
    status = 422
    message = "Give a reason: it is kept in the audit log."


class InvalidSetting(DomainError):
    status = 422


def _require_admin(actor: User) -> None:
    if not getattr(actor, "is_admin", False) or not actor.is_active:
        raise PermissionDenied()


def _reason(reason: str | None, required: bool) -> str:
    reason = (reason or "").strip()[:2000]
    if required and not reason:
        raise ReasonRequired()
    return reason


# --- the audit log ---------------------------------------------------------------------------


def record_audit(
    actor: User | None,
    action: str,
    target_type: str,
    target_id: Any = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    ip: str = "",
) -> AuditEntry:
    """Append one row to the audit log in the caller's transaction (it commits with the
    change it describes, or not at all)."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64],
        before=before,
        after=after,
        reason=reason or "",
        ip=(ip or "")[:45],
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class ListArgs:
    """A list page's query string: search text, one filter, sort key and direction, page."""

    q: str = ""
    filter: str = ""
    sort: str = ""
    descending: bool = True
    page: int = 1


def list_args(query: Mapping[str, str], default_filter: str = "") -> ListArgs:
    """A list page's arguments read from its query string (``q``, ``filter``, ``sort``,
    ``dir``, ``page``), bounded; ``default_filter`` applies when no ``filter`` is given at all
    (an empty one means every row)."""
    return ListArgs(
        q=(query.get("q") or "").strip()[:100],
        filter=(query.get("filter", default_filter) or "").strip()[:32],
        sort=(query.get("sort") or "").strip()[:32],
        descending=query.get("dir", "desc") != "asc",
        page=page_number(query),
    )


def narrowed(
    query: Select, args: ListArgs, searched: Sequence[Any], filters: Mapping[str, Any]
) -> Select:
    """``query`` kept to rows where one of the ``searched`` columns contains ``args.q`` (case
    left aside) and, when ``args.filter`` names one of ``filters``, its condition holds."""
    if args.q:
        pattern = contains_pattern(args.q)
        query = query.where(or_(*(func.lower(c).like(pattern, escape="\\") for c in searched)))
    if args.filter in filters:
        query = query.where(filters[args.filter])
    return query


def sort_query(query: Select, columns: dict[str, Any], args: ListArgs, default: str) -> Select:
    column = columns.get(args.sort) or columns[default]
    return query.order_by(desc(column) if args.descending else asc(column), desc(columns["id"]))


AUDIT_SORTS = {"created": AuditEntry.created_at, "action": AuditEntry.action, "id": AuditEntry.id}


def audit_log(args: ListArgs) -> Page:
    """The audit log, newest first unless sorted otherwise; ``q`` searches actor, action,
    target and reason, ``filter`` is an action prefix (``user.``, ``product.``...)."""
    query = select(AuditEntry)
    if args.q:
        pattern = contains_pattern(args.q)
        query = query.where(
            or_(
                func.lower(AuditEntry.actor_email).like(pattern, escape="\\"),
                func.lower(AuditEntry.action).like(pattern, escape="\\"),
                func.lower(AuditEntry.target_type + ":" + AuditEntry.target_id).like(
                    pattern, escape="\\"
                ),
                func.lower(AuditEntry.reason).like(pattern, escape="\\"),
            )
        )
    if args.filter:
        query = query.where(AuditEntry.action.startswith(args.filter, autoescape=True))
    return paginate(sort_query(query, AUDIT_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE)


def audit_actions() -> list[str]:
    """The action families in the log, for the filter menu."""
    actions = db.session.scalars(select(AuditEntry.action).distinct())
    return sorted({action.split(".", 1)[0] + "." for action in actions})


# --- run-time settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    help: str
    default: int
    minimum: int
    maximum: int
    money: bool = False  # changes what vendors are paid: asks for a reason and confirmation


SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "default_commission_bps",
            "Default commission",
            "The platform's share of a sale, in basis points (1500 = 15%), unless a vendor "
            "or category has its own.",
            1500,
            0,
            10_000,
            money=True,
        ),
        SettingSpec(
            "payout_hold_days",
            "Payout hold period",
            "Days a sale's money is held (for refunds) before it can be paid out.",
            14,
            0,
            365,
            money=True,
        ),
        SettingSpec(
            "minimum_payout_cents",
            "Minimum payout",
            "The smallest balance paid out, in minor units (2500 = 25.00).",
            2500,
            0,
            10_000_000,
            money=True,
        ),
        SettingSpec(
            "featured_limit",
            "Featured products on the home page",
            "How many featured products the home page shows at most.",
            8,
            0,
            48,
        ),
        SettingSpec(
            "review_min_account_age_days",
            "Review rule: minimum account age",
            "Reviews from accounts younger than this many days wait for moderation.",
            3,
            0,
            365,
        ),
        SettingSpec(
            "review_max_links",
            "Review rule: links allowed",
            "Reviews with more links than this wait for moderation.",
            0,
            0,
            20,
        ),
        SettingSpec(
            "review_burst_per_hour",
            "Review rule: reviews per hour",
            "More reviews than this from one account in an hour wait for moderation.",
            5,
            1,
            100,
        ),
    )
}


# Settings whose default is the deployment's environment (app/config.py), not a constant.
_FROM_CONFIG = {
    "default_commission_bps": "platform_commission_bps",
    "payout_hold_days": "payout_hold_days",
    "minimum_payout_cents": "payout_minimum_cents",
}


def setting_default(key: str) -> int:
    """A setting's default: the app's SETTING_DEFAULTS config (tests, deployments that start
    elsewhere), else the environment's value (PLATFORM_COMMISSION_BPS, PAYOUT_HOLD_DAYS,
    PAYOUT_MINIMUM_CENTS), else the built-in one."""
    spec = SETTINGS[key]
    overrides = current_app.config.get("SETTING_DEFAULTS", {})
    if key in overrides:
        return int(overrides[key])
    config = current_app.config.get("APP_CONFIG")
    if key in _FROM_CONFIG and config is not None:
        return int(getattr(config, _FROM_CONFIG[key]))
    return spec.default


def payout_config(config: Config) -> Config:
    """``config`` with the payout hold and minimum admins set at run time (the payouts job,
    the command and the vendor's balance page read these)."""
    return dataclasses.replace(
        config,
        payout_hold_days=get_setting("payout_hold_days"),
        payout_minimum_cents=get_setting("minimum_payout_cents"),
    )


def get_setting(key: str) -> int:
    """The one way to read a run-time setting: the admin's value, else its default.
    Raises KeyError for a setting that does not exist (a bug, not user input)."""
    if key not in SETTINGS:
        raise KeyError(key)
    row = db.session.get(AppSetting, key)
    return int(row.value) if row is not None else setting_default(key)


def all_settings() -> list[tuple[SettingSpec, int, AppSetting | None]]:
    rows = {row.key: row for row in db.session.scalars(select(AppSetting))}
    return [
        (spec, int(rows[key].value) if key in rows else setting_default(key), rows.get(key))
        for key, spec in SETTINGS.items()
    ]


def setting_history(key: str | None = None, limit: int = 50) -> list[AppSettingChange]:
    query = select(AppSettingChange).order_by(
        AppSettingChange.created_at.desc(), AppSettingChange.id.desc()
    )
    if key:
        query = query.where(AppSettingChange.key == key)
    return list(db.session.scalars(query.limit(limit)))


def change_setting(actor: User, key: str, raw: str, reason: str, ip: str = "") -> AppSettingChange:
    """Set ``key`` to ``raw`` (whole number within the setting's range), keeping the change in
    the history and the audit log. Raises PermissionDenied, NotFound, InvalidSetting,
    ReasonRequired."""
    _require_admin(actor)
    spec = SETTINGS.get(key)
    if spec is None:
        raise NotFound("There is no such setting.")
    text = (raw or "").strip()
    if not text.lstrip("-").isdigit() or len(text) > 12:
        raise InvalidSetting(f"{spec.label}: enter a whole number.")
    value = int(text)
    if not spec.minimum <= value <= spec.maximum:
        raise InvalidSetting(f"{spec.label}: between {spec.minimum} and {spec.maximum}.")
    reason = _reason(reason, required=True)
    before = get_setting(key)
    row = db.session.get(AppSetting, key)
    if row is None:
        row = AppSetting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by_id = actor.id
    change = AppSettingChange(key=key, before=before, after=value, actor_id=actor.id, reason=reason)
    db.session.add(change)
    if key == "featured_limit":
        mark_catalog_changed(db.session())  # the cached home page shows featured products
    record_audit(
        actor,
        "setting.changed",
        "setting",
        key,
        before={"value": before},
        after={"value": value},
        reason=reason,
        ip=ip,
    )
    return change


# --- users -----------------------------------------------------------------------------------

USER_SORTS = {
    "created": User.created_at,
    "email": User.email,
    "last_login": User.last_login_at,
    "id": User.id,
}
USER_FILTERS = {
    "customer": User.role == Role.CUSTOMER.value,
    "vendor": User.role == Role.VENDOR.value,
    "admin": User.role == Role.ADMIN.value,
    "active": User.disabled_at.is_(None),
    "suspended": User.disabled_kind == "suspended",
    "banned": User.disabled_kind == "banned",
    "unverified": User.email_verified_at.is_(None),
}


def list_users(args: ListArgs) -> Page:
    query = select(User)
    query = narrowed(
        query, args, [User.email, User.first_name + " " + User.last_name], USER_FILTERS
    )
    return paginate(sort_query(query, USER_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return user


def _user_state(user: User) -> dict[str, Any]:
    return {
        "role": user.role,
        "disabled": user.disabled_kind if user.disabled_at is not None else None,
        "reason": user.disabled_reason,
    }


def _target_user(actor: User, user_id: int) -> User:
    _require_admin(actor)
    user = get_user(user_id)
    if user.id == actor.id:
        raise Conflict("You cannot change your own account from the admin panel.")
    return user


def _store_of(user: User) -> VendorProfile | None:
    return db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == user.id))


ROLE_ACTIONS = ("grant_vendor", "revoke_vendor", "grant_admin", "revoke_admin")


def change_role(actor: User, user_id: int, action: str, reason: str, ip: str = "") -> User:
    """Grant or revoke the vendor or admin role. Granting vendor needs the user's store
    application; revoking vendor takes their live listings down. Raises PermissionDenied,
    NotFound, Conflict."""
    user = _target_user(actor, user_id)
    before = _user_state(user)
    store = _store_of(user)
    if action == "grant_vendor":
        if user.role != Role.CUSTOMER:
            raise Conflict("Only a customer account can become a vendor.")
        if store is None:
            raise Conflict("This user has no store application: they apply to sell first.")
        store.status = VendorStatus.APPROVED.value
        store.reviewed_by_id, store.reviewed_at = actor.id, utcnow()
        user.role = Role.VENDOR.value
    elif action == "revoke_vendor":
        if user.role != Role.VENDOR:
            raise Conflict("This account is not a vendor.")
        user.role = Role.CUSTOMER.value
        _take_listings_down(actor, user, "Selling rights revoked.")
    elif action == "grant_admin":
        if user.role == Role.ADMIN:
            raise Conflict("This account is an admin already.")
        user.role = Role.ADMIN.value
    elif action == "revoke_admin":
        if user.role != Role.ADMIN:
            raise Conflict("This account is not an admin.")
        approved = store is not None and store.status == VendorStatus.APPROVED
        user.role = Role.VENDOR.value if approved else Role.CUSTOMER.value
    else:
        raise NotFound()
    if action.startswith("revoke_"):
        # Roles are read on every request; ending the sessions also drops any page or form
        # the user still has open with powers they no longer hold.
        user.rotate_session_token()
    record_audit(
        actor,
        f"user.{action}",
        "user",
        user.id,
        before=before,
        after=_user_state(user),
        reason=_reason(reason, required=False),
        ip=ip,
    )
    return user


def _take_listings_down(actor: User, user: User, note: str) -> int:
    """Suspend every live listing of ``user``'s store (each reindexed and recorded)."""
    store = _store_of(user)
    if store is None:
        return 0
    products = db.session.scalars(
        select(Product).where(
            Product.vendor_id == store.id, Product.status == ProductStatus.APPROVED
        )
    )
    count = 0
    for product in products:
        review.transition(actor, product, "suspend", [], note)
        count += 1
    return count


DISABLE_KINDS = ("suspended", "banned")


def disable_user(actor: User, user_id: int, kind: str, reason: str, ip: str = "") -> int:
    """Suspend or ban ``user_id`` with a reason: every session ends at once (the session token
    rotates and the loader refuses a disabled account), and a banned vendor's live listings
    come down. Returns how many listings were suspended. Raises PermissionDenied, NotFound,
    Conflict, ReasonRequired."""
    if kind not in DISABLE_KINDS:
        raise NotFound()
    reason = _reason(reason, required=True)
    user = _target_user(actor, user_id)
    before = _user_state(user)
    if user.disabled_kind == kind:
        raise Conflict(f"This account is {kind} already.")
    user.disabled_at = utcnow()
    user.disabled_kind = kind
    user.disabled_reason = reason
    user.rotate_session_token()
    removed = 0
    if kind == "banned":
        removed = _take_listings_down(actor, user, f"The store was banned: {reason}")
    record_audit(
        actor,
        f"user.{'ban' if kind == 'banned' else 'suspend'}",
        "user",
        user.id,
        before=before,
        after={**_user_state(user), "listings_suspended": removed},
        reason=reason,
        ip=ip,
    )
    return removed


def reactivate_user(actor: User, user_id: int, reason: str, ip: str = "") -> User:
    """Lift a suspension or ban (listings taken down stay suspended until reinstated one by
    one). Raises PermissionDenied, NotFound, Conflict, ReasonRequired."""
    reason = _reason(reason, required=True)
    user = _target_user(actor, user_id)
    if user.disabled_at is None:
        raise Conflict("This account is active.")
    before = _user_state(user)
    user.disabled_at = None
    user.disabled_kind = None
    user.disabled_reason = None
    record_audit(
        actor,
        "user.reactivate",
        "user",
        user.id,
        before=before,
        after=_user_state(user),
        reason=reason,
        ip=ip,
    )
    return user


# --- products --------------------------------------------------------------------------------

PRODUCT_SORTS = {
    "updated": Product.updated_at,
    "created": Product.created_at,
    "title": Product.title,
    "popularity": Product.popularity,
    "id": Product.id,
}
PRODUCT_FILTERS = {status.value: Product.status == status.value for status in ProductStatus}
PRODUCT_FILTERS["featured"] = Product.is_featured.is_(True)


def list_products(args: ListArgs) -> Page:
    query = select(Product).join(VendorProfile, VendorProfile.id == Product.vendor_id)
    query = narrowed(
        query, args, [Product.title, Product.slug, VendorProfile.store_name], PRODUCT_FILTERS
    )
    return paginate(sort_query(query, PRODUCT_SORTS, args, "updated"), args.page, ADMIN_PAGE_SIZE)


def set_featured(actor: User, product_id: int, featured: bool, ip: str = "") -> Product:
    """Feature a live product on the home page, or stop. Raises PermissionDenied, NotFound,
    Conflict (featuring a product that is not live)."""
    _require_admin(actor)
    product = review.get_product_for_review(product_id)
    if featured and product.status != ProductStatus.APPROVED:
        raise Conflict("Only a live product can be featured.")
    before = product.is_featured
    product.is_featured = featured
    record_audit(
        actor,
        "product.feature" if featured else "product.unfeature",
        "product",
        product.id,
        before={"featured": before},
        after={"featured": featured},
        ip=ip,
    )
    return product


def decide_listing(
    actor: User,
    product_id: int,
    action: str,
    reason_codes: list[str],
    note: str,
    ip: str = "",
) -> Product:
    """A moderator's decision on a listing (review.transition), audited."""
    product = review.get_product_for_review(product_id)
    record = review.transition(actor, product, action, reason_codes, note)
    record_audit(
        actor,
        f"product.{action}",
        "product",
        product.id,
        before={"status": record.from_status},
        after={"status": record.to_status, "reasons": list(reason_codes)},
        reason=note,
        ip=ip,
    )
    return product


# --- vendors: the list, per-vendor commission, payout holds ----------------------------------

VENDOR_SORTS = {
    "created": VendorProfile.created_at,
    "name": VendorProfile.store_name,
    "commission": VendorProfile.commission_bps,
    "id": VendorProfile.id,
}
VENDOR_FILTERS = {
    **{status.value: VendorProfile.status == status.value for status in VendorStatus},
    "verified": VendorProfile.is_verified.is_(True),
    "own_commission": VendorProfile.commission_bps.is_not(None),
    "payouts_held": VendorProfile.payouts_held.is_(True),
}


class InvalidCommission(DomainError):
    status = 422
    message = "Commission: a whole number of basis points from 0 to 10000 (1500 = 15%)."


def list_vendors(args: ListArgs) -> Page:
    """Every store (applications included); ``q`` searches the store's name and address, its
    owner's email and its support email; ``filter`` is a status or a VENDOR_FILTERS key."""
    query = select(VendorProfile).join(User, User.id == VendorProfile.user_id)
    query = narrowed(
        query,
        args,
        [VendorProfile.store_name, VendorProfile.slug, VendorProfile.support_email, User.email],
        VENDOR_FILTERS,
    )
    return paginate(sort_query(query, VENDOR_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE)


def get_vendor(vendor_id: int) -> VendorProfile:
    profile = db.session.get(VendorProfile, vendor_id)
    if profile is None:
        raise NotFound("There is no such store.")
    return profile


def _vendor(actor: User, vendor_id: int) -> VendorProfile:
    _require_admin(actor)
    return get_vendor(vendor_id)


def set_commission(
    actor: User, vendor_id: int, raw: str, reason: str, ip: str = ""
) -> VendorProfile:
    """Give the store its own commission in basis points, or clear it (``raw`` empty: the
    category's or the platform default applies again). Orders already placed keep the rate
    they were sold at. Raises PermissionDenied, NotFound, InvalidCommission, ReasonRequired."""
    reason = _reason(reason, required=True)
    profile = _vendor(actor, vendor_id)
    text = (raw or "").strip()
    if text and (not text.isascii() or not text.isdigit() or len(text) > 5):
        raise InvalidCommission()
    value = int(text) if text else None
    if value is not None and value > 10_000:
        raise InvalidCommission()
    before = profile.commission_bps
    profile.commission_bps = value
    record_audit(
        actor,
        "vendor.commission_set" if value is not None else "vendor.commission_cleared",
        "vendor",
        profile.id,
        before={"commission_bps": before},
        after={"commission_bps": value},
        reason=reason,
        ip=ip,
    )
    return profile


def hold_payouts(
    actor: User, vendor_id: int, held: bool, reason: str, ip: str = ""
) -> VendorProfile:
    """Hold the store's payouts (the payouts job skips it; its balance keeps growing) or
    release them. Raises PermissionDenied, NotFound, Conflict, ReasonRequired."""
    reason = _reason(reason, required=True)
    profile = _vendor(actor, vendor_id)
    if profile.payouts_held == held:
        raise Conflict("Payouts are held already." if held else "Payouts are not held.")
    before = {"held": profile.payouts_held, "reason": profile.payouts_held_reason}
    profile.payouts_held = held
    profile.payouts_held_reason = reason if held else ""
    profile.payouts_held_at = utcnow() if held else None
    record_audit(
        actor,
        "vendor.payouts_hold" if held else "vendor.payouts_release",
        "vendor",
        profile.id,
        before=before,
        after={"held": held, "reason": profile.payouts_held_reason},
        reason=reason,
        ip=ip,
    )
    return profile


# --- the other domains' admin lists: orders, payouts, uploaded versions ----------------------

ORDER_SORTS = {
    "created": Order.created_at,
    "total": Order.total_cents,
    "refunded": Order.refunded_cents,
    "id": Order.id,
}
ORDER_FILTERS = {
    status.value: Order.status == status.value
    for status in OrderStatus
    if status != OrderStatus.PENDING
}
ORDER_FILTERS["sandbox"] = Order.provider == "sandbox"


def _orders(args: ListArgs) -> Select:
    query = (
        select(Order)
        .join(User, User.id == Order.buyer_id)
        .where(Order.status != OrderStatus.PENDING.value)  # checkouts never paid
    )
    if args.q:
        pattern = contains_pattern(args.q)
        query = query.where(
            or_(
                func.lower(Order.number).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(func.coalesce(Order.provider_payment_ref, "")).like(
                    pattern, escape="\\"
                ),
            )
        )
    if args.filter in ORDER_FILTERS:
        query = query.where(ORDER_FILTERS[args.filter])
    return query


def list_orders(args: ListArgs) -> Page:
    """Orders (not pending checkouts); ``q`` searches the number, the buyer's email and the
    provider's payment reference; ``filter`` is a status or "sandbox"."""
    return paginate(
        sort_query(_orders(args), ORDER_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE
    )


@dataclass(frozen=True)
class OrderTotals:
    currency: str
    orders: int
    total_cents: int
    refunded_cents: int

    @property
    def kept_cents(self) -> int:
        return self.total_cents - self.refunded_cents


def order_totals(args: ListArgs) -> list[OrderTotals]:
    """The listed orders' count, totals and refunds per currency (one GROUP BY)."""
    listed = _orders(args).subquery()
    rows = db.session.execute(
        select(
            listed.c.currency,
            func.count(),
            func.coalesce(func.sum(listed.c.total_cents), 0),
            func.coalesce(func.sum(listed.c.refunded_cents), 0),
        )
        .group_by(listed.c.currency)
        .order_by(listed.c.currency)
    ).all()
    return [OrderTotals(c, int(n), int(t), int(r)) for c, n, t, r in rows]


PAYOUT_SORTS = {"created": Payout.created_at, "amount": Payout.amount_cents, "id": Payout.id}
PAYOUT_FILTERS = {
    **{status.value: Payout.status == status.value for status in PayoutStatus},
    **{f"by_{method.value}": Payout.method == method.value for method in PayoutMethod},
}


def list_payouts(args: ListArgs) -> Page:
    """Payouts; ``q`` searches the store's name and the transfer's reference, or is a payout's
    ledger transaction (the ledger page links so); ``filter`` is a status or a method
    (``by_bank``, ``by_stripe``)."""
    query = select(Payout).join(VendorProfile, VendorProfile.id == Payout.vendor_id)
    if args.q:
        pattern = contains_pattern(args.q)
        query = query.where(
            or_(
                func.lower(VendorProfile.store_name).like(pattern, escape="\\"),
                func.lower(func.coalesce(Payout.provider_ref, "")).like(pattern, escape="\\"),
                Payout.txn == args.q,
            )
        )
    if args.filter in PAYOUT_FILTERS:
        query = query.where(PAYOUT_FILTERS[args.filter])
    return paginate(sort_query(query, PAYOUT_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE)


VERSION_SORTS = {
    "created": ProductVersion.created_at,
    "scanned": ProductVersion.scanned_at,
    "size": ProductVersion.size,
    "id": ProductVersion.id,
}
VERSION_FILTERS = {status.value: ProductVersion.status == status.value for status in VersionStatus}


def list_versions(args: ListArgs) -> Page:
    """Uploaded versions and their scans; ``q`` searches the product's title, the file's name
    and its SHA-256; ``filter`` is a version status."""
    query = select(ProductVersion).join(Product, Product.id == ProductVersion.product_id)
    query = narrowed(
        query,
        args,
        [Product.title, ProductVersion.filename, ProductVersion.sha256],
        VERSION_FILTERS,
    )
    return paginate(sort_query(query, VERSION_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE)


# --- audited wrappers of the other admin actions ---------------------------------------------


def audited(
    actor: User,
    action: str,
    target_type: str,
    target_id: Callable[[Any], Any],
    run: Callable[[], Any],
    *,
    reason: str = "",
    ip: str = "",
    after: Callable[[Any], dict[str, Any]] | None = None,
) -> Any:
    """Run one admin service and append its audit row (both in the caller's transaction)."""
    _require_admin(actor)
    result = run()
    record_audit(
        actor,
        action,
        target_type,
        target_id(result),
        after=after(result) if after else None,
        reason=reason,
        ip=ip,
    )
    return result


# --- background jobs (RQ's public API) -------------------------------------------------------


@dataclass(frozen=True)
class QueueCounts:
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int
    finished: int


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    func_name: str
    args: str
    error: str
    ended_at: datetime | None


class JobsUnavailable(DomainError):
    status = 503
    message = "Background jobs run in this process (no REDIS_URL): there are no queues to show."


def _connection():
    connection = redis_connection()
    if connection is None:
        raise JobsUnavailable()
    return connection


def queue_counts() -> list[QueueCounts]:
    """Every queue's job counts by state. Raises JobsUnavailable, RedisError."""
    connection = _connection()
    counts = []
    for name in QUEUES:
        queue = get_queue(name, connection)
        counts.append(
            guarded(
                "queue",
                lambda q=queue: QueueCounts(
                    q.name,
                    q.count,
                    q.started_job_registry.count,
                    q.scheduled_job_registry.count,
                    q.deferred_job_registry.count,
                    q.failed_job_registry.count,
                    q.finished_job_registry.count,
                ),
            )
        )
    return counts


def failed_jobs(queue_name: str = "", limit: int = 100) -> list[FailedJob]:
    """Jobs in the failed-job registries (one queue, or all), newest first."""
    connection = _connection()
    found: list[FailedJob] = []
    for name in QUEUES:
        if queue_name and name != queue_name:
            continue
        registry = get_queue(name, connection).failed_job_registry
        ids = guarded("queue", lambda r=registry: r.get_job_ids(0, limit - 1))
        for job in guarded("queue", lambda i=ids: Job.fetch_many(i, connection=connection)):
            if job is None:
                continue
            result = guarded("queue", job.latest_result)
            lines = (result.exc_string or "").strip().splitlines() if result else []
            found.append(
                FailedJob(
                    job.id,
                    name,
                    job.func_name or "",
                    ", ".join(repr(a) for a in job.args)[:200],
                    lines[-1][:500] if lines else "",
                    job.ended_at,
                )
            )
    found.sort(key=lambda job: job.ended_at.timestamp() if job.ended_at else 0.0, reverse=True)
    return found[:limit]


def _failed_job(queue_name: str, job_id: str) -> tuple[Any, Job]:
    if queue_name not in QUEUES:
        raise NotFound("There is no such queue.")
    connection = _connection()
    registry = get_queue(queue_name, connection).failed_job_registry
    if job_id not in guarded("queue", registry.get_job_ids):
        raise NotFound("That job is not among the failed jobs.")
    try:
        job = guarded("queue", lambda: Job.fetch(job_id, connection=connection))
    except NoSuchJobError as exc:
        raise NotFound("That job is gone.") from exc
    return registry, job


def retry_job(actor: User, queue_name: str, job_id: str, ip: str = "") -> None:
    """Put a failed job back on its queue (audited). Raises NotFound, JobsUnavailable."""
    _require_admin(actor)
    registry, job = _failed_job(queue_name, job_id)
    guarded("queue", lambda: registry.requeue(job))
    record_audit(actor, "job.retry", "job", job_id, after={"queue": queue_name}, ip=ip)


def delete_job(actor: User, queue_name: str, job_id: str, reason: str, ip: str = "") -> None:
    """Delete a failed job for good (audited, with a reason). Raises NotFound,
    JobsUnavailable, ReasonRequired."""
    _require_admin(actor)
    reason = _reason(reason, required=True)
    _registry, job = _failed_job(queue_name, job_id)
    func_name = job.func_name
    guarded("queue", job.delete)
    record_audit(
        actor,
        "job.delete",
        "job",
        job_id,
        before={"queue": queue_name, "func": func_name},
        reason=reason,
        ip=ip,
    )
