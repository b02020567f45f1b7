"""The OpenAPI document: a valid OpenAPI 3.1 document, served by the app, naming every route of
the api blueprint, with examples that match their schemas, and real answers that match too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from app.licensing.keys import generate_key
from tests.licensing.factories import create_licence

DOCUMENT = Path(__file__).resolve().parents[2] / "app" / "api" / "openapi.json"
PREFIX = "/api/v1"
BASE = "urn:autopilot-openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for ``schema`` (a media type's schema) whose "#/components/..." references
    resolve inside the document."""
    registry = Registry().with_resource(BASE, DRAFT202012.create_resource(document))
    if set(schema) == {"$ref"}:
        schema = {"$ref": BASE + schema["$ref"]}
    return Draft202012Validator(schema, registry=registry)


def _media(document: dict[str, Any]):
    """Every (where, schema, example) in the document's bodies and answers."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            parts = [("request", operation.get("requestBody", {}))]
            parts += [(f"response {code}", r) for code, r in operation["responses"].items()]
            for where, part in parts:
                for media in part.get("content", {}).values():
                    examples = [media["example"]] if "example" in media else []
                    examples += [e["value"] for e in media.get("examples", {}).values()]
                    for example in examples:
                        yield f"{method.upper()} {path} {where}", media["schema"], example


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_example_matches_its_schema(document):
    checked = 0
    for where, schema, example in _media(document):
        errors = list(_validator(document, schema).iter_errors(example))
        assert not errors, f"{where}: {errors[0].message}"
        checked += 1
    assert checked >= 15


def test_a_wrong_example_would_fail(document):
    # The check above can fail: a summary missing a field does not match.
    schema = {"$ref": "#/components/schemas/LicenceStatus"}
    assert not _validator(document, schema).is_valid({"valid": True})


def test_every_api_route_is_documented(app, document):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            assert rule.rule.startswith(PREFIX)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((rule.rule.removeprefix(PREFIX), method.lower()))
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes and routes == documented


def test_the_app_serves_the_document(client, document):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == document


def test_real_answers_match_the_documented_schemas(app, client, make_user, document):
    made = create_licence(app, make_user, max_activations=1)
    paths = document["paths"]

    def check(path: str, body: dict[str, Any], status: int) -> None:
        response = client.post(PREFIX + path, json=body)
        assert response.status_code == status, response.json
        answer = paths[path]["post"]["responses"][str(status)]["content"]["application/json"]
        errors = list(_validator(document, answer["schema"]).iter_errors(response.json))
        assert not errors, f"{path} {status}: {errors[0].message}"

    check("/licenses/validate", {"key": made.key, "product": made.product_id}, 200)
    check("/licenses/validate", {"key": generate_key(), "product": made.product_id}, 404)
    check("/licenses/validate", {"key": "APM-00000", "product": made.product_id}, 422)
    check("/licenses/validate", {"product": made.product_id}, 400)
    body = {"key": made.key, "product": made.product_slug, "instance_id": "box-1"}
    check("/licenses/activate", body, 201)
    check("/licenses/activate", body, 200)
    check("/licenses/activate", {**body, "instance_id": "box-2"}, 409)
    check("/licenses/deactivate", {"key": made.key, "instance_id": "box-1"}, 200)
    check("/licenses/deactivate", {"key": made.key, "instance_id": "box-1"}, 404)
