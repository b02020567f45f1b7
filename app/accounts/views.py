"""Account pages: sign-up, verification, login/logout, password reset and change, profile."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts import services
from app.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
)
from app.accounts.services import WeakPassword, WrongPassword
from app.commerce.services import SessionCart, merge_session_cart
from app.extensions import db, limiter
from app.forms import submitted_line
from app.htmx import redirect_to, render
from app.images import InvalidImage
from app.storage import send_stored

bp = Blueprint("accounts", __name__)

INVALID = 422


def _account_key() -> str:
    """Rate-limit key for one account, whatever IP the attempts come from: the email as the
    form parses it, so spelling it with spaces, capitals or control characters (which the
    form drops) counts against the same account. Form bodies only: forms refuse JSON."""
    return "account:" + services.normalise_email(submitted_line("email"))[:254]


login_limits = [
    limiter.limit("10 per minute; 60 per hour", methods=["POST"]),
    limiter.limit("5 per minute; 20 per hour", methods=["POST"], key_func=_account_key),
]
reset_limits = [
    limiter.limit("5 per 15 minutes", methods=["POST"]),
    limiter.limit("3 per hour", methods=["POST"], key_func=_account_key),
]


def _limited(limits: list):
    def decorate(view):
        for limit in reversed(limits):
            view = limit(view)
        return view

    return decorate


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or len(target) > 2000:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
    ):
        return default
    if any(ord(ch) < 32 for ch in target) or "\\" in target:
        return default
    return target


def _end_browser_session() -> None:
    """Empty the session and delete the remember-me cookie (logout_user marks it for deletion
    in the session, so it must come after the clear)."""
    session.clear()
    logout_user()


def _form_page(template: str, form, status: int = 200, **context):
    return render(template, "account_form", status=status, form=form, **context)


# --- sign-up -------------------------------------------------------------------------------


@bp.get("/signup")
def signup_GET():
    if current_user.is_authenticated:
        return redirect_to(url_for("core.home"))
    return _form_page("accounts/signup.html", SignupForm())


@bp.post("/signup")
@limiter.limit("10 per hour", methods=["POST"])
def signup_POST():
    form = SignupForm()
    if not form.validate_on_submit():
        return _form_page("accounts/signup.html", form, INVALID)
    try:
        services.register_user(
            form.email.data,
            form.password.data,
            form.first_name.data or "",
            form.last_name.data or "",
        )
    except WeakPassword as exc:
        form.password.errors.append(exc.message)
        return _form_page("accounts/signup.html", form, INVALID)
    db.session.commit()
    # Same answer whether or not the email already had an account.
    flash(
        f"Almost there: we sent a link to {form.email.data.strip().lower()}. "
        "Open it to confirm your email, then log in.",
        "success",
    )
    return redirect_to(url_for("accounts.login_GET"))


@bp.get("/verify/<token>")
def verify_GET(token: str):
    user, newly = services.verify_email(token)
    db.session.commit()
    flash("Your email is confirmed." if newly else "Your email was already confirmed.", "success")
    if current_user.is_authenticated:
        return redirect_to(url_for("core.home"))
    return redirect_to(url_for("accounts.login_GET"))


@bp.post("/verify/resend")
@login_required
@limiter.limit("3 per hour", methods=["POST"])
def resend_POST():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.request_verification_email(current_user)
    db.session.commit()
    flash("We sent you a new confirmation link.", "success")
    return redirect_to(url_for("accounts.profile_GET"))


# --- login / logout --------------------------------------------------------------------------


@bp.get("/login")
def login_GET():
    if current_user.is_authenticated:
        return redirect_to(url_for("core.home"))
    return _form_page("accounts/login.html", LoginForm(), next=request.args.get("next", ""))


@bp.post("/login")
@_limited(login_limits)
def login_POST():
    form = LoginForm()
    next_url = request.args.get("next") or request.form.get("next") or ""
    if not form.validate_on_submit():
        return _form_page("accounts/login.html", form, INVALID, next=next_url)
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:
        form.form_errors.append("That email and password do not match an account.")
        return _form_page("accounts/login.html", form, INVALID, next=next_url)
    cart = SessionCart.from_session(session.get("cart"))  # the one thing a login keeps
    session.clear()  # a fresh session on login: nothing carried over (no fixation)
    login_user(user, remember=form.remember.data)
    seen = _seen_accounts()
    services.record_login(
        user,
        new_device=user.id not in seen,
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string,
    )
    merge_session_cart(user, cart)
    db.session.commit()
    flash(f"Welcome back, {user.display_name}.", "success")
    response = redirect_to(safe_next(next_url, url_for("core.home")))
    _remember_account(response, [user.id, *(uid for uid in seen if uid != user.id)])
    return response


# Accounts that signed in on this browser before (signed; a new one is emailed about).
SEEN_COOKIE = "am_seen"
SEEN_MAX = 5
SEEN_SECONDS = 60 * 60 * 24 * 400


def _seen_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="seen-accounts")


def _seen_accounts() -> list[int]:
    raw = request.cookies.get(SEEN_COOKIE, "")
    if not raw or len(raw) > 500:
        return []
    try:
        data = _seen_serializer().loads(raw)
    except BadSignature:
        return []
    return [uid for uid in data if isinstance(uid, int)] if isinstance(data, list) else []


def _remember_account(response, user_ids: list[int]) -> None:
    response.set_cookie(
        SEEN_COOKIE,
        _seen_serializer().dumps(user_ids[:SEEN_MAX]),
        max_age=SEEN_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


@bp.post("/logout")
def logout_POST():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        services.end_sessions(current_user)
        db.session.commit()
    _end_browser_session()
    flash("You are logged out.", "info")
    return redirect_to(url_for("core.home"))


# --- password reset --------------------------------------------------------------------------


@bp.get("/password/forgot")
def forgot_GET():
    return _form_page("accounts/forgot.html", ForgotPasswordForm())


@bp.post("/password/forgot")
@_limited(reset_limits)
def forgot_POST():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return _form_page("accounts/forgot.html", form, INVALID)
    services.request_password_reset(form.email.data)
    db.session.commit()
    flash(
        "If an account uses that email, a reset link is on its way. It works once, for an hour.",
        "info",
    )
    return redirect_to(url_for("accounts.login_GET"))


@bp.get("/password/reset/<token>")
def reset_GET(token: str):
    services.check_reset_token(token)
    return _form_page("accounts/reset.html", ResetPasswordForm(), token=token)


@bp.post("/password/reset/<token>")
@limiter.limit("10 per hour", methods=["POST"])
def reset_POST(token: str):
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        services.check_reset_token(token)
        return _form_page("accounts/reset.html", form, INVALID, token=token)
    try:
        services.reset_password(token, form.password.data)
    except WeakPassword as exc:
        form.password.errors.append(exc.message)
        return _form_page("accounts/reset.html", form, INVALID, token=token)
    db.session.commit()
    _end_browser_session()
    flash("Your password is changed and every other session has ended. Log in again.", "success")
    return redirect_to(url_for("accounts.login_GET"))


# --- account settings ------------------------------------------------------------------------


@bp.get("/account/password")
@login_required
def password_GET():
    return _form_page("accounts/password.html", ChangePasswordForm())


@bp.post("/account/password")
@login_required
@limiter.limit("10 per hour", methods=["POST"])
def password_POST():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _form_page("accounts/password.html", form, INVALID)
    try:
        services.change_password(current_user, form.current.data, form.password.data)
    except WrongPassword as exc:
        form.current.errors.append(exc.message)
        return _form_page("accounts/password.html", form, INVALID)
    except WeakPassword as exc:
        form.password.errors.append(exc.message)
        return _form_page("accounts/password.html", form, INVALID)
    db.session.commit()
    # The token rotated: this session logs in again with it, every other copy is dead.
    user = current_user._get_current_object()
    session.clear()
    login_user(user)
    flash("Your password is changed. Other sessions have been logged out.", "success")
    return redirect_to(url_for("accounts.profile_GET"))


@bp.get("/account")
@login_required
def profile_GET():
    form = ProfileForm(obj=current_user)
    return _form_page("accounts/profile.html", form, resend=ConfirmForm())


@bp.post("/account")
@login_required
def profile_POST():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _form_page("accounts/profile.html", form, INVALID, resend=ConfirmForm())
    avatar = form.avatar.data.read() if form.avatar.data else None
    try:
        services.update_profile(
            current_user,
            form.first_name.data or "",
            form.last_name.data or "",
            form.bio.data or "",
            avatar or None,
        )
    except InvalidImage as exc:
        db.session.rollback()
        form.avatar.errors = [exc.message]
        return _form_page("accounts/profile.html", form, INVALID, resend=ConfirmForm())
    db.session.commit()
    flash("Your profile is saved.", "success")
    return redirect_to(url_for("accounts.profile_GET"))


@bp.get("/media/avatars/<name>")
def avatar_GET(name: str):
    return send_stored("avatars", name, "image/png")
