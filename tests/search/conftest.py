"""Search fixtures: every search test runs once per backend (PostgreSQL's only on the
PostgreSQL pass), on a fresh index, with a product factory that also indexes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from app import create_app
from app.search.backend import search_backend
from tests.catalog.factories import create_product


def _env_of(app: Flask, **overrides: str) -> dict[str, str]:
    """The settings ``app`` was built from (the session app's), with ``overrides``."""
    config = app.config["APP_CONFIG"]
    return {
        "APP_ENV": config.env,
        "SECRET_KEY": config.secret_key,
        "DATABASE_URL": config.database_url,
        "REDIS_URL": config.redis_url or "",
        "SMTP_URL": config.smtp_url or "",
        "STORAGE_DIR": config.storage_dir,
        "SEARCH_INDEX_DIR": config.search_index_dir,
        "BASE_URL": config.base_url,
        "RATELIMIT_STORAGE_URI": config.ratelimit_storage_uri,
        "LOG_LEVEL": config.log_level,
        **overrides,
    }


@pytest.fixture(scope="session")
def twins() -> Iterator[dict[str, Flask]]:
    """Apps built for a backend other than the session app's, kept for the session."""
    built: dict[str, Flask] = {}
    yield built
    from app.extensions import db

    for twin in built.values():
        with twin.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session", params=["whoosh", "postgres"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(app: Flask, backend_name: str, twins: dict[str, Flask]) -> Flask:
    """The app under test: the session app (Whoosh), or its twin on SEARCH_BACKEND=postgres
    (same database, Redis and folders)."""
    if backend_name == app.config["APP_CONFIG"].search_backend:
        return app
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the PostgreSQL search backend needs TEST_DATABASE_URL (PostgreSQL pass)")
    if backend_name not in twins:
        twins[backend_name] = create_app(env=_env_of(app, SEARCH_BACKEND=backend_name))
    return twins[backend_name]


@pytest.fixture
def backend(app: Flask):
    with app.app_context():
        return search_backend()


@pytest.fixture
def index_path(app: Flask, backend) -> Iterator[None]:
    """An empty index (Whoosh: a fresh generation; PostgreSQL: no rows)."""
    with app.app_context():
        backend.rebuild([])
    yield
    if backend.name == "whoosh":
        backend.close()


@pytest.fixture
def make_product(app, make_user, index_path) -> Callable[..., int]:
    """Create an approved product and index it as the search job would; return its id."""

    from app.search import services

    def make(title: str = "Product", index: bool = True, **fields) -> int:
        product_id = create_product(app, make_user, title, **fields)
        if index:
            with app.app_context():
                services.sync_product(product_id)
        return product_id

    return make
