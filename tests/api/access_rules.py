"""Access rules for the JSON API (see tests/test_access.py).

The licence key is the API's credential, not the session: every role gets the same answer,
here 400 (the matrix posts a form, not a JSON object).
"""

ALL_200 = {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}
ALL_400 = {"anonymous": 400, "customer": 400, "vendor": 400, "admin": 400}

RULES = [
    ("POST", "/api/v1/licenses/validate", ALL_400),
    ("POST", "/api/v1/licenses/activate", ALL_400),
    ("POST", "/api/v1/licenses/deactivate", ALL_400),
    ("GET", "/api/v1/openapi.json", ALL_200),
]
