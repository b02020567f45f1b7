"""SEARCH_BACKEND: Whoosh by default, PostgreSQL only on a PostgreSQL database, nothing else."""

import pytest

from app import create_app
from app.config import Config, ConfigError
from app.search.whoosh_backend import WhooshBackend
from tests.conftest import local_env


def test_whoosh_is_the_default_and_lives_in_app_extensions(tmp_path):
    assert Config.from_env({}, str(tmp_path)).search_backend == "whoosh"
    app = create_app(env=local_env(tmp_path))
    assert isinstance(app.extensions["search"], WhooshBackend)
    assert create_app(env=local_env(tmp_path)).extensions["search"] is not app.extensions["search"]


def test_postgres_needs_a_postgresql_database(tmp_path):
    with pytest.raises(ConfigError, match="SEARCH_BACKEND=postgres needs DATABASE_URL"):
        create_app(env=local_env(tmp_path, SEARCH_BACKEND="postgres"))
    config = Config.from_env(
        {"SEARCH_BACKEND": "Postgres", "DATABASE_URL": "postgresql://u@127.0.0.1/db"},
        str(tmp_path),
    )
    assert config.search_backend == "postgres"


@pytest.mark.parametrize("name", ["elasticsearch", "sqlite", "whoosh2"])
def test_unknown_backends_refuse_to_start(tmp_path, name):
    with pytest.raises(ConfigError, match="SEARCH_BACKEND must be one of whoosh, postgres"):
        create_app(env=local_env(tmp_path, SEARCH_BACKEND=name))


def test_search_rate_limit_is_a_setting(tmp_path):
    from flask_migrate import upgrade

    app = create_app(env=local_env(tmp_path, SEARCH_RATE_LIMIT="2 per minute"))
    with app.app_context():
        upgrade()
    client = app.test_client()
    assert [client.get("/search?q=x").status_code for _ in range(3)][2] == 429
