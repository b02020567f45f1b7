"""Access rules for the core routes (see tests/test_access.py)."""

RULES = [
    ("GET", "/", {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}),
    ("GET", "/about", {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}),
    ("GET", "/healthz", {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}),
]
