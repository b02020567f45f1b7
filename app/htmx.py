"""One URL serves the page and its fragment: render a named block for htmx, the page otherwise."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_fragment_request() -> bool:
    """A real htmx swap; boosted and history-restore requests want the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render ``block`` of ``template`` for an htmx request and the whole page otherwise."""
    if block and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def redirect_to(location: str, status: int = 303) -> Response:
    """A redirect htmx follows as a page load (HX-Redirect), never a 302 swapped into a div."""
    if is_fragment_request():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=status)
