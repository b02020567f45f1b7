"""The PostgreSQL backend's own concern: answers kept for SEARCH_REFRESH_SECONDS."""

from __future__ import annotations

import pytest

from app.search import services
from app.search.postgres_backend import PostgresBackend
from tests.search.test_backends import doc


def test_answers_are_kept_until_a_write_or_refresh_seconds(app, backend_name):
    if backend_name != "postgres":
        pytest.skip("the PostgreSQL backend's cache")
    params = services.parse_params({"q": "kept"})
    with app.app_context():
        reader = PostgresBackend(refresh_seconds=60)
        writer = PostgresBackend()  # another process, as the search worker would be
        writer.rebuild([doc(title="Kept one")])
        first = reader.search(params)
        assert first.total == 1 and reader.search(params) is first  # kept
        writer.index([doc(title="Kept two")])
        assert reader.search(params).total == 1  # another process's write: not yet
        assert PostgresBackend(refresh_seconds=0).search(params).total == 2
        reader.index([doc(title="Kept three")])  # this process's own write: at once
        assert reader.search(params).total == 3
        writer.rebuild([])
