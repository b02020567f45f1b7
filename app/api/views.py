"""The licence API: validate a key, activate it on an instance, free an instance; and the
OpenAPI document that describes it. JSON in and out; no cookies, so no CSRF token either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.errors import DomainError
from app.extensions import db, limiter
from app.forms import MAX_ID
from app.licensing import services
from app.licensing.services import MAX_INSTANCE_ID

bp = Blueprint("api", __name__, url_prefix="/api/v1")

HERE = Path(__file__).resolve().parent
MAX_KEY = 100  # a canonical key is 33 characters; typed ones carry spaces
MAX_SLUG = 90  # products.slug


class BadRequestBody(DomainError):
    status = 400
    message = "Send a JSON object with the fields this endpoint documents."


def _licence_limit() -> str:
    return current_app.config["APP_CONFIG"].licence_api_rate_limit


# One budget per client address for the three licence endpoints together.
licence_limit = limiter.shared_limit(_licence_limit, scope="licence-api")


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise BadRequestBody("Send a JSON object with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequestBody("The body is not a JSON object.")
    return data


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequestBody(f"'{name}' is required: a non-empty string.")
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        raise BadRequestBody(f"'{name}' must be at most {limit} printable characters.")
    return value


def _product(data: dict[str, Any]) -> str | int:
    value = data.get("product")
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_ID:
            raise BadRequestBody("'product' as an id must be a positive whole number.")
        return value
    if isinstance(value, str):
        return _text(data, "product", MAX_SLUG)
    raise BadRequestBody("'product' is required: the product's slug (a string) or its id.")


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/licenses/validate")
@licence_limit
def validate_POST():
    data = _body()
    return _json(services.validate_licence(_text(data, "key", MAX_KEY), _product(data)))


@bp.post("/licenses/activate")
@licence_limit
def activate_POST():
    data = _body()
    result = services.activate_instance(
        _text(data, "key", MAX_KEY),
        _product(data),
        _text(data, "instance_id", MAX_INSTANCE_ID),
    )
    db.session.commit()
    activation = result.activation
    payload = services.licence_summary(result.licence)
    payload["activation"] = {
        "instance_id": activation.instance_id,
        "created": result.created,
        "activated_at": services.iso_time(activation.created_at),
        "last_seen_at": services.iso_time(activation.last_seen_at),
    }
    return _json(payload, 201 if result.created else 200)


@bp.post("/licenses/deactivate")
@licence_limit
def deactivate_POST():
    data = _body()
    instance_id = _text(data, "instance_id", MAX_INSTANCE_ID)
    licence = services.deactivate_instance(_text(data, "key", MAX_KEY), instance_id)
    db.session.commit()
    payload = services.licence_summary(licence)
    payload["deactivated"] = instance_id
    return _json(payload)


@bp.get("/openapi.json")
def openapi_GET():
    response = Response((HERE / "openapi.json").read_bytes(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"  # readable by API tools anywhere
    return response
