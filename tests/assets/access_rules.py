"""Access rules for the version routes (see tests/test_access.py).

Versions are reached through another vendor's listing: a vendor gets 404, a customer 403 (no
selling), an admin the page (admins see every version and its scan). A quarantined file
and the preview of a listing that is not live reach nobody.
"""

import io

from app.extensions import db
from tests.assets.samples import workflow_bytes
from tests.catalog.factories import create_product, slug_of


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


ALL_200 = _statuses(200, 200, 200, 200)
ALL_404 = _statuses(404, 404, 404, 404)
OTHERS_VERSIONS = _statuses(302, 403, 404, 200)
# Another store's version: only its vendor acts on it; an admin's action is refused as the
# service refuses it (not the owner: 404; not clean: 409; no reason: 422).
OTHERS_ACTION = _statuses(302, 403, 404, 404)
ADMIN_GET = _statuses(302, 403, 403, 200)
ADMIN_POST = _statuses(302, 403, 403, 303)


def _version(app, make_user, status="draft", scan=False):
    """Another vendor's listing with one uploaded version; (product id, version id)."""
    from app.assets import services
    from app.catalog.models import Product

    product_id = create_product(app, make_user, "Someone else's workflow", status=status)
    with app.app_context():
        product = db.session.get(Product, product_id)
        version = services.upload_version(
            product.vendor.user, product, io.BytesIO(workflow_bytes()), "flow.json", "1.0"
        )
        db.session.commit()
        version_id = version.id
        if scan:
            services.scan_version(version_id)  # no scanner configured: every other check
    return product_id, version_id


def _base(app, make_user, **kwargs):
    product_id, version_id = _version(app, make_user, **kwargs)
    return f"/vendor/products/{product_id}/versions/{version_id}"


def assets_versions_GET(app, make_user):
    return f"/vendor/products/{_version(app, make_user)[0]}/versions"


def assets_upload_POST(app, make_user):
    return assets_versions_GET(app, make_user)


def assets_version_GET(app, make_user):
    return _base(app, make_user)


def assets_publish_POST(app, make_user):
    return _base(app, make_user) + "/publish"


def assets_acknowledge_POST(app, make_user):
    return _base(app, make_user, scan=True) + "/acknowledge"


def assets_yank_POST(app, make_user):
    return _base(app, make_user, scan=True) + "/yank"


def assets_delete_POST(app, make_user):
    return _base(app, make_user) + "/delete"


def assets_file_GET(app, make_user):
    return _base(app, make_user, scan=True) + "/file"


def quarantined_file(app, make_user):
    return _base(app, make_user) + "/file"


def assets_version_preview_GET(app, make_user):
    return _base(app, make_user, scan=True) + "/preview.svg"


def assets_preview_GET(app, make_user):
    product_id, _ = _version(app, make_user, status="approved", scan=True)
    return f"/products/{slug_of(app, product_id)}/preview.svg"


def quarantined_preview(app, make_user):
    product_id, _ = _version(app, make_user, status="approved")
    return f"/products/{slug_of(app, product_id)}/preview.svg"


def draft_preview(app, make_user):
    product_id, _ = _version(app, make_user, status="draft", scan=True)
    return f"/products/{slug_of(app, product_id)}/preview.svg"


def assets_admin_rescan_POST(app, make_user):
    return f"/admin/versions/{_version(app, make_user, scan=True)[1]}/rescan"


RULES = [
    ("GET", assets_versions_GET, OTHERS_VERSIONS),
    ("GET", "/vendor/products/999999/versions", _statuses(302, 403, 404, 404)),
    ("POST", assets_upload_POST, OTHERS_ACTION),
    ("GET", assets_version_GET, OTHERS_VERSIONS),
    ("POST", assets_publish_POST, _statuses(302, 403, 404, 409)),
    ("POST", assets_acknowledge_POST, OTHERS_ACTION),
    ("POST", assets_yank_POST, _statuses(302, 403, 404, 422)),
    ("POST", assets_delete_POST, OTHERS_ACTION),
    ("GET", assets_file_GET, OTHERS_VERSIONS),
    ("GET", quarantined_file, _statuses(302, 403, 404, 404)),
    ("GET", assets_version_preview_GET, OTHERS_VERSIONS),
    ("GET", assets_preview_GET, ALL_200),
    ("GET", quarantined_preview, ALL_404),
    ("GET", draft_preview, ALL_404),
    ("GET", "/products/no-such-product/preview.svg", ALL_404),
    ("GET", "/admin/versions", ADMIN_GET),
    ("GET", "/admin/versions?status=infected", ADMIN_GET),
    ("POST", assets_admin_rescan_POST, ADMIN_POST),
    ("POST", "/admin/versions/999999/rescan", _statuses(302, 403, 403, 404)),
    ("POST", "/admin/versions/rescan", ADMIN_POST),
]
