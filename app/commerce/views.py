"""Commerce pages: the cart, checkout (and the sandbox's pay page), orders and invoices,
admin refunds, and the providers' webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.admin import services as admin
from app.catalog import listings
from app.commerce import fulfilment, invoices, services
from app.commerce import models as models  # noqa: F401  (the tables, for the app's metadata)
from app.commerce.forms import AddToCartForm, DiscountCodeForm, DiscountCreateForm, RefundForm
from app.commerce.models import DiscountKind
from app.commerce.providers import current_payments
from app.commerce.services import SessionCart
from app.errors import NotFound
from app.extensions import csrf, db
from app.forms import id_arg, options
from app.htmx import is_fragment_request, redirect_to, render
from app.licensing import models as licensing_models  # noqa: F401  (idem)
from app.licensing.services import owned_product_ids

bp = Blueprint("commerce", __name__)

SESSION_KEY = "cart"
CART_CHANGED = "cart-changed"


def _anon() -> SessionCart:
    """The anonymous shopper's cart from the session (empty for a signed-in user)."""
    if current_user.is_authenticated:
        return SessionCart()
    return SessionCart.from_session(session.get(SESSION_KEY))


def _keep(anon: SessionCart) -> None:
    if not current_user.is_authenticated:
        session[SESSION_KEY] = anon.to_session()


def _changed(response: Response) -> Response:
    response.headers["HX-Trigger"] = CART_CHANGED
    return response


def cart_count() -> int:
    """The header's count (a template global): the session's or the database's cart."""
    if current_user.is_authenticated:
        return services.cart_count(current_user, SessionCart())
    raw = session.get(SESSION_KEY) if session else None
    return len(SessionCart.from_session(raw).items) if raw else 0


def owns_product(product_id: int) -> bool:
    """Whether the signed-in user holds a valid licence for the product (the buy box)."""
    if not current_user.is_authenticated:
        return False
    return bool(owned_product_ids(current_user.id, [product_id]))


@bp.record_once
def _register(state) -> None:
    state.app.jinja_env.globals["cart_count"] = cart_count
    state.app.jinja_env.globals["owns_product"] = owns_product


# -- cart ----------------------------------------------------------------------------------


def _cart_page(status: int = 200, code_form: DiscountCodeForm | None = None) -> Response:
    return render(
        "commerce/cart.html",
        "cart",
        status=status,
        quote=services.quote(current_user, _anon()),
        code_form=code_form or DiscountCodeForm(),
        checkout_form=ConfirmForm(),
        provider=current_payments().checkout,
    )


@bp.get("/cart")
def cart_GET():
    if is_fragment_request() and request.headers.get("HX-Target") == "cart-badge":
        return make_response(render_template("commerce/_badge.html"))
    return _cart_page()


@bp.get("/cart/add")
def cart_add_GET():
    """The confirmation an anonymous product page links to (its page carries no form)."""
    product_id = id_arg(request.args, "product")
    if product_id is None:
        raise NotFound()
    product = services.product_for_sale(product_id)
    form = AddToCartForm(product_id=product.id, interval=request.args.get("interval", ""))
    return render("commerce/add.html", product=product, form=form)


@bp.post("/cart/items")
def cart_add_POST():
    form = AddToCartForm()
    if not form.validate_on_submit():
        raise services.CartError("Choose a product to add (and its billing interval).")
    anon = _anon()
    message = services.add_to_cart(
        current_user, anon, form.product_id.data, form.interval.data or None
    )
    _keep(anon)
    db.session.commit()
    if is_fragment_request() and request.headers.get("HX-Target") != "cart":
        return _changed(make_response(render_template("commerce/_added.html", message=message)))
    flash(message, "success")
    return _changed(redirect_to(url_for("commerce.cart_GET")))


@bp.post("/cart/items/<id:product_id>/remove")
def cart_remove_POST(product_id: int):
    ConfirmForm().validate_on_submit() or abort(400)
    anon = _anon()
    services.remove_from_cart(current_user, anon, product_id)
    _keep(anon)
    db.session.commit()
    if is_fragment_request():
        return _changed(_cart_page())
    return _changed(redirect_to(url_for("commerce.cart_GET")))


