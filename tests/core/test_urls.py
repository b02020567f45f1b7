"""Remembered url_for: the same URLs as flask.url_for, whatever the request's root or host."""

from __future__ import annotations

import flask
import pytest
from werkzeug.routing import BuildError

from app import urls

CASES = [
    ("catalog.product_GET", {"slug": "slack-lead-alerts"}),
    ("catalog.product_GET", {"slug": "ünïcode & spaces/?"}),
    ("search.search_GET", {"q": "crm sync", "page": 2}),
    ("search.search_GET", {"q": None}),
    ("catalog.media_GET", {"name": "abc.png", "_external": True}),
    ("static", {"filename": "css/app.css"}),
    ("core.home", {}),
]


@pytest.mark.parametrize(
    "base", ["http://localhost/", "https://shop.example/", "http://localhost/prefix/"]
)
def test_same_urls_as_flask(app, base):
    for _round in range(2):  # the second round comes from memory
        with app.test_request_context("/", base_url=base):
            for endpoint, values in CASES:
                assert urls.url_for(endpoint, **values) == flask.url_for(endpoint, **values)


def test_remembers_per_request_root(app):
    cached = app.extensions["url_cache"]
    cached.cache_clear()
    with app.test_request_context("/", base_url="http://localhost/"):
        first = urls.url_for("core.home")
        assert urls.url_for("core.home") == first == "/"
        assert cached.cache_info().hits == 1
    with app.test_request_context("/", base_url="http://localhost/shop/"):
        assert urls.url_for("core.home") == "/shop/"  # another root: built, not remembered
    with app.test_request_context("/", base_url="https://other.example/"):
        assert urls.url_for("core.home", _external=True) == "https://other.example/"
    assert cached.cache_info().misses == 3


def test_equal_values_of_other_types_are_other_urls(app):
    with app.test_request_context("/"):
        for values in ({"page": 1}, {"page": True}, {"page": 1.0}, {"q": 0}, {"q": False}):
            assert urls.url_for("search.search_GET", **values) == flask.url_for(
                "search.search_GET", **values
            )


def test_requests_sharing_an_app_context_keep_their_own_root(app):
    with app.app_context():  # pushed around several requests, as jobs and tests do
        for host in ("https://a.example/", "https://b.example/", "https://a.example/"):
            with app.test_request_context("/", base_url=host):
                assert urls.url_for("core.home", _external=True) == host


def test_what_it_does_not_remember_goes_to_flask(app):
    cached = app.extensions["url_cache"]
    cached.cache_clear()
    with app.test_request_context("/", base_url="http://localhost/"):
        assert urls.url_for("core.home", _anchor="top") == "/#top"
        assert urls.url_for("search.search_GET", q=["a", "b"]) == "/search?q=a&q=b"
    with app.test_request_context("/about"):  # ".name" resolves against the blueprint
        assert urls.url_for(".about_GET") == flask.url_for(".about_GET") == "/about"
    assert cached.cache_info().currsize == 0
    with app.test_request_context("/"), pytest.raises(BuildError):
        urls.url_for("no.such_endpoint")


def test_templates_use_their_apps_memory(app):
    cached = app.extensions["url_cache"]
    cached.cache_clear()
    with app.test_request_context("/", base_url="http://localhost/shop/"):
        html = app.jinja_env.from_string("{{ url_for('core.home') }} {{ url_for('core.home') }}")
        assert html.render() == "/shop/ /shop/"
    assert (cached.cache_info().misses, cached.cache_info().hits) == (1, 1)


def test_the_app_has_nothing_that_makes_a_url_depend_on_more_than_its_key(app):
    # url_defaults, build-error handlers and host matching read the request or the app at
    # build time: a remembered URL would be wrong. Adding one must change urls.py first.
    assert not app.url_default_functions and not app.url_build_error_handlers
    assert not app.url_map.host_matching and not app.subdomain_matching
