"""Access rules for the search routes (see tests/test_access.py)."""

from tests.catalog.factories import create_product

ALL_200 = {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}


def search_click_GET(app, make_user):
    return f"/search/click/{create_product(app, make_user, 'Clicked')}?pos=1"


RULES = [
    ("GET", "/search?q=agent", ALL_200),
    ("GET", search_click_GET, {"anonymous": 303, "customer": 303, "vendor": 303, "admin": 303}),
    (
        "GET",
        "/search/click/999999",
        {"anonymous": 404, "customer": 404, "vendor": 404, "admin": 404},
    ),
    ("GET", "/admin/search", {"anonymous": 302, "customer": 403, "vendor": 403, "admin": 200}),
]
