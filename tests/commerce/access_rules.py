"""Access rules for the cart, checkout, orders, invoices, refunds and webhooks.

Another user's order, its invoice or its sandbox checkout is a 404 for everyone but admins
(who see orders to refund them), never a 403 that would confirm it exists.
"""

from app.commerce.models import Order
from app.extensions import db
from tests.catalog.factories import create_product
from tests.commerce.factories import pending_order, sandbox_paid_order


def _statuses(anonymous, customer, vendor, admin):
    return {"anonymous": anonymous, "customer": customer, "vendor": vendor, "admin": admin}


ALL_200 = _statuses(200, 200, 200, 200)
SIGNED_IN_200 = _statuses(302, 200, 200, 200)
OTHERS_ORDER = _statuses(302, 404, 404, 200)
ADMIN_ONLY = _statuses(302, 403, 403, 200)


def commerce_cart_add_GET(app, make_user):
    return f"/cart/add?product={create_product(app, make_user, 'Cartable')}"


def commerce_cart_remove_POST(app, make_user):
    return f"/cart/items/{create_product(app, make_user, 'Removable')}/remove"


def commerce_get_free_POST(app, make_user):
    product = create_product(app, make_user, "Free thing", price_type="free", price_cents=0)
    return f"/products/{product}/get"


def _paid(app, make_user):
    order_id = sandbox_paid_order(app, make_user)
    with app.app_context():
        return db.session.get(Order, order_id)


def _pending(app, make_user):
    product = create_product(app, make_user, "Pending thing")
    order_id = pending_order(app, make_user().id, product)
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.provider_session_ref = f"sbx_cs_access{order_id}"
        db.session.commit()
        return order.number, order.provider_session_ref


def commerce_checkout_success_GET(app, make_user):
    return f"/checkout/success?order={_pending(app, make_user)[0]}"


def commerce_checkout_cancel_GET(app, make_user):
    return f"/checkout/cancel?order={_pending(app, make_user)[0]}"


def commerce_sandbox_pay_GET(app, make_user):
    return f"/checkout/sandbox/{_pending(app, make_user)[1]}"


def commerce_sandbox_pay_POST(app, make_user):
    return commerce_sandbox_pay_GET(app, make_user)


def commerce_order_GET(app, make_user):
    return f"/orders/{_paid(app, make_user).id}"


def commerce_invoice_GET(app, make_user):
    return f"/orders/{_paid(app, make_user).id}/invoice"


def commerce_invoice_pdf_GET(app, make_user):
    return f"/orders/{_paid(app, make_user).id}/invoice.pdf"


def commerce_admin_refund_POST(app, make_user):
    return f"/admin/orders/{_paid(app, make_user).id}/refund"


RULES = [
    ("GET", "/cart", ALL_200),
    ("GET", commerce_cart_add_GET, ALL_200),
    # An empty form names no product: refused with the reason, for everyone.
    ("POST", "/cart/items", _statuses(422, 422, 422, 422)),
    ("POST", commerce_cart_remove_POST, _statuses(303, 303, 303, 303)),
    ("POST", "/cart/code", _statuses(422, 422, 422, 422)),
    ("POST", "/cart/code/remove", _statuses(303, 303, 303, 303)),
    ("POST", commerce_get_free_POST, _statuses(302, 303, 303, 303)),
    # Signed in with an empty cart: nothing to check out.
    ("POST", "/checkout", _statuses(302, 422, 422, 422)),
    ("GET", commerce_checkout_success_GET, _statuses(302, 404, 404, 404)),
    ("GET", commerce_checkout_cancel_GET, _statuses(302, 404, 404, 404)),
    ("GET", commerce_sandbox_pay_GET, _statuses(302, 404, 404, 404)),
    ("POST", commerce_sandbox_pay_POST, _statuses(302, 404, 404, 404)),
    # Unsigned deliveries are refused; a provider this site does not use is not there.
    ("POST", "/webhooks/sandbox", _statuses(400, 400, 400, 400)),
    ("POST", "/webhooks/stripe", _statuses(404, 404, 404, 404)),
    ("GET", "/orders", SIGNED_IN_200),
    ("GET", commerce_order_GET, OTHERS_ORDER),
    ("GET", commerce_invoice_GET, OTHERS_ORDER),
    ("GET", commerce_invoice_pdf_GET, OTHERS_ORDER),
    ("GET", "/admin/orders", ADMIN_ONLY),
    ("POST", commerce_admin_refund_POST, _statuses(302, 403, 403, 303)),
]

SELLER_ONLY = _statuses(302, 403, 200, 403)
RULES += [
    ("GET", "/vendor/discounts", SELLER_ONLY),
    # An empty form: the vendor sees the form again with its errors.
    ("POST", "/vendor/discounts", _statuses(302, 403, 422, 403)),
]
