"""Access rules for downloads (see tests/test_access.py).

Storage's own app-signed links are the permission: the route checks only their signature and
expiry, so a valid one works for anyone holding it and a forged one for nobody. A buyer's
download starts from their licence (another user's: 404) and its link is made for their
account alone (another account: 404).
"""

import io
from urllib.parse import urlsplit

from app.downloads.services import LicensedLinkSigner
from app.storage import store_stream
from tests.licensing.factories import create_licence

ALL_200 = {"anonymous": 200, "customer": 200, "vendor": 200, "admin": 200}
ALL_404 = {"anonymous": 404, "customer": 404, "vendor": 404, "admin": 404}
OTHERS = {"anonymous": 302, "customer": 404, "vendor": 404, "admin": 404}


def downloads_file_GET(app, make_user):
    with app.test_request_context():
        stored = store_stream(
            "files", io.BytesIO(b"%PDF-1.7 access matrix\n%%EOF\n"), "application/pdf"
        )
        url = app.extensions["storage"].download_url(stored.key, "guide.pdf")
    return urlsplit(url).path


def downloads_start_POST(app, make_user):
    return f"/library/{create_licence(app, make_user).id}/download"


def downloads_licensed_GET(app, make_user):
    someone = make_user("customer")
    token = LicensedLinkSigner(app.config["SECRET_KEY"]).sign(
        "files/" + "a" * 64, "guide.pdf", someone.id, 300
    )
    return f"/library/downloads/{token}"


RULES = [
    ("POST", downloads_start_POST, OTHERS),
    ("GET", downloads_licensed_GET, OTHERS),
    ("GET", "/library/downloads/not-a-signed-token", OTHERS),
    ("GET", downloads_file_GET, ALL_200),
    ("GET", "/downloads/not-a-signed-token", ALL_404),
]
