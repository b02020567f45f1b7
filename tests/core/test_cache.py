"""The in-process fragment cache used without Redis."""

from __future__ import annotations

from app.cache import LocalCache
from tests.conftest import local_env


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_at_their_own_time():
    clock = Clock()
    cache = LocalCache(threshold=10, default_timeout=60, timer=clock)
    cache.set("short", "a", timeout=5)
    cache.set("default", "b")
    cache.set("forever", "c", timeout=0)
    clock.now += 6
    assert cache.get("short") is None
    assert not cache.has("short")
    assert cache.get("default") == "b"
    clock.now += 60
    assert cache.get("default") is None
    assert cache.get("forever") == "c"


def test_full_cache_drops_the_least_recently_used():
    cache = LocalCache(threshold=3)
    for key in "abc":
        cache.set(key, key.upper())
    assert cache.get("a") == "A"  # now b is the least recently used
    cache.set("d", "D")
    assert [cache.get(key) for key in "abcd"] == ["A", None, "C", "D"]


def test_add_delete_and_clear():
    cache = LocalCache(threshold=3)
    assert cache.add("k", 1)
    assert not cache.add("k", 2)
    assert cache.get("k") == 1
    assert cache.delete("k")
    assert not cache.delete("k")
    cache.set("x", "y")
    cache.clear()
    assert cache.get("x") is None


def test_an_app_without_redis_caches_fragments_in_it(app, tmp_path):
    from app import create_app
    from app.extensions import cache

    local = create_app(env=local_env(tmp_path))
    backend = local.extensions["cache"][cache]
    assert isinstance(backend, LocalCache)
    assert backend._entries.maxsize == local.config["CACHE_THRESHOLD"]
    assert not isinstance(app.extensions["cache"][cache], LocalCache)  # Redis configured
