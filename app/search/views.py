"""Search pages: results (page and htmx fragment from one URL), result clicks, admin analytics."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from app.accounts.permissions import Permission, permission_required
from app.extensions import db
from app.htmx import render
from app.search import services
from app.timeutil import utcnow

bp = Blueprint("search", __name__)

REPORT_DAYS = (1, 7, 30, 90)
QUERY_ID_MARK = "0000000000"  # digits, so url_for keeps it as is


@bp.get("/search")
def search_GET():
    params = services.parse_params(request.args)
    result, html = services.remembered(
        ("results", params.cache_key()),
        lambda: _results(params),
        lambda entry: not entry[0].unavailable,
    )
    query_id = services.record_search(result)
    db.session.commit()
    if result.unavailable:
        services.request_rebuild()
    # The cached HTML is the same for everyone; only the click links carry this search's id.
    html = html.replace(f"qid={QUERY_ID_MARK}", f"qid={query_id or 0}")
    return render(
        "search/search.html",
        "search_results",
        results_html=Markup(html),  # noqa: S704 - a rendered template, escaped when built
        params=params,
        sorts=services.SORTS,
    )


def _results(params: services.SearchParams) -> tuple[services.SearchResult, str]:
    result = services.search(params)
    html = render_template(
        "search/_results.html", result=result, params=params, query_id=QUERY_ID_MARK
    )
    return result, html


@bp.get("/search/click/<id:product_id>")
def click_GET(product_id: int):
    query_id = request.args.get("qid", type=int)
    position = request.args.get("pos", type=int)
    slug = services.record_click(product_id, query_id, position)
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
