"""Test data for versions: a vendor's draft listing, uploads through the real service, and a
clean current version for tests that only need one (a listing to submit)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

from flask import Flask

from app.extensions import db
from app.timeutil import utcnow
from tests.catalog.factories import create_product
from tests.n8n.helpers import fixture_bytes
from tests.n8n.secret_samples import fake_secrets


def draft(app: Flask, make_user: Any, **fields: Any) -> int:
    """A draft n8n listing of a new vendor; its id."""
    fields.setdefault("description_md", "It does things.")
    return create_product(app, make_user, status=fields.pop("status", "draft"), **fields)


def owner_of(product_id: int):
    from app.catalog.models import Product

    product = db.session.get(Product, product_id)
    return product.vendor.user


def upload(
    product_id: int, data: bytes, filename: str = "flow.json", label: str = "1.0", **kwargs: Any
):
    """Upload ``data`` as the product's owner and commit (inside an app context); the version."""
    from app.assets import services
    from app.catalog.models import Product

    product = db.session.get(Product, product_id)
    from app.outbox.services import dispatch_committed

    version = services.upload_version(
        owner_of(product_id), product, io.BytesIO(data), filename, label, "Changes.", **kwargs
    )
    db.session.commit()
    dispatch_committed()  # as a request does after its commit: the scan job is enqueued
    return version


def secret_workflow() -> bytes:
    """A workflow whose HTTP node carries a planted Bearer token and an API key."""
    secrets = fake_secrets()
    document = json.loads(fixture_bytes("editor_download.json"))
    document["nodes"].append(
        {
            "id": "planted",
            "name": "Call the API",
            "type": "n8n-nodes-base.httpRequest",
            "typeVersion": 4,
            "position": [900, 300],
            "parameters": {
                "url": "https://api.example.com/v1/items",
                "headerParameters": {
                    "parameters": [
                        {"name": "Authorization", "value": "Bearer " + secrets["github_token"]}
                    ]
                },
                "apiKey": secrets["openai_api_key"],
            },
        }
    )
    return json.dumps(document).encode()


def give_clean_version(app: Flask, product_id: int) -> int:
    """A clean, current version row straight in the table (for tests about other things,
    such as submitting the listing for review); its id."""
    with app.app_context():
        return clean_version_here(product_id)


def clean_version_here(product_id: int) -> int:
    """give_clean_version in the current app context and session."""
    from app.assets.models import ProductVersion
    from app.catalog.models import Product

    product = db.session.get(Product, product_id)
    version = ProductVersion(
        product_id=product_id,
        label="1.0",
        kind="n8n_workflow",
        filename="flow.json",
        size=10,
        sha256="0" * 64,
        storage_key="versions/files/" + "0" * 64,
        status="clean",
        reasons=[],
        findings=[],
        analysis={},
        scanner="clamd test",
        scanned_at=utcnow(),
        published_at=utcnow(),
    )
    db.session.add(version)
    db.session.flush()
    product.current_version_id = version.id
    db.session.commit()
    return version.id


def stored_version_here(
    product_id: int,
    data: bytes,
    filename: str = "flow.json",
    label: str = "1.0",
    *,
    status: str = "clean",
    current: bool = True,
) -> int:
    """``data`` stored where uploads go (under its hash) and a version row of it, made
    current when ``current`` (in the current app context); its id. For tests about what
    happens after the scan (downloads, deletion)."""
    from app.assets.models import ProductVersion
    from app.assets.services import FILES_PREFIX
    from app.catalog.models import Product
    from app.storage import store_stream

    stored = store_stream(FILES_PREFIX, io.BytesIO(data), "application/octet-stream")
    version = ProductVersion(
        product_id=product_id,
        label=label,
        changelog_md=f"Changes in {label}.",
        kind="n8n_workflow",
        filename=filename,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        status=status,
        reasons=[],
        findings=[],
        analysis={},
        scanner="clamd test",
        scanned_at=utcnow(),
        published_at=utcnow() if status == "clean" else None,
    )
    db.session.add(version)
    db.session.flush()
    if current:
        db.session.get(Product, product_id).current_version_id = version.id
    db.session.commit()
    return version.id


def with_clamd(app: Flask, clamd: Any, monkeypatch: Any, **settings: Any) -> None:
    """Point the app's settings at a test clamd (as CLAMD_SOCKET would) for one test."""
    config = replace(app.config["APP_CONFIG"], clamd_socket=clamd.socket_path, **settings)
    monkeypatch.setitem(app.config, "APP_CONFIG", config)