@bp.post("/cart/code")
def cart_code_POST():
    form = DiscountCodeForm()
    if not form.validate_on_submit():
        return _cart_page(422, form)
    anon = _anon()
    try:
        message = services.apply_code(current_user, anon, form.code.data)
    except services.DiscountError as exc:
        db.session.rollback()
        form.code.errors = [exc.message]
        return _cart_page(422, form)
    _keep(anon)
    db.session.commit()
    if is_fragment_request():
        return _cart_page()
    flash(message, "success")
    return redirect_to(url_for("commerce.cart_GET"))


@bp.post("/cart/code/remove")
def cart_code_remove_POST():
    ConfirmForm().validate_on_submit() or abort(400)
    anon = _anon()
    services.remove_code(current_user, anon)
    _keep(anon)
    db.session.commit()
    if is_fragment_request():
        return _cart_page()
    return redirect_to(url_for("commerce.cart_GET"))


@bp.post("/products/<id:product_id>/get")
@permission_required(Permission.BUY)
def get_free_POST(product_id: int):
    ConfirmForm().validate_on_submit() or abort(400)
    order = fulfilment.get_free(current_user, product_id)
    db.session.commit()
    flash("It is yours: the licence key is below, and the product is in your library.", "success")
    return redirect_to(url_for("commerce.order_GET", order_id=order.id))


# -- checkout --------------------------------------------------------------------------------


@bp.post("/checkout")
@permission_required(Permission.BUY)
def checkout_POST():
    ConfirmForm().validate_on_submit() or abort(400)
    provider = current_payments().checkout
    # The default commission is the admins' run-time setting (PLATFORM_COMMISSION_BPS until
    # one is set); a store's or category's own rate wins over it.
    order = fulfilment.start_checkout(
        current_user, provider.name, admin.get_setting("default_commission_bps")
    )
    # The pending order is committed before the provider is called: its webhook finds it.
    db.session.commit()
    if order.is_paid:  # nothing to pay (a code took it all)
        flash("Your order is complete: nothing to pay.", "success")
        return redirect_to(url_for("commerce.order_GET", order_id=order.id))
    location = services.open_checkout(
        current_user,
        order.id,
        provider,
        url_for("commerce.checkout_success_GET", order=order.number, _external=True),
        url_for("commerce.checkout_cancel_GET", order=order.number, _external=True),
    )
    db.session.commit()
    return redirect_to(location)


@bp.get("/checkout/success")
@login_required
def checkout_success_GET():
    order = services.order_by_number(current_user, request.args.get("order", ""))
    response = render("commerce/success.html", "order_status", order=order)
    if order.status != "pending" and is_fragment_request():
        response.status_code = 286  # htmx stops polling
    return response


@bp.get("/checkout/cancel")
@login_required
def checkout_cancel_GET():
    order = services.order_by_number(current_user, request.args.get("order", ""))
    return render("commerce/cancel.html", order=order)


def _sandbox():
    provider = current_payments().providers.get("sandbox")
    if provider is None or current_app.config["APP_CONFIG"].is_production:
        raise NotFound()
    return provider


@bp.get("/checkout/sandbox/<session_ref>")
@login_required
def sandbox_pay_GET(session_ref: str):
    order = fulfilment.sandbox_order(current_user, _sandbox(), session_ref)
    return render("commerce/sandbox_pay.html", order=order, form=ConfirmForm())


@bp.post("/checkout/sandbox/<session_ref>")
@login_required
def sandbox_pay_POST(session_ref: str):
    ConfirmForm().validate_on_submit() or abort(400)
    if request.form.get("action") == "cancel":
        order = fulfilment.sandbox_order(current_user, _sandbox(), session_ref)
        return redirect_to(url_for("commerce.checkout_cancel_GET", order=order.number))
    order = fulfilment.pay_in_sandbox(current_user, _sandbox(), session_ref)
    db.session.commit()
    return redirect_to(url_for("commerce.checkout_success_GET", order=order.number))


@bp.post("/webhooks/<name>")
@csrf.exempt
def webhook_POST(name: str):
    """A provider's event: verified on the raw body, stored once, acted on, answered fast."""
    provider = current_payments().provider(name)
    event = provider.parse_webhook(request.get_data(cache=False), request.headers)
    outcome = fulfilment.handle_payment_event(event)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent delivery of the same event committed first
        db.session.rollback()
        outcome = fulfilment.Outcome("duplicate", "received concurrently")
    return jsonify(received=True, outcome=outcome.status)


# -- orders ------------------------------------------------------------------------------------


