"""url_for for templates, remembered per app: werkzeug builds a URL in about 10 µs and a product
page builds twenty, nearly all of them the same on every page (navigation, categories, tags,
stores, similar products)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask
from flask import Flask, current_app, g, has_request_context, request

# Distinct URLs a process keeps; user input (a search query in a pagination link) can only
# push older ones out.
URL_CACHE_SIZE = 8192


def init_app(app: Flask) -> None:
    app.extensions["url_cache"] = functools.lru_cache(maxsize=URL_CACHE_SIZE)(_build)
    app.jinja_env.globals["url_for"] = url_for


def _build(root: str, endpoint: str, items: tuple[tuple[str, Any], ...]) -> str:
    # ``root`` is only a key: the current request, whose root it is, builds the URL.
    return flask.url_for(endpoint, **dict(items))


def _root_url() -> str:
    # Werkzeug works root_url out anew on every read (scheme, host, port, script root).
    if "root_url" not in g:
        g.root_url = request.root_url
    return g.root_url


def url_for(endpoint: str, **values: Any) -> str:
    """flask.url_for, from the app's memory for the same endpoint, values and request root.

    A URL depends on the map (fixed once the app serves), the values and the request's root:
    its script root, or for ``_external`` its scheme and host too. Relative endpoints
    (".name" depends on the blueprint), other ``_`` options, unhashable values and calls
    outside a request go to flask.url_for every time.
    """
    cached: Callable[..., str] | None = current_app.extensions.get("url_cache")
    if (
        cached is None
        or endpoint[:1] == "."
        or not has_request_context()
        or any(key[:1] == "_" and key != "_external" for key in values)
    ):
        return flask.url_for(endpoint, **values)
    root = _root_url() if values.get("_external") else request.script_root
    try:
        return cached(root, endpoint, tuple(values.items()))  # order: query arguments keep it
    except TypeError:  # an unhashable value (a list of query arguments)
        return flask.url_for(endpoint, **values)
