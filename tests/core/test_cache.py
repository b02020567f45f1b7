"""The fragment cache: one TTL, one version, per app, thread-safe, in-process or in Redis."""

from __future__ import annotations

import random
import sys
import threading

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.cache import FragmentCache, bump_catalog_version, cached, catalog_version
from app.extensions import db
from app.vendors.models import VendorProfile
from tests.catalog.factories import create_product, slug_of
from tests.conftest import local_env, user_maker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def local_app(tmp_path) -> Flask:
    return create_app(env=local_env(tmp_path))


def _counting(value: str):
    calls = []

    def build() -> str:
        calls.append(value)
        return value

    return build, calls


def test_entries_live_one_timeout_and_the_least_recently_used_goes(local_app):
    clock = Clock()
    local_app.extensions["fragments"] = FragmentCache(seconds=60, size=3, timer=clock)
    with local_app.app_context():
        build, calls = _counting("A")
        assert cached("a", build) == cached("a", build) == "A" and calls == ["A"]
        clock.now += 61
        assert cached("a", build) == "A" and calls == ["A", "A"]  # expired: built again
        for key in "bcd":  # "a" is now the least recently used of four
            cached(key, lambda key=key: key.upper())
        assert cached("a", lambda: "rebuilt") == "rebuilt"
        assert cached("d", lambda: "not rebuilt") == "D"


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_a_new_catalog_version_leaves_every_older_entry_behind(app, local_app, backend):
    target = local_app if backend == "local" else app
    with target.app_context():
        before = catalog_version()
        assert cached("k", lambda: "old") == "old"
        assert cached("k", lambda: "unused") == "old"
        assert bump_catalog_version() != before
    with target.app_context():  # another request reads the new version
        assert cached("k", lambda: "new") == "new"


def test_two_apps_in_one_process_share_no_cached_pages_or_facts(tmp_path):
    """Each app has its own database with a store of id 1 under a different name."""
    names = {}
    apps = []
    for n, name in enumerate(("Alpha Store", "Beta Store")):
        folder = tmp_path / f"app{n}"
        folder.mkdir()
        one = create_app(env=local_env(folder))
        with one.app_context():
            upgrade()
        product_id = create_product(
            one, user_maker(one), "Same slug", store_name=name, slug="same-slug"
        )
        with one.app_context():
            store = db.session.scalar(select(VendorProfile))
            assert store.id == 1 and product_id == 1
        names[one] = name
        apps.append(one)
    slug = slug_of(apps[0], 1)
    for _round in range(2):
        for one in apps:
            page = one.test_client().get(f"/products/{slug}").get_data(as_text=True)
            other = next(name for app, name in names.items() if app is not one)
            assert names[one] in page and other not in page
        for one in apps:
            home = one.test_client().get("/").get_data(as_text=True)
            other = next(name for app, name in names.items() if app is not one)
            assert names[one] in home and other not in home
    for one in apps:
        with one.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_many_threads_get_what_they_built_and_nothing_raises(app, local_app, backend):
    target = local_app if backend == "local" else app
    if backend == "local":
        # Small, so threads keep evicting each other's entries.
        target.extensions["fragments"] = FragmentCache(size=16)
    errors: list[BaseException] = []
    wrong: list[tuple[str, str]] = []
    start = threading.Barrier(16)

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(500):
                with target.app_context():  # one request: one version read
                    if rng.random() < 0.05:
                        bump_catalog_version()
                    key = f"key-{rng.randrange(40)}"
                    value = cached(key, lambda key=key: f"value of {key}")
                    if value != f"value of {key}":
                        wrong.append((key, value))
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(16)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and wrong == []
