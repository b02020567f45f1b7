"""Search pages: results (page and htmx fragments from one URL), result clicks, analytics."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from app import urls
from app.accounts.permissions import Permission, permission_required
from app.cache import cached
from app.extensions import db, limiter
from app.htmx import is_fragment_request, render
from app.search import services
from app.search.backend import SORTS, Hit, SearchResult
from app.timeutil import utcnow

bp = Blueprint("search", __name__)

REPORT_DAYS = (1, 7, 30, 90)
# Per client address: typing sends a request per pause, so a person stays well inside these;
# a script padding the analytics does not. Results are SEARCH_RATE_LIMIT (a setting: a
# benchmark or a shared office address may need more).
CLICK_LIMIT = "30 per minute; 300 per hour"


def _search_limit() -> str:
    return current_app.config["APP_CONFIG"].search_rate_limit


# Elements whose htmx requests are as-you-type (see services.record_search).
TYPING = {"search-q", "header-q"}
SUGGESTIONS = 5


@bp.get("/search")
@limiter.limit(_search_limit)
def search_GET():
    fragment = is_fragment_request()
    if fragment and request.headers.get("HX-Target") == "header-suggest":
        params = services.parse_params(request.args, per_page=SUGGESTIONS)
        result = services.search_page(params, settled=False)
        return render(
            "search/search.html",
            "header_suggest",
            result=result,
            params=params,
            clicks=click_links(result.hits, params.q, typed=True),
        )
    params = services.parse_params(request.args)
    typing = fragment and request.headers.get("HX-Trigger") in TYPING
    result = services.search_page(params, settled=not typing)
    db.session.commit()
    results = results_fragment(result, typing)
    if fragment:
        return make_response(results)
    return render("search/search.html", None, results=results, params=params, sorts=SORTS)


def results_fragment(result: SearchResult, typing: bool) -> Markup:
    """The results block (facets, hits, pagination): the same for every visitor, so a result
    the backend keeps (``result.token``) is rendered once, into the fragment cache.

    Rendered on its own, then placed: included in the page, every piece of it passed up
    through each enclosing block's generator, a quarter of the page's rendering."""

    def build() -> Markup:
        return Markup(  # noqa: S704 - a template's output, escaped as it was rendered
            render_template(
                "search/_results.html",
                result=result,
                clicks=click_links(result.hits, result.params.q, typed=typing),
                params=result.params,
            )
        )

    if result.token is None or result.unavailable:
        return build()
    return cached(f"search-results:{result.token}:{int(typing)}", build)


def click_links(hits: Iterable[Hit], query: str, typed: bool) -> dict[int, str]:
    """Each hit's link through ``click_GET``: its position and the query (``typed`` for
    as-you-type results, which were not logged). url_for builds each path; the shared part
    of the query string is encoded once: url_for encoding it for every hit cost a results
    page more than the rest of its hits' markup."""
    shared = urlencode([("q", query), *([("typed", "1")] if typed else [])]) if query else ""
    tail = f"&{shared}" if shared else ""
    return {
        hit.id: f"{urls.url_for('search.click_GET', product_id=hit.id)}?pos={hit.position}{tail}"
        for hit in hits
    }


@bp.get("/search/click/<id:product_id>")
@limiter.limit(CLICK_LIMIT)
def click_GET(product_id: int):
    slug = services.record_click(
        product_id,
        services.db_int(request.args.get("pos")),
        query=request.args.get("q"),
        typed=request.args.get("typed") == "1",
    )
    db.session.commit()
    # The target is built from the product, never taken from the request: no open redirect.
    return redirect(url_for("catalog.product_GET", slug=slug), code=303)


@bp.get("/admin/search")
@login_required
@permission_required(Permission.MODERATE)
def admin_GET():
    days = request.args.get("days", type=int)
    days = days if days in REPORT_DAYS else 30
    report = services.search_report(utcnow() - timedelta(days=days))
    return render("search/admin.html", None, report=report, days=days, choices=REPORT_DAYS)
