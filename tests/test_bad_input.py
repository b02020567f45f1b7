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


# --- one form base for every form -----------------------------------------------------------


def _listing_form(client, category_id, **overrides):
    data = {
        "csrf_token": csrf_token(client, "/vendor/products/new"),
        "title": "Invoice chaser",
        "short_description": "Chases unpaid invoices.",
        "description_md": "Sends reminders.",
        "type": "n8n_workflow",
        "category_id": str(category_id),
        "price_type": "one_time",
        "currency": "USD",
        "price": "19.50",
        "complexity": "beginner",
    }
    data.update(overrides)
    return data


def _pending_product(app, make_user):
    from tests.catalog.factories import create_product

    return create_product(app, make_user, "Waiting", status="pending")


def _application(app, make_user):
    from app.vendors.models import VendorProfile

    user = make_user("customer")
    with app.app_context():
        profile = VendorProfile(
            user_id=user.id,
            store_name="Applicant",
            slug=f"applicant-{user.id}",
            support_email=user.email,
            country="GB",
            status="pending",
        )
        db.session.add(profile)
        db.session.commit()
        return profile.id


# (role logged in, URL or callable(app, make_user) -> URL, JSON body)
JSON_POSTS = [
    ("anonymous", "/login", {"email": ["a@b.c"], "password": 12345678, "remember": {"x": 1}}),
    ("anonymous", "/signup", {"email": 1, "password": True, "confirm": True}),
    ("anonymous", "/signup", [["email", "a@b.c"], ["password", 1]]),
    ("anonymous", "/signup", "just a string"),
    ("anonymous", "/password/forgot", {"email": None}),
    ("customer", "/account", {"first_name": 7, "last_name": [], "bio": {"a": 1}}),
    ("customer", "/sell", {"store_name": 3.5, "slug": ["x"], "country": 1}),
    ("admin", lambda app, mk: f"/admin/products/{_pending_product(app, mk)}/reject",
     {"reason_codes": [1, 2], "note": False}),
    ("admin", lambda app, mk: f"/admin/vendors/{_application(app, mk)}/decline", {"reason": 5}),
    ("admin", "/admin/categories", {"name": 1, "parent_id": "x", "position": []}),
    ("vendor", "/vendor/products/new", {"title": 1, "price": {"x": 1}, "category_id": []}),
]  # fmt: skip


