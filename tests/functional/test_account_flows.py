"""Whole account flows through HTTP, with a real Redis, RQ worker and SMTP server."""

import re

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.outbox.models import Event, EventDelivery
from tests.catalog.factories import create_product, slug_of
from tests.conftest import PASSWORD, csrf_token, login
from tests.support.services import body_text

LINK = re.compile(r"http://localhost(/\S+)")


def _link(message) -> str:
    match = LINK.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)


def _signup(client, email="ann@example.com", password=PASSWORD, **extra):
    data = {
        "email": email,
        "password": password,
        "confirm": password,
        "first_name": "Ann",
        "last_name": "Lee",
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(extra)
    return client.post("/signup", data=data)


def test_signup_verify_login_logout(app, client, mailbox, run_jobs):
    response = _signup(client)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert mailbox.messages == []  # nothing is sent before the worker runs the job
    assert run_jobs() == 1
    [message] = mailbox.to("ann@example.com")
    assert message["Subject"] == "Confirm your email address"
    assert message.get_content_maintype() == "multipart"

    page = client.get(_link(message), follow_redirects=True)
    assert "Your email is confirmed." in page.get_data(as_text=True)
    run_jobs()
    assert [m["Subject"] for m in mailbox.to("ann@example.com")][
        -1
    ] == "Welcome to Autopilot Monster"

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ann@example.com"))
        assert user.is_verified and user.role == "customer"

    response = login(client, user)
    assert response.status_code == 303
    assert "Ann Lee" in client.get("/").get_data(as_text=True)

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    assert client.get("/account").status_code == 302


def test_signup_same_answer_for_taken_email(client, make_user, mailbox, run_jobs, app):
    existing = make_user(email="taken@example.com")
    response = _signup(client, email="taken@example.com")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    run_jobs()
    # The owner hears that someone tried; no account, link or verification is made.
    [message] = mailbox.to("taken@example.com")
    assert message["Subject"] == "You already have an account"
    assert "/verify/" not in body_text(message)
    with app.app_context():
        user = db.session.get(User, existing.id)
        assert user.first_name == ""  # unchanged
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_verification_job_is_idempotent(app, client, mailbox, run_jobs):
    _signup(client)
    run_jobs()
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.name == "user.registered"))
        from jobs.accounts import send_verification_email

        assert send_verification_email(event.id) is False  # already delivered
        assert db.session.scalar(select(db.func.count()).select_from(EventDelivery)) == 1
    assert len(mailbox.to("ann@example.com")) == 1


def test_password_reset_flow(app, client, make_user, mailbox, run_jobs):
    user = make_user()
    other = app.test_client()
    assert login(other, user).status_code == 303

    response = client.post(
        "/password/forgot", data={"email": user.email, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    response = client.post(
        "/password/forgot", data={"email": "ghost@example.com", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303  # the same answer for unknown emails
    run_jobs()
    [message] = mailbox.to(user.email)
    assert mailbox.to("ghost@example.com") == []
    path = _link(message)
    assert client.get(path).status_code == 200

    response = client.post(
        path,
        data={
            "password": "a-new-long-secret",
            "confirm": "a-new-long-secret",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 303
    # the other session has ended, the old password is gone, the link is spent
    assert other.get("/account").status_code == 302
    assert login(client, user).status_code == 422
    assert login(client, user, "a-new-long-secret").status_code == 303
    reused = client.get(path)
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)
    run_jobs()
    # (Logging in on this second browser also sent a new sign-in notice.)
    assert "Your password was changed" in [m["Subject"] for m in mailbox.to(user.email)]


def test_change_password_ends_other_sessions(app, client, make_user, mailbox, run_jobs):
    user = make_user()
    other = app.test_client()
    login(other, user)
    login(client, user)
    token = csrf_token(client, "/account/password")
    wrong = client.post(
        "/account/password",
        data={
            "current": "nope-nope",
            "password": "next-secret-99",
            "confirm": "next-secret-99",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    assert "current password is not correct" in wrong.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "next-secret-99",
            "confirm": "next-secret-99",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 303
    assert client.get("/account").status_code == 200  # this session carries on
    assert other.get("/account").status_code == 302  # the other one is over
    run_jobs()
    assert mailbox.to(user.email)[-1]["Subject"] == "Your password was changed"


def test_logout_kills_copied_session_cookie(app, client, make_user):
    user = make_user()
    login(client, user)
    cookie = client.get_cookie("session")
    stolen = app.test_client()
    stolen.set_cookie("session", cookie.value)
    assert stolen.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert stolen.get("/account").status_code == 302


def test_remember_me_cookie_revives_session_until_logout(app, client, make_user):
    user = make_user()
    token = csrf_token(client)
    client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    remember = client.get_cookie("remember_token")
    assert remember is not None
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert fresh.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    again = app.test_client()
    again.set_cookie("remember_token", remember.value)
    assert again.get("/account").status_code == 302


def test_login_starts_a_new_session(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_only_accepts_local_paths(client, make_user):
    user = make_user()
    for target, expected in [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        token = csrf_token(client)
        response = client.post(
            f"/login?next={target}",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == expected, target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_unverified_user_sees_banner_and_can_resend(client, make_user, mailbox, run_jobs):
    user = make_user(verified=False)
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert "Confirm your email address" in page
    response = client.post("/verify/resend", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    run_jobs()
    assert mailbox.to(user.email)[0]["Subject"] == "Confirm your email address"


def test_profile_update_with_avatar(client, login_as, app):
    import io

    from PIL import Image

    user = login_as("customer")
    image = io.BytesIO()
    Image.new("RGB", (400, 300), (0, 128, 255)).save(image, format="JPEG")
    image.seek(0)
    response = client.post(
        "/account",
        data={
            "first_name": "Zed",
            "last_name": "Q",
            "bio": "<script>x</script> hello",
            "avatar": (image, "me.jpg"),
            "csrf_token": csrf_token(client, "/account"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt; hello" in page
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.avatar_key.startswith("avatars/")
    avatar = client.get("/media/" + stored.avatar_key)
    assert avatar.status_code == 200 and avatar.mimetype == "image/png"


def test_htmx_form_error_returns_fragment_with_422(client):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": "", "password": "", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_success_uses_hx_redirect(client, make_user):
    user = make_user()
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"


def test_boosted_request_gets_whole_page(client):
    body = client.get("/login", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(
        as_text=True
    )
    assert "<html" in body
    fragment = client.get("/login", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="account_form"' in fragment


def test_browsing_sets_no_cookie_until_a_form_needs_one(app, client, make_user):
    # Anonymous public pages carry no CSRF token, so they set no session cookie (a shared
    # cache may keep them); a form page does, and a signed-in page gives htmx its token.
    product = slug_of(app, create_product(app, make_user, "Lead router", category_slug="sales"))
    for path, status in [
        ("/", 200),
        ("/about", 200),
        ("/search?q=lead", 200),
        ("/categories/sales", 200),
        ("/categories/sales?sort=newest", 200),
        (f"/products/{product}", 200),
        ("/products/none", 404),
    ]:
        for headers in [{}, {"HX-Request": "true"}]:
            response = client.get(path, headers=headers)
            assert response.status_code == status, path
            assert "Set-Cookie" not in response.headers, path
            assert "X-CSRFToken" not in response.get_data(as_text=True), path
    assert "session=" in client.get("/login").headers["Set-Cookie"]
    login(client, make_user())
    token = csrf_token(client, "/")
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"
