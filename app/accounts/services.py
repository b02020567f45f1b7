"""Account services: plain functions taking the acting user explicitly; they never read request."""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import User
from app.accounts.permissions import Role
from app.errors import DomainError
from app.extensions import db
from app.images import store_image
from app.notifications.services import Email, external_url, notify, send_email, site_path
from app.outbox.services import record_event
from app.timeutil import utcnow

log = logging.getLogger(__name__)

PASSWORD_MIN = 8
PASSWORD_MAX = 128
VERIFY_MAX_AGE = 60 * 60 * 48
RESET_MAX_AGE = 60 * 60
AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_SIZE = 256


class InvalidToken(DomainError):
    status = 400
    message = "This link is invalid or has expired."


class WrongPassword(DomainError):
    status = 422
    message = "Your current password is not correct."


class WeakPassword(DomainError):
    status = 422


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    lowered = password.lower()
    if lowered in _common_passwords():
        return "That password is too common; choose one that is harder to guess."
    if email and lowered == email.lower():
        return "Your password must not be your email address."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-but-costs-the-same")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _set_password(user: User, password: str) -> None:
    problem = password_problem(password, user.email)
    if problem:
        raise WeakPassword(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.rotate_session_token()


def register_user(
    email: str, password: str, first_name: str = "", last_name: str = ""
) -> User | None:
    """Create a customer and record user.registered; None if the email is taken.

    A taken email gets the same work instead (the password hashed, one event: the owner is
    mailed that someone tried to sign up with it), so the answer and its timing do not tell
    whether an account exists. Raises WeakPassword.
    """
    email = normalise_email(email)
    problem = password_problem(password, email)
    if problem:
        raise WeakPassword(problem)
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        record_event("user.signup_repeated", user_id=existing.id)
        return None
    user = User(
        email=email,
        password_hash=password_hash,
        role=Role.CUSTOMER.value,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    db.session.add(user)
    db.session.flush()
    record_event("user.registered", user_id=user.id)
    return user


def create_admin(email: str, password: str) -> User:
    """Create an admin, or promote an existing user (password unchanged). Raises WeakPassword."""
    user = find_user_by_email(email)
    if user is None:
        problem = password_problem(password, email)
        if problem:
            raise WeakPassword(problem)
        user = User(email=normalise_email(email), password_hash=hash_password(password))
        db.session.add(user)
    user.role = Role.ADMIN.value
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; costs the same for unknown emails."""
    user = find_user_by_email(email) if len(email) <= 254 else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def record_login(user: User, new_device: bool = False, ip: str = "", user_agent: str = "") -> None:
    """Note a login. From a browser this account has not signed in on before (``new_device``,
    decided by the view from its cookie) it records user.new_sign_in: the owner is emailed.
    An account's very first login is not news to its owner."""
    if new_device and user.last_login_at is not None:
        record_event(
            "user.new_sign_in",
            user_id=user.id,
            ip=ip[:45],
            user_agent=user_agent[:200],
            at=utcnow().isoformat(),
        )
    user.last_login_at = utcnow()


def end_sessions(user: User) -> None:
    """Invalidate every copy of ``user``'s session cookies and remember-me cookies."""
    user.rotate_session_token()


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def make_verification_token(user: User) -> str:
    return _serializer("verify-email").dumps({"uid": user.id, "em": _fingerprint(user.email)})


def verify_email(token: str) -> tuple[User, bool]:
    """Mark the token's user verified; return (user, newly_verified). Raises InvalidToken."""
    try:
        data = _serializer("verify-email").loads(token, max_age=VERIFY_MAX_AGE)
    except SignatureExpired as exc:
        raise InvalidToken("This verification link has expired. Log in to get a new one.") from exc
    except BadSignature as exc:
        raise InvalidToken("This verification link is not valid.") from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not hmac.compare_digest(data.get("em", ""), _fingerprint(user.email)):
        raise InvalidToken("This verification link is not valid.")
    if user.is_verified:
        return user, False
    user.email_verified_at = utcnow()
    record_event("user.verified", user_id=user.id)
    return user, True


def request_verification_email(user: User) -> None:
    if not user.is_verified:
        record_event("user.verification_requested", user_id=user.id)


def make_reset_token(user: User) -> str:
    # The password hash fingerprint makes the token single-use: it dies with the old password.
    return _serializer("reset-password").dumps(
        {"uid": user.id, "ph": _fingerprint(user.password_hash)}
    )


def _user_for_reset(token: str) -> User:
    try:
        data = _serializer("reset-password").loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired as exc:
        raise InvalidToken("This reset link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise InvalidToken("This reset link is not valid.") from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if (
        user is None
        or not user.is_active
        or not hmac.compare_digest(data.get("ph", ""), _fingerprint(user.password_hash))
    ):
        raise InvalidToken("This reset link has already been used or is no longer valid.")
    return user


def check_reset_token(token: str) -> User:
    """The user a reset token belongs to. Raises InvalidToken."""
    return _user_for_reset(token)


def request_password_reset(email: str) -> None:
    """Record a reset request, one event whether or not the email has an account.

    The job mails a link to a known, active account and does nothing otherwise, so the
    request costs the same either way (``user_id`` is None for an unknown email).
    """
    user = find_user_by_email(email) if len(email) <= 254 else None
    known = user is not None and user.is_active
    record_event("password.reset_requested", user_id=user.id if known else None)


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset token and end all sessions.

    Raises InvalidToken, WeakPassword.
    """
    user = _user_for_reset(token)
    _set_password(user, new_password)
    if not user.is_verified:
        # Following a link sent to the address proves the address.
        user.email_verified_at = utcnow()
    record_event("password.changed", user_id=user.id, via="reset")
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change ``user``'s password and end their other sessions.

    Raises WrongPassword, WeakPassword.
    """
    if not check_password_hash(user.password_hash, current_password):
        raise WrongPassword()
    _set_password(user, new_password)
    record_event("password.changed", user_id=user.id, via="settings")


def update_profile(
    user: User, first_name: str, last_name: str, bio: str, avatar: bytes | None = None
) -> None:
    """Update ``user``'s profile; ``avatar`` is the raw upload. Raises InvalidImage."""
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.bio = bio.strip()
    if avatar is not None:
        user.avatar_key = store_avatar(avatar)


def store_avatar(data: bytes) -> str:
    """Validate an image by its content, square-crop and resize it, store it; return its key."""
    return store_image("avatars", data, AVATAR_MAX_BYTES, (AVATAR_SIZE, AVATAR_SIZE), crop=True)


def _user(user_id: int | None) -> User | None:
    if user_id is None:
        return None  # a request for an email without an account
    user = db.session.get(User, user_id)
    if user is None:
        log.warning("user %s is gone; no email sent", user_id)
    return user


def send_verification_email(user_id: int) -> None:
    user = _user(user_id)
    if user is None or user.is_verified:
        return
    link = external_url("accounts.verify_GET", token=make_verification_token(user))
    send_email(
        user.email,
        "Confirm your email address",
        "verify_email",
        user=user,
        link=link,
        hours=VERIFY_MAX_AGE // 3600,
    )


def send_welcome_email(user_id: int) -> None:
    user = _user(user_id)
    if user is not None:
        send_email(
            user.email,
            "Welcome to Autopilot Monster",
            "welcome",
            user=user,
            link=external_url("core.home"),
        )


def send_account_exists_email(user_id: int) -> None:
    """Tell an account's owner that someone tried to sign up with their address."""
    user = _user(user_id)
    if user is None or not user.is_active:
        return
    send_email(
        user.email,
        "You already have an account",
        "account_exists",
        user=user,
        login=external_url("accounts.login_GET"),
        reset=external_url("accounts.forgot_GET"),
    )


def send_password_reset_email(user_id: int | None) -> None:
    user = _user(user_id)
    if user is None or not user.is_active:
        return
    link = external_url("accounts.reset_GET", token=make_reset_token(user))
    send_email(
        user.email,
        "Reset your password",
        "reset_password",
        user=user,
        link=link,
        minutes=RESET_MAX_AGE // 60,
    )


def send_password_changed_email(user_id: int) -> None:
    user = _user(user_id)
    if user is not None:
        send_email(
            user.email,
            "Your password was changed",
            "password_changed",
            user=user,
            link=external_url("accounts.forgot_GET"),
        )


def send_new_sign_in_email(event_id: str, payload: dict) -> None:
    """Tell an account's owner it signed in on a new browser (security mail: always sent)."""
    user = _user(payload.get("user_id"))
    if user is None or not user.is_active:
        return
    where = ", ".join(part for part in (payload.get("ip"), payload.get("user_agent")) if part)
    notify(
        user,
        "new_sign_in",
        "New sign-in to your account",
        f"From {where or 'an unknown browser'}.",
        site_path("accounts.password_GET"),
        event_id=event_id,
        email=Email(
            subject="New sign-in to your account",
            template="new_sign_in",
            context={"where": where, "reset": external_url("accounts.forgot_GET")},
        ),
    )
