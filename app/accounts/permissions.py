"""Roles and what each may do: the one place permissions are decided."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app
from flask_login import current_user


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    VENDOR = "vendor"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    BROWSE = "browse"
    BUY = "buy"
    REVIEW = "review"
    APPLY_TO_SELL = "apply_to_sell"
    SELL = "sell"
    MODERATE = "moderate"
    MANAGE_USERS = "manage_users"
    CONFIGURE = "configure"


_CUSTOMER = {Permission.BROWSE, Permission.BUY, Permission.REVIEW, Permission.APPLY_TO_SELL}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(_CUSTOMER),
    Role.VENDOR: frozenset((_CUSTOMER - {Permission.APPLY_TO_SELL}) | {Permission.SELL}),
    # Admins moderate every store, so they do not open one of their own.
    Role.ADMIN: frozenset(Permission) - {Permission.APPLY_TO_SELL},
}

# Acting on the marketplace (buying, selling) needs a verified email; browsing does not.
NEEDS_VERIFIED_EMAIL = frozenset(
    {Permission.BUY, Permission.SELL, Permission.REVIEW, Permission.APPLY_TO_SELL}
)


def has_permission(user: Any, permission: Permission) -> bool:
    """True when ``user`` (possibly anonymous) may do ``permission``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return permission is Permission.BROWSE
    if permission in NEEDS_VERIFIED_EMAIL and not user.is_verified:
        return False
    return permission in ROLE_PERMISSIONS[Role(user.role)]


def refusal(user: Any, permission: Permission) -> str | None:
    """Why a signed-in ``user`` may not do ``permission``, as a sentence for them to read;
    None when they may, or when there is nothing more to say than "not permitted"."""
    if has_permission(user, permission) or not getattr(user, "is_authenticated", False):
        return None
    if permission in NEEDS_VERIFIED_EMAIL and not user.is_verified:
        return "Verify your email address first: we sent you a link."
    if permission is Permission.APPLY_TO_SELL and user.role == Role.ADMIN:
        return (
            "Admin accounts moderate the marketplace and cannot open a store. To sell, "
            "sign up with another email address."
        )
    if permission is Permission.APPLY_TO_SELL and user.role == Role.VENDOR:
        return "You already sell on Autopilot Monster."
    return None


def permission_required(permission: Permission) -> Callable:
    """View decorator: anonymous users go to the login page, others without it get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not has_permission(current_user, permission):
                abort(403, refusal(current_user, permission))
            return view(*args, **kwargs)

        return wrapped

    return decorator
