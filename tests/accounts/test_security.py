"""Account security through HTTP: answers that do not tell who has an account, limits keyed on
what the form parses, logout that forgets the device, admins who do not sell."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import User
from app.extensions import db
from app.outbox.models import Event
from tests.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Count the password hashes the services compute (the real scrypt still runs)."""
    calls: list[str] = []
    real = services.hash_password

    def counting(password: str) -> str:
        calls.append(password)
        return real(password)

    monkeypatch.setattr(services, "hash_password", counting)
    return calls


def _events(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Event.name).order_by(Event.created_at)))


def _signup(client, email):
    return client.post(
        "/signup",
        data={
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(client, "/signup"),
        },
    )


def _clear_events(app):
    with app.app_context():
        db.session.execute(db.delete(Event))
        db.session.commit()


def test_signup_does_the_same_work_for_a_taken_email(app, client, make_user, hashes):
    make_user(email="taken@example.com")
    work = {}
    for email in ("new@example.com", "taken@example.com"):
        hashes.clear()
        _clear_events(app)
        response = _signup(client, email)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        work[email] = (response.status_code, response.headers["Location"], len(hashes))
        assert f"we sent a link to {email}" in page
        assert len(_events(app)) == 1  # one event either way, mailed by the worker
    assert work["new@example.com"] == work["taken@example.com"] == (303, "/login", 1)


def test_forgot_password_does_the_same_work_for_an_unknown_email(
    app, client, make_user, run_jobs, mailbox
):
    user = make_user()
    answers = []
    for email in (user.email, "nobody@example.com"):
        _clear_events(app)
        response = client.post(
            "/password/forgot", data={"email": email, "csrf_token": csrf_token(client)}
        )
        answers.append((response.status_code, response.headers["Location"]))
        assert _events(app) == ["password.reset_requested"]
        run_jobs()
    assert answers[0] == answers[1] == (303, "/login")
    # The worker mailed the account's owner and nobody else.
    assert [message["To"] for message in mailbox.messages] == [user.email]


@pytest.mark.parametrize(
    "variants",
    [
        ["{e}", " {e} ", "{E}", "{e}\r\n", "{e}\x00", "\u202e{e}", "{e}\t"],
        ["{e}"] * 7,
    ],
    ids=["spellings", "same"],
)
def test_login_limit_counts_every_spelling_of_one_account(app, client, make_user, variants):
    user = make_user()
    statuses = []
    for attempt, variant in enumerate(variants):
        email = variant.format(e=user.email, E=user.email.upper())
        statuses.append(
            client.post(
                "/login",
                data={"email": email, "password": "wrong-one", "csrf_token": csrf_token(client)},
                environ_base={"REMOTE_ADDR": f"10.1.0.{attempt + 1}"},
            ).status_code
        )
    assert statuses == [422] * 5 + [429, 429]


def test_a_json_login_is_refused_before_any_password_is_checked(app, client, make_user):
    user = make_user()
    token = csrf_token(client)
    for _ in range(3):
        response = client.post(
            "/login",
            json={"email": user.email, "password": PASSWORD},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 415
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is None


def test_logout_deletes_the_remember_me_cookie(app, client, make_user):
    user = make_user()
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 303
    assert client.get_cookie("remember_token") is not None
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    cleared = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert client.get_cookie("remember_token") is None
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_admins_do_not_apply_to_sell(app, client, make_user):
    admin = make_user("admin")
    assert login(client, admin).status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert "Sell on Autopilot Monster" not in home
    page = client.get("/sell").get_data(as_text=True)
    assert "Admin accounts moderate the marketplace and cannot open a store" in page
    assert 'name="store_name"' not in page
    response = client.post(
        "/sell",
        data={
            "store_name": "Admin shop",
            "slug": "admin-shop",
            "support_email": admin.email,
            "country": "GB",
            "csrf_token": csrf_token(client, "/"),
        },
    )
    assert response.status_code == 403
    assert "Admin accounts moderate the marketplace" in response.get_data(as_text=True)
    from app.vendors.models import VendorProfile

    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(VendorProfile)) == 0


def test_the_service_refuses_an_admin_too(app, make_user):
    from app.errors import PermissionDenied
    from app.vendors.services import apply_to_sell

    admin = make_user("admin")
    with app.test_request_context():
        with pytest.raises(PermissionDenied, match="cannot open a store"):
            apply_to_sell(db.session.merge(admin), "Shop", "shop-x", "", admin.email, "GB")
        db.session.rollback()
