"""url_for for templates, remembered per app: werkzeug builds a URL in about 7 µs and every page
builds a dozen or more, nearly all the same on every page (the header's links, static files,
the search page's click links). Removed with the other caches of issue 11 and brought back
when the pages benchmark still showed them: a search page builds 38 URLs, about 0.25 ms."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask
from flask import Flask, current_app, has_request_context, request

# Distinct URLs a process keeps; user input (a search query in a pagination link) can only
# push older ones out.
URL_CACHE_SIZE = 8192


def init_app(app: Flask) -> None:
    cache = functools.lru_cache(maxsize=URL_CACHE_SIZE)(_build)
    app.extensions["url_cache"] = cache
    # The templates' url_for holds its app's cache: looking it up through current_app cost
    # a third of a remembered URL.
    app.jinja_env.globals["url_for"] = functools.partial(remembered_url_for, cache)


def _build(root: str, endpoint: str, items: tuple[tuple[str, type, Any], ...]) -> str:
    # ``root`` is only a key: the current request, whose root it is, builds the URL.
    return flask.url_for(endpoint, **{key: value for key, _type, value in items})


def _root_url() -> str:
    # Werkzeug works root_url out anew on every read (scheme, host, port, script root). Kept
    # in the request's environ: ``g`` may outlive a request (an app context pushed around
    # several, as in tests and jobs).
    environ = request.environ
    if "app.root_url" not in environ:
        environ["app.root_url"] = request.root_url
    return environ["app.root_url"]


def url_for(endpoint: str, **values: Any) -> str:
    """flask.url_for, from the current app's memory (see remembered_url_for)."""
    return remembered_url_for(current_app.extensions["url_cache"], endpoint, **values)


def remembered_url_for(cached: Callable[..., str], endpoint: str, **values: Any) -> str:
    """flask.url_for, from ``cached`` for the same endpoint, values and request root.

    A URL depends on the map (fixed once the app serves), the values and the request's root:
    its script root, or for ``_external`` its scheme and host too. Relative endpoints
    (".name" depends on the blueprint), other ``_`` options, unhashable values and calls
    outside a request go to flask.url_for every time. This assumes what the app does not use:
    url_defaults or build-error handlers that read the request, subdomain or host matching.
    """
    if (
        endpoint[:1] == "."
        or not has_request_context()
        or any(key[:1] == "_" and key != "_external" for key in values)
    ):
        return flask.url_for(endpoint, **values)
    # SCRIPT_NAME decides the script root, and reads faster than werkzeug works that out.
    root = _root_url() if values.get("_external") else request.environ.get("SCRIPT_NAME", "")
    # Each value's type is in the key: 1, 1.0 and True are equal keys but other URLs. The
    # order is kept: query arguments come out in it.
    items = tuple((key, type(value), value) for key, value in values.items())
    try:
        return cached(root, endpoint, items)
    except TypeError:  # an unhashable value (a list of query arguments)
        return flask.url_for(endpoint, **values)
