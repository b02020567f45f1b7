"""Account services, tested without HTTP."""

import io

import pytest
from itsdangerous import URLSafeTimedSerializer
from PIL import Image

from app.accounts import services
from app.accounts.models import User
from app.accounts.permissions import Permission, has_permission
from app.extensions import db
from app.images import InvalidImage
from app.outbox.models import Event
from tests.conftest import PASSWORD


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield
        db.session.rollback()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password1", "too common"),
        ("Qwerty123", "too common"),
        ("me@example.com", "must not be your email"),
        ("a-long-unusual-phrase", None),
    ],
)
def test_password_rules(password, problem):
    result = services.password_problem(password, "me@example.com")
    assert (result is None) if problem is None else (problem in result)


def test_register_records_event_and_hides_taken_email(ctx):
    user = services.register_user("  New@Example.COM ", PASSWORD, "Ann", "Lee")
    db.session.commit()
    assert user.email == "new@example.com"
    assert not user.is_verified
    events = db.session.scalars(db.select(Event)).all()
    assert [(e.name, e.payload) for e in events] == [("user.registered", {"user_id": user.id})]
    assert services.register_user("new@example.com", PASSWORD) is None
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


def test_authenticate(ctx, make_user):
    user = make_user()
    assert services.authenticate(user.email.upper(), PASSWORD).id == user.id
    assert services.authenticate(user.email, "wrong-password") is None
    assert services.authenticate("nobody@example.com", PASSWORD) is None
    assert services.authenticate("x" * 300 + "@example.com", PASSWORD) is None


def test_disabled_user_cannot_authenticate(ctx, make_user):
    from app.timeutil import utcnow

    user = make_user(disabled_at=utcnow())
    assert services.authenticate(user.email, PASSWORD) is None


def test_verify_email_token(ctx, make_user):
    user = db.session.merge(make_user(verified=False))
    token = services.make_verification_token(user)
    verified, newly = services.verify_email(token)
    assert verified.id == user.id and newly and verified.is_verified
    assert services.verify_email(token) == (verified, False)
    # The signature's first character carries six whole bits, so changing it always changes the
    # signature; its last character carries padding bits a decoder ignores (token[:-2] + "xx"
    # once matched, one run in about a thousand).
    body, signature = token.rsplit(".", 1)
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]
    with pytest.raises(services.InvalidToken):
        services.verify_email(f"{body}.{forged}")


def test_verify_token_expires(ctx, make_user, app, monkeypatch):
    user = db.session.merge(make_user(verified=False))
    token = services.make_verification_token(user)
    monkeypatch.setattr(services, "VERIFY_MAX_AGE", -1)
    with pytest.raises(services.InvalidToken, match="expired"):
        services.verify_email(token)


def test_verify_token_dies_when_email_changes(ctx, make_user):
    user = db.session.merge(make_user(verified=False))
    token = services.make_verification_token(user)
    user.email = "other@example.com"
    with pytest.raises(services.InvalidToken):
        services.verify_email(token)


def test_reset_token_is_single_use_and_ends_sessions(ctx, make_user):
    user = db.session.merge(make_user())
    old_session = user.session_token
    token = services.make_reset_token(user)
    services.reset_password(token, "a-brand-new-secret")
    db.session.commit()
    assert user.session_token != old_session
    assert services.authenticate(user.email, "a-brand-new-secret")
    with pytest.raises(services.InvalidToken, match="already been used"):
        services.reset_password(token, "another-new-secret")


def test_reset_token_rejects_forgery(ctx, app, make_user):
    user = db.session.merge(make_user())
    forged = URLSafeTimedSerializer("not-the-key", salt="reset-password").dumps({"uid": user.id})
    with pytest.raises(services.InvalidToken):
        services.check_reset_token(forged)
    with pytest.raises(services.InvalidToken):
        services.check_reset_token(services.make_verification_token(user))


def test_change_password_needs_current(ctx, make_user):
    user = db.session.merge(make_user())
    before = user.password_hash
    with pytest.raises(services.WrongPassword):
        services.change_password(user, "not-it", "fresh-secret-phrase")
    with pytest.raises(services.WeakPassword):
        services.change_password(user, PASSWORD, "password")
    assert user.password_hash == before
    token = user.session_token
    services.change_password(user, PASSWORD, "fresh-secret-phrase")
    assert user.session_token != token


def _png(width=300, height=200, color=(200, 10, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def test_avatar_is_validated_and_resized(ctx, app):
    key = services.store_avatar(_png())
    from app.storage import get_storage

    with Image.open(io.BytesIO(get_storage().read(key))) as stored:
        assert stored.size == (256, 256) and stored.format == "PNG"
    for bad in [b"", b"GIF89a not really", b"<svg onload=alert(1)>", _png()[:60]]:
        with pytest.raises(InvalidImage):
            services.store_avatar(bad)


def test_avatar_bomb_refused(ctx):
    # A PNG whose header claims 100k x 100k pixels.
    with pytest.raises(InvalidImage):
        services.store_avatar(_bomb())


def _bomb() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("role", "verified", "allowed", "denied"),
    [
        (
            "customer",
            True,
            {Permission.BUY, Permission.APPLY_TO_SELL},
            {Permission.SELL, Permission.MODERATE},
        ),
        ("customer", False, {Permission.BROWSE}, {Permission.BUY, Permission.APPLY_TO_SELL}),
        (
            "vendor",
            True,
            {Permission.SELL, Permission.BUY},
            {Permission.MODERATE, Permission.APPLY_TO_SELL},
        ),
        ("vendor", False, {Permission.BROWSE}, {Permission.SELL}),
        # Admins moderate stores and do not open one.
        ("admin", True, set(Permission) - {Permission.APPLY_TO_SELL}, {Permission.APPLY_TO_SELL}),
    ],
)
def test_permissions(make_user, role, verified, allowed, denied):
    user = make_user(role, verified=verified)
    assert all(has_permission(user, p) for p in allowed)
    assert not any(has_permission(user, p) for p in denied)


def test_anonymous_may_only_browse():
    from flask_login import AnonymousUserMixin

    anon = AnonymousUserMixin()
    assert has_permission(anon, Permission.BROWSE)
    assert not has_permission(anon, Permission.BUY)


def test_hashes_are_scrypt(ctx):
    assert services.hash_password("whatever-secret").startswith("scrypt:")