@pytest.mark.parametrize(("role", "url", "body"), JSON_POSTS)
def test_form_endpoints_refuse_json_bodies(app, client, login_as, make_user, role, url, body):
    if role != "anonymous":
        login_as(role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/")
    target = url if isinstance(url, str) else url(app, make_user)
    before = _users(app)
    response = client.post(target, json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 415
    assert "takes a form submission, not JSON" in response.get_data(as_text=True)
    assert _users(app) == before


def test_every_form_derives_from_the_shared_base():
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import app as package
    from app.forms import Form

    for module in pkgutil.walk_packages(package.__path__, "app."):
        if module.name.endswith("forms"):
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("app.")]
    assert len(forms) >= 10
    strays = [f"{cls.__module__}.{cls.__name__}" for cls in forms if not issubclass(cls, Form)]
    assert strays == []


def test_a_file_posted_as_a_text_field_is_not_text(app, client, login_as):
    import io

    user = login_as("customer")
    response = client.post(
        "/account",
        data={
            "first_name": (io.BytesIO(b"not text"), "name.txt"),
            "csrf_token": csrf_token(client, "/account"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303  # the field is simply empty
    with app.app_context():
        assert db.session.get(User, user.id).first_name == ""
    response = client.post(
        "/password/forgot",
        data={"email": (io.BytesIO(b"x"), "a.txt"), "csrf_token": csrf_token(client, "/")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "This field is required" in response.get_data(as_text=True)


DIRTY = "Ann\r\nBcc: x@evil.test\x00\x07 \u202eLee\u2066"


def test_one_line_fields_lose_line_breaks_and_controls(app, client, login_as):
    user = login_as("customer")
    response = client.post(
        "/account",
        data={
            "first_name": DIRTY,
            "last_name": "\x1b[31mRed\x7f",
            "bio": "Line one\r\nLine two\x00\x08\tend\u202e",
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.first_name == "Ann Bcc: x@evil.test Lee"
        assert stored.last_name == "[31mRed"
        # A text area keeps its lines (and tab), loses the other controls.
        assert stored.bio == "Line one\r\nLine two\tend\u202e"


def test_a_listing_title_with_line_breaks_still_mails_its_decision(
    app, client, login_as, make_user, run_jobs, mailbox
):
    from app.catalog.models import Product
    from tests.catalog.factories import create_category

    category_id = create_category(app, "Finance")
    vendor = login_as("vendor")
    response = client.post(
        "/vendor/products/new",
        data=_listing_form(client, category_id, title="Invoice\r\nchaser\x00", tags="a\x00b, c"),
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    product_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    from tests.assets.factories import give_clean_version

    give_clean_version(app, product_id)  # review needs a clean file
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product.title == "Invoice chaser"
        assert sorted(tag.name for tag in product.tags) == ["ab", "c"]
    response = client.post(
        f"/vendor/products/{product_id}/submit", data={"csrf_token": csrf_token(client, "/")}
    )
    assert response.status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    admin = make_user("admin")
    from tests.conftest import login

    assert login(client, admin).status_code == 303
    response = client.post(
        f"/admin/products/{product_id}/reject",
        data={"csrf_token": csrf_token(client, "/"), "note": "No."},
    )
    assert response.status_code == 303
    run_jobs()  # fails the test if the decision email's job failed
    assert [m["To"] for m in mailbox.messages] == [vendor.email]
    assert "Invoice chaser" in mailbox.messages[0]["Subject"]


def test_an_email_with_a_header_break_is_refused(app, client):
    response = client.post(
        "/signup",
        data=_signup_data(client, email="new@example.com\r\nBcc: victim@example.com"),
    )
    assert response.status_code == 422
    assert "Invalid email address" in response.get_data(as_text=True)
    assert _users(app) == []


# --- ids out of the database's range --------------------------------------------------------

HUGE = "1" * 21


def test_no_route_takes_a_bare_int():
    """Every id in a path goes through the id converter (1..2**31-1, else 404)."""
    import re

    from app import create_app

    rules = list(create_app(env={"APP_ENV": "test", "SECRET_KEY": "k" * 40}).url_map.iter_rules())
    offenders = []
    for rule in rules:
        for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
            if converter == "int" or (name.endswith("_id") and converter != "id"):
                offenders.append(rule.rule)
    assert offenders == []
    assert any("<id:" in rule.rule for rule in rules)


@pytest.mark.parametrize(
    ("role", "method", "url"),
    [
        ("vendor", "GET", f"/vendor/products/{HUGE}"),
        ("vendor", "GET", f"/vendor/products/{HUGE}/edit"),
        ("vendor", "POST", f"/vendor/products/{HUGE}/submit"),
        ("admin", "GET", f"/admin/moderation/{HUGE}"),
        ("admin", "GET", "/admin/moderation/2147483648"),
        ("admin", "GET", "/admin/moderation/0"),
        ("admin", "POST", f"/admin/products/{HUGE}/approve"),
        ("admin", "POST", f"/admin/vendors/{HUGE}/approve"),
        ("admin", "POST", f"/admin/categories/{HUGE}"),
        ("anonymous", "GET", f"/search/click/{HUGE}"),
    ],
)
def test_ids_out_of_range_are_404(client, login_as, role, method, url):
    if role != "anonymous":
        login_as(role)
    data = {"csrf_token": csrf_token(client, "/")} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    assert response.status_code == 404


def test_query_string_ids_out_of_range_are_ignored(client, login_as):
    login_as("admin")
    response = client.get(f"/admin/categories?edit={HUGE}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("2147483647", 2147483647), ("2147483648", None), ("0", None), (HUGE, None),
     ("-1", None), ("+1", None), (" 1", None), ("١", None), ("²", None), ("", None), ("1e3", None)],
)  # fmt: skip
def test_id_arg(raw, expected):
    from app.forms import id_arg

    assert id_arg({"x": raw}, "x") == expected
    assert id_arg({}, "x") is None


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "price", ["sNaN", "NaN", "-NaN", "Infinity", "-inf", "1e400", "1E2", "0x10", "12.345", "--5",
              "1_000", "1,5", "١٢", "99999999"],
)  # fmt: skip
def test_bad_amounts_are_form_errors(app, client, login_as, price):
    from app.catalog.models import Product
    from tests.catalog.factories import create_category

    category_id = create_category(app, "Finance")
    login_as("vendor")
    for field in ("price", "monthly_price"):
        response = client.post(
            "/vendor/products/new",
            data=_listing_form(client, category_id, price_type="subscription", **{field: price}),
        )
        assert response.status_code == 422
        assert "Enter an amount like 19 or 19.99." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Product)) == 0


@pytest.mark.parametrize(("price", "cents"), [("19", 1900), ("19.5", 1950), (" 1234.56 ", 123456)])
def test_plain_amounts_are_accepted(app, client, login_as, price, cents):
    from app.catalog.models import Product
    from tests.catalog.factories import create_category

    category_id = create_category(app, "Finance")
    login_as("vendor")
    response = client.post(
        "/vendor/products/new", data=_listing_form(client, category_id, price=price)
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Product.price_cents)) == cents


# --- images ----------------------------------------------------------------------------------


def _png_bytes(size=(64, 48)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _bad_crc(data: bytes) -> bytes:
    at = data.index(b"IDAT") + 4
    length = int.from_bytes(data[at - 8 : at - 4], "big")
    crc = at + length
    return data[:crc] + bytes(b ^ 0xFF for b in data[crc : crc + 4]) + data[crc + 4 :]


def _bad_ihdr_crc(data: bytes) -> bytes:
    return data[:29] + bytes(b ^ 0xFF for b in data[29:33]) + data[33:]


CORRUPT_IMAGES = {
    "bad IDAT crc": lambda: _bad_crc(_png_bytes()),
    "bad IHDR crc": lambda: _bad_ihdr_crc(_png_bytes()),
    "truncated png": lambda: _png_bytes()[:60],
    "truncated in pixels": lambda: _png_bytes((400, 300))[:-40],
    "header only gif": lambda: b"GIF89a\x10\x00\x10\x00\x80\x00\x00",
    "jpeg magic only": lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20,
    "webp riff only": lambda: b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24,
}


@pytest.mark.parametrize("name", sorted(CORRUPT_IMAGES))
def test_corrupt_images_are_form_errors(app, client, login_as, name):
    import io

    from app.catalog.models import Product
    from tests.catalog.factories import create_category

    data = CORRUPT_IMAGES[name]()
    user = login_as("vendor")
    response = client.post(
        "/account",
        data={
            "first_name": "Changed",
            "avatar": (io.BytesIO(data), "x.png"),
            "csrf_token": csrf_token(client, "/account"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "could not be read" in response.get_data(as_text=True)
    category_id = create_category(app, "Finance")
    for field in ("thumbnail", "screenshots"):
        response = client.post(
            "/vendor/products/new",
            data=_listing_form(client, category_id, **{field: (io.BytesIO(data), "x.png")}),
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        assert "could not be read" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).avatar_key is None
        assert db.session.scalar(select(db.func.count()).select_from(Product)) == 0


def _sample(fmt: str) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", (48, 32), (10, 120, 200))
    image.putpixel((3, 3), (250, 250, 0))
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_damaged_images_only_ever_raise_invalid_image(fmt):
    """Random damage (flipped bytes, cuts) to each format: whatever Pillow's decoders raise,
    the caller sees InvalidImage or a good image, never another exception."""
    import random

    from app.images import InvalidImage, normalise_image

    original = _sample(fmt)
    rng = random.Random(f"images-{fmt}")
    refused = 0
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(8, len(data))]
        try:
            normalise_image(bytes(data), 1024 * 1024, (32, 32))
        except InvalidImage as exc:
            assert "could not be read" in exc.message
            refused += 1
    assert refused > 0


# --- body size for every content type -------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "application/json", "text/plain"]
)
def test_a_big_body_that_is_not_an_upload_is_413(app, client, content_type):
    from urllib.parse import urlencode

    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    body = urlencode(_signup_data(client, first_name="y" * (limit + 1)))
    assert len(body) < app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/signup", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "larger than we accept" in response.get_data(as_text=True)
    assert _users(app) == []


def test_a_form_under_the_cap_is_parsed(app, client):
    from urllib.parse import urlencode

    body = urlencode(_signup_data(client, first_name="y" * 100_000))
    response = client.post("/signup", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422  # first name too long: parsed and validated
    assert "Field cannot be longer than 80" in response.get_data(as_text=True)