@bp.get("/orders")
@login_required
def orders_GET():
    return render("commerce/orders.html", orders=services.orders_of(current_user))


@bp.get("/orders/<id:order_id>")
@login_required
def order_GET(order_id: int):
    order = services.order_for(current_user, order_id)
    return render(
        "commerce/order.html",
        order=order,
        licences=fulfilment.licences_for(order),
        refund_form=RefundForm(),
    )


@bp.get("/orders/<id:order_id>/invoice")
@login_required
def invoice_GET(order_id: int):
    invoice = invoices.invoice_for(current_user, order_id)
    return render("commerce/invoice.html", invoice=invoice)


@bp.get("/orders/<id:order_id>/invoice.pdf")
@login_required
def invoice_pdf_GET(order_id: int):
    invoice = invoices.invoice_for(current_user, order_id)
    response = make_response(invoices.render_pdf(invoice))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{invoice.label}.pdf"'
    return response


# -- admin -------------------------------------------------------------------------------------


@bp.get("/admin/orders")
@permission_required(Permission.MODERATE)
def admin_orders_GET():
    args = admin.list_args(request.args)
    return render(
        "commerce/admin_orders.html",
        "results",
        page=admin.list_orders(args),
        totals=admin.order_totals(args),
        args=args,
        filters=admin.ORDER_FILTERS,
        sorts=admin.ORDER_SORTS,
    )


@bp.post("/admin/orders/<id:order_id>/refund")
@permission_required(Permission.MODERATE)
def admin_refund_POST(order_id: int):
    form = RefundForm()
    order = services.order_for(current_user, order_id)
    if not form.validate_on_submit():
        flash("Give a reason and tick the box to refund.", "error")
        return redirect_to(url_for("commerce.order_GET", order_id=order.id))
    provider = current_payments().provider(order.provider)
    admin.audited(
        current_user,
        "order.refund",
        "order",
        lambda refund: refund.order_id,
        lambda: fulfilment.request_refund(
            current_user, order.id, form.line(), provider, form.reason.data
        ),
        reason=form.reason.data,
        ip=request.remote_addr or "",
        after=lambda refund: {
            "refund_id": refund.id,
            "line_id": refund.order_line_id,
            "amount_cents": refund.amount_cents,
            "currency": refund.currency,
        },
    )
    db.session.commit()
    flash(
        "Refund requested: the ledger and licences follow the provider's confirmation.", "success"
    )
    return redirect_to(url_for("commerce.order_GET", order_id=order.id))


# -- vendors' discount codes -------------------------------------------------------------------


def _with_choices(form: DiscountCreateForm) -> DiscountCreateForm:
    """The form with the store's paid products to choose from (NotAVendor otherwise)."""
    vendor = listings.require_vendor(current_user)
    form.products.choices = options(
        (str(p.id), p.title) for p in listings.vendor_listings(vendor) if not p.is_free
    )
    return form


def _discounts_page(form: DiscountCreateForm, status: int = 200) -> Response:
    _with_choices(form)
    return render(
        "commerce/discounts.html",
        "discount_form",
        status=status,
        form=form,
        codes=services.discount_codes_of(current_user),
    )


@bp.get("/vendor/discounts")
@permission_required(Permission.SELL)
def discounts_GET():
    return _discounts_page(DiscountCreateForm())


@bp.post("/vendor/discounts")
@permission_required(Permission.SELL)
def discounts_POST():
    form = _with_choices(DiscountCreateForm())
    if not form.validate_on_submit() or form.value.data is None:
        return _discounts_page(form, 422)
    kind = DiscountKind(form.kind.data)
    value = int(form.value.data * 100)  # percent -> basis points; amount -> cents
    ends_at = (
        datetime.combine(form.ends_on.data, time.max, tzinfo=UTC) if form.ends_on.data else None
    )
    try:
        services.create_discount_code(
            current_user,
            form.code.data,
            kind,
            value,
            product_ids=[int(pid) for pid in form.products.data or []],
            ends_at=ends_at,
            max_uses=form.max_uses.data,
        )
    except services.DiscountError as exc:
        db.session.rollback()
        form.code.errors = [*form.code.errors, exc.message]
        return _discounts_page(form, 422)
    db.session.commit()
    flash("Discount code created.", "success")
    return redirect_to(url_for("commerce.discounts_GET"))
