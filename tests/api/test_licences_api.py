"""The licence API through HTTP: validate, activate up to the limit, deactivate, and every
refusal with its status (bad JSON, bad checksum, unknown key, wrong product, disabled,
revoked, expired, limit, rate limit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.licensing.keys import generate_key
from app.licensing.models import Licence, LicenceActivation
from app.timeutil import utcnow
from tests.catalog.factories import create_product
from tests.licensing.factories import create_licence

VALIDATE = "/api/v1/licenses/validate"
ACTIVATE = "/api/v1/licenses/activate"
DEACTIVATE = "/api/v1/licenses/deactivate"


def _typo(key: str) -> str:
    """``key`` with one character of its body changed: the checksum no longer matches."""
    body = key[4]
    return key[:4] + ("Z" if body != "Z" else "Y") + key[5:]


def test_validate_an_active_licence(app, client, make_user):
    made = create_licence(app, make_user, max_activations=3)
    response = client.post(VALIDATE, json={"key": made.key, "product": made.product_slug})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["valid"] is True and body["status"] == "active"
    assert body["kind"] == "perpetual" and body["expires_at"] is None
    assert body["product"] == {"id": made.product_id, "slug": made.product_slug}
    assert body["permissions"] == {
        "download": True,
        "commercial_use": True,
        "redistribution": False,
        "modification": True,
    }
    assert body["activations"] == {"used": 0, "limit": 3}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    # No X-RateLimit-* headers: each would cost rate-limit storage round trips per call.
    assert not [name for name, _ in response.headers if name.lower().startswith("x-ratelimit")]


def test_a_key_is_read_as_people_type_it_and_the_product_by_id(app, client, make_user):
    made = create_licence(app, make_user)
    typed = made.key.lower().replace("-", " ")
    response = client.post(VALIDATE, json={"key": typed, "product": made.product_id})
    assert response.status_code == 200 and response.json["valid"] is True
    response = client.post(VALIDATE, json={"key": made.key, "product": str(made.product_id)})
    assert response.status_code == 200


def test_a_bad_checksum_is_422_and_an_unknown_key_404(app, client, make_user):
    made = create_licence(app, make_user)
    response = client.post(VALIDATE, json={"key": _typo(made.key), "product": made.product_id})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "LicenceKeyInvalid"
    assert "checksum" in response.json["error"]["message"]
    response = client.post(VALIDATE, json={"key": "not a key", "product": made.product_id})
    assert response.status_code == 422
    response = client.post(VALIDATE, json={"key": generate_key(), "product": made.product_id})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "LicenceNotFound"


def test_a_key_for_another_product_reads_as_unknown(app, client, make_user):
    made = create_licence(app, make_user)
    other = create_product(app, make_user, "Another product")
    unknown = client.post(VALIDATE, json={"key": generate_key(), "product": other}).json
    response = client.post(VALIDATE, json={"key": made.key, "product": other})
    assert response.status_code == 404
    assert response.json == unknown  # the same answer: the key's existence is not revealed
    response = client.post(VALIDATE, json={"key": made.key, "product": "no-such-slug"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"status": "disabled", "status_reason": "chargeback"}, "disabled"),
        ({"status": "revoked"}, "revoked"),
        ({"expires_at": utcnow() - timedelta(minutes=1)}, "expired"),
    ],
)
def test_unusable_licences_validate_false_and_refuse_activation(
    app, client, make_user, fields, status
):
    made = create_licence(app, make_user, **fields)
    response = client.post(VALIDATE, json={"key": made.key, "product": made.product_id})
    assert response.status_code == 200
    assert response.json["valid"] is False and response.json["status"] == status
    response = client.post(
        ACTIVATE, json={"key": made.key, "product": made.product_id, "instance_id": "box-1"}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "LicenceNotUsable"
    assert status in response.json["error"]["message"]


def test_a_licence_that_has_not_expired_yet_is_valid(app, client, make_user):
    made = create_licence(app, make_user, kind="trial", expires_at=utcnow() + timedelta(days=7))
    body = client.post(VALIDATE, json={"key": made.key, "product": made.product_id}).json
    assert body["valid"] is True and body["kind"] == "trial"
    assert body["expires_at"].endswith("Z")


def _activate(client, made, instance):
    return client.post(
        ACTIVATE, json={"key": made.key, "product": made.product_slug, "instance_id": instance}
    )


def test_activate_up_to_the_limit_idempotently_then_409(app, client, make_user):
    made = create_licence(app, make_user, max_activations=2)
    first = _activate(client, made, "box-1")
    assert first.status_code == 201
    assert first.json["activation"]["instance_id"] == "box-1"
    assert first.json["activation"]["created"] is True
    assert first.json["activations"] == {"used": 1, "limit": 2}
    again = _activate(client, made, "box-1")
    assert again.status_code == 200 and again.json["activation"]["created"] is False
    assert again.json["activations"]["used"] == 1
    assert _activate(client, made, "box-2").status_code == 201
    full = _activate(client, made, "box-3")
    assert full.status_code == 409
    assert full.json["error"]["code"] == "ActivationLimitReached"
    # An instance already active stays usable when the licence is full.
    assert _activate(client, made, "box-2").status_code == 200
    with app.app_context():
        rows = db.session.scalars(
            select(LicenceActivation.instance_id).where(LicenceActivation.licence_id == made.id)
        ).all()
    assert sorted(rows) == ["box-1", "box-2"]


def test_deactivate_frees_a_place_and_reactivation_reuses_the_row(app, client, make_user):
    made = create_licence(app, make_user, max_activations=1)
    assert _activate(client, made, "box-1").status_code == 201
    assert _activate(client, made, "box-2").status_code == 409
    response = client.post(DEACTIVATE, json={"key": made.key, "instance_id": "box-1"})
    assert response.status_code == 200, response.json
    assert response.json["deactivated"] == "box-1"
    assert response.json["activations"] == {"used": 0, "limit": 1}
    again = client.post(DEACTIVATE, json={"key": made.key, "instance_id": "box-1"})
    assert again.status_code == 404 and again.json["error"]["code"] == "ActivationNotFound"
    assert _activate(client, made, "box-2").status_code == 201
    assert _activate(client, made, "box-2").status_code == 200
    assert (
        client.post(DEACTIVATE, json={"key": made.key, "instance_id": "box-2"}).status_code == 200
    )
    assert _activate(client, made, "box-1").status_code == 201  # freed earlier: active again
    with app.app_context():
        licence = db.session.get(Licence, made.id)
        states = {a.instance_id: a.deactivated_at is None for a in licence.activations}
    assert states == {"box-1": True, "box-2": False}
    body = client.post(VALIDATE, json={"key": made.key, "product": made.product_slug}).json
    assert body["activations"] == {"used": 1, "limit": 1}  # the freed instance is not counted


def test_unlimited_activations(app, client, make_user):
    made = create_licence(app, make_user, max_activations=None)
    for n in range(5):
        assert _activate(client, made, f"box-{n}").status_code == 201
    body = client.post(VALIDATE, json={"key": made.key, "product": made.product_id}).json
    assert body["activations"] == {"used": 5, "limit": None}


def test_deactivating_works_on_a_disabled_licence(app, client, make_user):
    made = create_licence(app, make_user)
    assert _activate(client, made, "box-1").status_code == 201
    with app.app_context():
        db.session.get(Licence, made.id).status = "disabled"
        db.session.commit()
    response = client.post(DEACTIVATE, json={"key": made.key, "instance_id": "box-1"})
    assert response.status_code == 200
    assert response.json["valid"] is False


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "key",
        {},
        {"key": ""},
        {"key": 12, "product": 1},
        {"key": "APM-x", "product": True},
        {"key": "APM-x", "product": 0},
        {"key": "APM-x", "product": 2**40},
        {"key": "APM-x", "product": ["a"]},
        {"key": "APM-x", "product": "  "},
        {"key": "A" * 101, "product": "p"},
    ],
)
def test_bad_bodies_are_400(app, client, body):
    response = client.post(VALIDATE, json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "BadRequestBody"


def test_not_json_is_400(app, client):
    response = client.post(VALIDATE, data="{not json", content_type="application/json")
    assert response.status_code == 400
    response = client.post(VALIDATE, data={"key": "x", "product": "y"})
    assert response.status_code == 400
    assert "application/json" in response.json["error"]["message"]


@pytest.mark.parametrize("instance", [None, "", "x" * 129, "tab\there", "line\nbreak"])
def test_bad_instance_ids_are_400(app, client, make_user, instance):
    made = create_licence(app, make_user)
    response = client.post(
        ACTIVATE, json={"key": made.key, "product": made.product_id, "instance_id": instance}
    )
    assert response.status_code == 400


def test_the_api_needs_no_csrf_token_and_answers_json_to_wrong_methods(app, client):
    # The test app keeps CSRF on (the conftest app is not WTF_CSRF_ENABLED=False).
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    response = client.get(VALIDATE)
    assert response.status_code == 405 and response.is_json


def test_rate_limit_is_429_in_json(tmp_path):
    from tests.conftest import local_env

    app = create_app(env=local_env(tmp_path, LICENCE_API_RATE_LIMIT="3 per minute"))
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    client = app.test_client()
    statuses = [
        client.post(VALIDATE, json={"key": generate_key(), "product": 1}).status_code
        for _ in range(3)
    ]
    assert statuses == [404, 404, 404]
    # The three endpoints share one budget per address.
    response = client.post(DEACTIVATE, json={"key": generate_key(), "instance_id": "x"})
    assert response.status_code == 429
    assert response.is_json and response.json["error"]["status"] == 429
    assert "3 per 1 minute" in response.json["error"]["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60  # when the minute's window resets
    with app.app_context():
        db.engine.dispose()
