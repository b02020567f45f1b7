"""Access rules for the catalog, vendor and admin routes (see tests/test_access.py).

Listings reached by id belong to another vendor's store: a vendor gets 404, never the page.
"""

from app.extensions import db
from app.vendors.models import VendorProfile
from tests.catalog.factories import create_category, create_product, slug_of


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


ALL_200 = _statuses(200, 200, 200, 200)
ALL_404 = _statuses(404, 404, 404, 404)
# Selling pages: login first, then only a vendor with an approved store.
SELLER_GET = _statuses(302, 403, 200, 403)
# Someone else's listing: a customer may not sell (403); vendors and admins (who moderate in
# /admin) find nothing there (404).
OTHERS_LISTING = _statuses(302, 403, 404, 404)
ADMIN_GET = _statuses(302, 403, 403, 200)


def _foreign(app, make_user, status="draft"):
    return create_product(app, make_user, "Someone else's listing", status=status)


def catalog_product_GET(app, make_user):
    return f"/products/{slug_of(app, create_product(app, make_user, 'Public'))}"


def catalog_category_GET(app, make_user):
    create_category(app, "Sales")
    return "/categories/sales"


def catalog_manage_GET(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user)}"


def catalog_edit_GET(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user)}/edit"


def catalog_edit_POST(app, make_user):
    return catalog_edit_GET(app, make_user)


def catalog_submit_POST(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user)}/submit"


def catalog_withdraw_POST(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user, 'pending')}/withdraw"


def catalog_watermark_POST(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user, 'approved')}/screenshots/watermark"


def catalog_discard_POST(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user, 'approved')}/discard"


def catalog_duplicate_POST(app, make_user):
    return f"/vendor/products/{_foreign(app, make_user, 'rejected')}/duplicate"


def vendors_storefront_GET(app, make_user):
    user = make_user("vendor")
    with app.app_context():
        vendor = db.session.scalar(db.select(VendorProfile).where(VendorProfile.user_id == user.id))
        return f"/vendors/{vendor.slug}"


def admin_review_GET(app, make_user):
    return f"/admin/moderation/{_foreign(app, make_user, 'pending')}"


def admin_decide_POST(app, make_user):
    return f"/admin/products/{_foreign(app, make_user, 'pending')}/approve"


def admin_vendor_POST(app, make_user):
    user = make_user("customer")
    with app.app_context():
        profile = VendorProfile(
            user_id=user.id,
            store_name="Applicant",
            slug=f"applicant-{user.id}",
            support_email=user.email,
            country="GB",
            status="pending",
        )
        db.session.add(profile)
        db.session.commit()
        return f"/admin/vendors/{profile.id}/approve"


def admin_category_POST(app, make_user):
    return f"/admin/categories/{create_category(app, 'Finance')}"


RULES = [
    ("GET", catalog_product_GET, ALL_200),
    ("GET", "/products/no-such-product", ALL_404),
    ("GET", catalog_category_GET, ALL_200),
    ("GET", "/categories/no-such-category", ALL_404),
    ("GET", "/media/products/missing.png", ALL_404),
    ("GET", "/media/previews/missing.svg", ALL_404),
    ("GET", "/media/products/..%2Fsecret", ALL_404),
    ("GET", "/sitemap.xml", ALL_200),
    ("GET", "/robots.txt", ALL_200),
    ("GET", "/vendor/products", SELLER_GET),
    ("GET", "/vendor/products/new", SELLER_GET),
    ("POST", "/vendor/products/new", _statuses(302, 403, 422, 403)),
    ("GET", catalog_manage_GET, OTHERS_LISTING),
    ("GET", catalog_edit_GET, OTHERS_LISTING),
    ("POST", catalog_edit_POST, OTHERS_LISTING),
    ("POST", catalog_submit_POST, OTHERS_LISTING),
    ("POST", catalog_withdraw_POST, OTHERS_LISTING),
    ("POST", catalog_discard_POST, OTHERS_LISTING),
    ("POST", catalog_watermark_POST, OTHERS_LISTING),
    ("POST", catalog_duplicate_POST, OTHERS_LISTING),
    ("GET", "/vendor/products/999999", OTHERS_LISTING),
    ("GET", "/sell", ALL_200),
    # A vendor already sells; an admin moderates stores and does not open one.
    ("POST", "/sell", _statuses(302, 422, 403, 403)),
    ("GET", vendors_storefront_GET, ALL_200),
    ("GET", "/vendors/no-such-store", ALL_404),
    ("GET", "/admin/moderation", ADMIN_GET),
    ("GET", admin_review_GET, ADMIN_GET),
    ("GET", "/admin/moderation/999999", _statuses(302, 403, 403, 404)),
    ("POST", admin_decide_POST, _statuses(302, 403, 403, 303)),
    ("POST", "/admin/products/1/explode", _statuses(302, 403, 403, 404)),
    ("GET", "/admin/vendors", ADMIN_GET),
    ("POST", admin_vendor_POST, _statuses(302, 403, 403, 303)),
    ("GET", "/admin/categories", ADMIN_GET),
    ("POST", "/admin/categories", _statuses(302, 403, 403, 422)),
    ("POST", admin_category_POST, _statuses(302, 403, 403, 422)),
]
