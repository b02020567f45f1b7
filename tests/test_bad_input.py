"""Hostile and malformed input: a clear message, the right status, nothing changed."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from tests.conftest import PASSWORD, csrf_token, local_env


def _users(app):
    with app.app_context():
        return db.session.scalars(select(User.email).order_by(User.id)).all()


def _signup_data(client, **overrides):
    data = {
        "email": "new@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(overrides)
    return data


def test_missing_csrf_token_is_refused(app, client):
    data = _signup_data(client)
    del data["csrf_token"]
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert _users(app) == []


def test_wrong_csrf_token_is_refused(app, client):
    response = client.post("/signup", data=_signup_data(client, csrf_token="forged"))
    assert response.status_code == 400
    assert _users(app) == []


def test_csrf_token_of_another_session_is_refused(app, client):
    other = app.test_client()
    response = client.post("/signup", data=_signup_data(client, csrf_token=csrf_token(other)))
    assert response.status_code == 400
    assert _users(app) == []


def test_csrf_header_works_for_htmx(app, client):
    token = csrf_token(client, "/signup")
    data = _signup_data(client)
    del data["csrf_token"]
    response = client.post(
        "/signup", data=data, headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/login"
    assert _users(app) == ["new@example.com"]


def test_csrf_error_for_htmx_is_a_fragment(client):
    response = client.post("/login", data={"email": "a@b.c"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<html" not in body and "did not come from this site" in body
    assert response.headers["HX-Retarget"] == "#flashes"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Invalid email address"),
        ({"email": "a" * 300 + "@example.com"}, "Field cannot be longer than 254"),
        ({"confirm": "something-else-1"}, "Passwords differ"),
        ({"password": "short", "confirm": "short"}, "Field must be between 8 and 128"),
        ({"password": "p" * 200, "confirm": "p" * 200}, "Field must be between 8 and 128"),
        ({"password": "iloveyou", "confirm": "iloveyou"}, "too common"),
        ({"first_name": "x" * 500}, "Field cannot be longer than 80"),
        ({"email": ""}, "This field is required"),
    ],
)
def test_malformed_signup(app, client, overrides, message):
    response = client.post("/signup", data=_signup_data(client, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _users(app) == []


def test_oversize_body_is_413(app, client):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/signup", data=_signup_data(client, bio=big))
    assert response.status_code == 413
    assert "larger than we accept" in response.get_data(as_text=True)
    assert _users(app) == []


def test_oversize_form_field_is_413(app, client):
    # The body is encoded here: Werkzeug's test client would spool it to a temp file that
    # the aborted parse leaves to the garbage collector.
    boundary = "----boundary7MA4YWxkTrZu0gW"
    fields = _signup_data(client, first_name="y" * (600 * 1024))
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        + f"--{boundary}--\r\n"
    )
    response = client.post(
        "/signup",
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert _users(app) == []


def test_many_wrong_passwords_are_rate_limited_per_account(app, client, make_user):
    user = make_user()
    before = _users(app)
    statuses = []
    for attempt in range(7):
        # A different address each time: the per-account limit still applies.
        statuses.append(
            client.post(
                "/login",
                data={
                    "email": user.email,
                    "password": f"wrong-{attempt}",
                    "csrf_token": csrf_token(client),
                },
                environ_base={"REMOTE_ADDR": f"10.0.0.{attempt + 1}"},
            ).status_code
        )
    assert statuses[:5] == [422] * 5 and statuses[5:] == [429, 429]
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 429  # even the right password waits: the lock is temporary
    assert "Too many attempts" in response.get_data(as_text=True)
    assert _users(app) == before
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is None


def test_rate_limit_is_temporary(app, client, make_user):
    from app.extensions import limiter

    user = make_user()
    for attempt in range(6):
        client.post(
            "/login",
            data={
                "email": user.email,
                "password": f"bad-{attempt}",
                "csrf_token": csrf_token(client),
            },
        )
    limiter.reset()  # what the passing of the window does
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303


def test_reset_request_rate_limited_per_ip(client):
    statuses = [
        client.post(
            "/password/forgot",
            data={"email": f"u{i}@example.com", "csrf_token": csrf_token(client)},
        ).status_code
        for i in range(6)
    ]
    assert statuses == [303] * 5 + [429]


def test_expired_reset_token(app, client, make_user, monkeypatch):
    from app.accounts import services

    user = make_user()
    with app.test_request_context():
        token = services.make_reset_token(db.session.merge(user))
    monkeypatch.setattr(services, "RESET_MAX_AGE", -1)
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    response = client.post(
        f"/password/reset/{token}",
        data={
            "password": "a-brand-new-one",
            "confirm": "a-brand-new-one",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == user.password_hash


@pytest.mark.parametrize("token", ["", "x" * 5000, "../../etc/passwd", "eyJ1aWQiOjF9.bad.sig"])
def test_garbage_tokens(client, token):
    response = client.get(f"/verify/{token}")
    assert response.status_code in (400, 404)


def test_method_not_allowed_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "does not accept" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404


def test_unexpected_error_is_a_500_page(tmp_path):
    from app import create_app

    app = create_app(env=local_env(tmp_path, LOG_LEVEL="CRITICAL"))

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("kaboom")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500 and "kaboom" not in page.get_data(as_text=True)
    assert "unexpected error" in page.get_data(as_text=True)
    assert client.get("/api/boom").json["error"]["status"] == 500
    fragment = client.get("/boom", headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and "<html" not in fragment.get_data(as_text=True)


def test_bad_avatar_keeps_profile(app, client, login_as):
    import io

    user = login_as("customer")
    response = client.post(
        "/account",
        data={
            "first_name": "Changed",
            "last_name": "",
            "bio": "",
            "avatar": (io.BytesIO(b"GIF89a<script>alert(1)</script>"), "x.gif"),
            "csrf_token": csrf_token(client, "/account"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not an image we can use" in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.first_name == "" and stored.avatar_key is None


def test_a_rejected_form_does_not_steal_focus(client):
    # autofocus on a swapped-in form would move the caret to the email field mid-typing
    assert "autofocus" in client.get("/signup").get_data(as_text=True)
    response = client.post(
        "/signup", data=_signup_data(client, confirm="different"), headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Passwords differ." in body
    assert "autofocus" not in body
