"""The access matrix: every route against anonymous, customer, vendor and admin.

Rules come from every tests/**/access_rules.py (a list RULES of
(method, url or callable(app, make_user) -> url, {role: expected status})).
A route missing from the rules fails the suite, so new routes must be added.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.conftest import csrf_token

ROLES = ("anonymous", "customer", "vendor", "admin")
TESTS = Path(__file__).resolve().parent


def _rules() -> list[tuple[str, object, dict[str, int]]]:
    rules = []
    for path in sorted(TESTS.rglob("access_rules.py")):
        module = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        rules.extend(importlib.import_module(module).RULES)
    return rules


RULES = _rules()


def _label(url: object) -> str:
    return url if isinstance(url, str) else getattr(url, "__name__", "callable")


CASES = [
    pytest.param(method, url, role, expected[role], id=f"{method} {_label(url)} as {role}")
    for method, url, expected in RULES
    for role in ROLES
]


@pytest.mark.parametrize(("method", "url", "role", "expected"), CASES)
def test_access(app, client, make_user, login_as, method, url, role, expected):
    if role != "anonymous":
        login_as(role)
    target = url if isinstance(url, str) else url(app, make_user)
    if method == "GET":
        response = client.get(target)
    else:
        # Anonymous pages carry no token (no session cookie); the login form does.
        page = "/login" if role == "anonymous" else "/"
        response = client.open(target, method=method, data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == expected, (
        f"{method} {target} as {role}: {response.status_code}, expected {expected}"
    )


def _pattern(url: str) -> str:
    return url.split("?")[0]


def test_every_route_is_in_the_matrix(app):
    covered = set()
    for method, url, _ in RULES:
        covered.add((method, _label(url)))
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                matched = any(
                    m == method and _matches(adapter, rule, method, u) for m, u in covered
                )
                assert matched, (
                    f"{method} {rule.rule} ({rule.endpoint}) is not in any access_rules.py"
                )


def _matches(adapter, rule, method: str, url_label: str) -> bool:
    if not url_label.startswith("/"):
        # A callable url: its __name__ must be the endpoint it reaches.
        return url_label == rule.endpoint.replace(".", "_")
    try:
        endpoint, _ = adapter.match(_pattern(url_label), method=method)
    except Exception:  # noqa: BLE001 - a 405/404 from the adapter means no match
        return False
    return endpoint == rule.endpoint
