"""My library: every owned licence with its key and state, a licence's activations, freeing
one; another user's licence or activation is 404."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.licensing.models import Licence, LicenceActivation
from app.timeutil import utcnow
from tests.conftest import csrf_token
from tests.licensing.factories import create_licence


def _activate(app, licence_id: int, *instances: str) -> list[int]:
    with app.app_context():
        rows = [LicenceActivation(licence_id=licence_id, instance_id=i) for i in instances]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def test_the_library_lists_only_the_buyers_licences(app, client, make_user, login_as):
    buyer = login_as("customer")
    mine = create_licence(app, make_user, buyer=buyer, max_downloads=5)
    expired = create_licence(
        app, make_user, buyer=buyer, kind="trial", expires_at=utcnow() - timedelta(days=1)
    )
    theirs = create_licence(app, make_user)
    page = client.get("/library").get_data(as_text=True)
    assert mine.key in page and expired.key in page
    assert theirs.key not in page
    assert "Perpetual licence" in page and "Trial licence" in page
    assert "expired" in page
    assert "downloads 0 of 5" in page
    # No file yet for these products: the page says so instead of a button.
    assert "No file available yet" in page


def test_an_empty_library_says_so(app, client, login_as):
    login_as("customer")
    assert "Nothing here yet" in client.get("/library").get_data(as_text=True)


def test_a_licence_page_shows_its_activations_and_frees_one(app, client, make_user, login_as):
    buyer = login_as("customer")
    made = create_licence(app, make_user, buyer=buyer, max_activations=3)
    box1, box2 = _activate(app, made.id, "box-1", "box-2")
    page = client.get(f"/library/{made.id}").get_data(as_text=True)
    assert made.key in page and "box-1" in page and "box-2" in page
    assert "2 in use of 3" in page
    token = csrf_token(client, f"/library/{made.id}")
    response = client.post(
        f"/library/{made.id}/activations/{box1}/free", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/library/{made.id}")
    with app.app_context():
        assert db.session.get(LicenceActivation, box1).deactivated_at is not None
        assert db.session.get(LicenceActivation, box2).deactivated_at is None
    page = client.get(f"/library/{made.id}").get_data(as_text=True)
    assert "Activation on box-1 freed." in page
    assert "1 in use of 3" in page and "<code>box-1</code>" not in page
    # Freeing it again is refused clearly.
    again = client.post(f"/library/{made.id}/activations/{box1}/free", data={"csrf_token": token})
    assert again.status_code == 404
    assert "already free" in again.get_data(as_text=True)


def test_the_activations_block_alone_for_htmx(app, client, make_user, login_as):
    buyer = login_as("customer")
    made = create_licence(app, make_user, buyer=buyer)
    _activate(app, made.id, "box-1")
    response = client.get(f"/library/{made.id}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="activations"')
    assert "<html" not in body and "box-1" in body
    assert "HX-Request" in response.headers["Vary"]


def test_another_users_licence_and_activation_are_404(app, client, make_user, login_as):
    buyer = login_as("customer")
    mine = create_licence(app, make_user, buyer=buyer)
    theirs = create_licence(app, make_user)
    (their_activation,) = _activate(app, theirs.id, "their-box")
    token = csrf_token(client, "/library")
    assert client.get(f"/library/{theirs.id}").status_code == 404
    response = client.post(
        f"/library/{theirs.id}/activations/{their_activation}/free", data={"csrf_token": token}
    )
    assert response.status_code == 404
    # Their activation through my licence's URL: not mine either.
    response = client.post(
        f"/library/{mine.id}/activations/{their_activation}/free", data={"csrf_token": token}
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(LicenceActivation, their_activation).deactivated_at is None


def test_freeing_needs_the_csrf_token(app, client, make_user, login_as):
    buyer = login_as("customer")
    made = create_licence(app, make_user, buyer=buyer)
    (box,) = _activate(app, made.id, "box-1")
    assert client.post(f"/library/{made.id}/activations/{box}/free").status_code == 400
    with app.app_context():
        assert db.session.get(LicenceActivation, box).deactivated_at is None
        assert db.session.get(Licence, made.id).activations[0].deactivated_at is None
