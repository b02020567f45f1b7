"""Access rules for signed download links (see tests/test_access.py).

The link is the permission: the route checks only its signature and expiry, so a valid link
works for anyone holding it and a forged one for nobody. Who gets a link is decided where
it is made (entitlements come with the commerce work).
"""

import io
from urllib.parse import urlsplit

from app.storage import store_stream

ALL_200 = {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}
ALL_404 = {"anonymous": 404, "customer": 404, "vendor": 404, "admin": 404}


def downloads_file_GET(app, make_user):
    with app.test_request_context():
        stored = store_stream(
            "files", io.BytesIO(b"%PDF-1.7 access matrix\n%%EOF\n"), "application/pdf"
        )
        url = app.extensions["storage"].download_url(stored.key, "guide.pdf")
    return urlsplit(url).path


RULES = [
    ("GET", downloads_file_GET, ALL_200),
    ("GET", "/downloads/not-a-signed-token", ALL_404),
]
