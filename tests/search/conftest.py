"""Search fixtures: a fresh index per test and a product factory that also indexes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.catalog.factories import create_product


def _wipe(path: Path) -> None:
    from app.search import index as search_index

    search_index.reset_searchers()
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    for generation in path.parent.glob(f"{path.name}{search_index.GENERATION_MARK}*"):
        shutil.rmtree(generation, ignore_errors=True)


@pytest.fixture
def index_path(app) -> Iterator[Path]:
    from app.search import index as search_index

    path = Path(app.config["APP_CONFIG"].search_index_dir)
    _wipe(path)
    search_index.write_generation(path, [])
    yield path
    _wipe(path)


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
