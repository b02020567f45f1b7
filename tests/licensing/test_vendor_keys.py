"""The vendor's keys: only their store's, searchable and paginated; disable and re-enable with
a reason, each writing its outbox event; another store's key is 404."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.licensing.models import Licence
from app.licensing.services import VENDOR_PAGE_SIZE
from app.outbox.models import Event
from tests.catalog.factories import create_product
from tests.conftest import csrf_token, login
from tests.licensing.factories import create_licence


def _vendor_with_product(app, make_user, client):
    """A logged-in vendor and one product of their store (create_product makes the vendor)."""
    from app.accounts.models import User
    from app.catalog.models import Product

    product_id = create_product(app, make_user, "Agent kit")
    with app.app_context():
        user = db.session.get(User, db.session.get(Product, product_id).vendor.user_id)
        db.session.expunge(user)
    assert login(client, user).status_code == 303
    return user, product_id


def test_the_vendor_sees_their_stores_keys_only(app, client, make_user):
    _, product_id = _vendor_with_product(app, make_user, client)
    buyer = make_user("customer", email="ada@example.com")
    mine = create_licence(app, make_user, buyer=buyer, product_id=product_id)
    theirs = create_licence(app, make_user)
    page = client.get("/vendor/licences").get_data(as_text=True)
    assert mine.key in page and "ada@example.com" in page and "Agent kit" in page
    assert theirs.key not in page
    assert "1 key." in page


def test_search_by_key_email_or_title_and_pages(app, client, make_user):
    _, product_id = _vendor_with_product(app, make_user, client)
    ada = make_user("customer", email="ada@example.com")
    first = create_licence(app, make_user, buyer=ada, product_id=product_id)
    others = [create_licence(app, make_user, product_id=product_id) for _ in range(3)]
    by_key = client.get(f"/vendor/licences?q={first.key[4:15].lower()}").get_data(as_text=True)
    assert first.key in by_key and all(o.key not in by_key for o in others)
    typed = first.key.lower().replace("-", " ")
    by_typed_key = client.get("/vendor/licences", query_string={"q": typed}).get_data(as_text=True)
    assert first.key in by_typed_key and "1 key matching" in by_typed_key
    by_email = client.get("/vendor/licences?q=ADA@").get_data(as_text=True)
    assert first.key in by_email and "1 key matching" in by_email
    by_title = client.get("/vendor/licences?q=agent").get_data(as_text=True)
    assert "4 keys matching" in by_title
    wildcard = client.get("/vendor/licences?q=%25").get_data(as_text=True)
    assert "No keys match." in wildcard
    fragment = client.get("/vendor/licences?q=ada", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="licences"')


def test_keys_are_paginated(app, client, make_user):
    _, product_id = _vendor_with_product(app, make_user, client)
    buyer = make_user("customer")
    made = [
        create_licence(app, make_user, buyer=buyer, product_id=product_id)
        for _ in range(VENDOR_PAGE_SIZE + 1)
    ]
    first = client.get("/vendor/licences").get_data(as_text=True)
    second = client.get("/vendor/licences?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert made[0].key in second and made[0].key not in first  # newest first
    assert made[-1].key in first


def _post(client, licence_id: int, action: str, reason: str | None):
    data = {"csrf_token": csrf_token(client, "/vendor/licences")}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/vendor/licences/{licence_id}/{action}", data=data)


def _events(app, name: str) -> list[dict]:
    with app.app_context():
        return [e.payload for e in db.session.scalars(select(Event).where(Event.name == name))]


def test_disable_and_enable_with_a_reason_and_events(app, client, make_user):
    user, product_id = _vendor_with_product(app, make_user, client)
    made = create_licence(app, make_user, product_id=product_id)
    response = _post(client, made.id, "disable", "Chargeback on the card")
    assert response.status_code == 303
    with app.app_context():
        licence = db.session.get(Licence, made.id)
        assert licence.status == "disabled"
        assert licence.status_reason == "Chargeback on the card"
    (event,) = _events(app, "license.disabled")
    assert event["licence_id"] == made.id and event["actor_id"] == user.id
    assert event["reason"] == "Chargeback on the card"
    # The API now says so.
    body = client.post(
        "/api/v1/licenses/validate", json={"key": made.key, "product": product_id}
    ).json
    assert body["valid"] is False and body["status"] == "disabled"
    assert _post(client, made.id, "disable", "again").status_code == 409
    assert _post(client, made.id, "enable", "Resolved with the bank").status_code == 303
    with app.app_context():
        assert db.session.get(Licence, made.id).status == "active"
    (event,) = _events(app, "license.enabled")
    assert event["reason"] == "Resolved with the bank"


def test_a_reason_is_required(app, client, make_user):
    _, product_id = _vendor_with_product(app, make_user, client)
    made = create_licence(app, make_user, product_id=product_id)
    for reason in (None, "", "   "):
        response = _post(client, made.id, "disable", reason)
        assert response.status_code == 422
        assert "field-error" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Licence, made.id).status == "active"
    assert _events(app, "license.disabled") == []


def test_a_revoked_key_cannot_be_enabled(app, client, make_user):
    _, product_id = _vendor_with_product(app, make_user, client)
    made = create_licence(app, make_user, product_id=product_id, status="revoked")
    assert _post(client, made.id, "enable", "please").status_code == 409
    with app.app_context():
        assert db.session.get(Licence, made.id).status == "revoked"


def test_another_stores_key_is_404(app, client, make_user):
    _vendor_with_product(app, make_user, client)
    theirs = create_licence(app, make_user)
    assert _post(client, theirs.id, "disable", "not mine").status_code == 404
    with app.app_context():
        assert db.session.get(Licence, theirs.id).status == "active"
