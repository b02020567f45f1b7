"""Carts (signed-in in the database, anonymous in the session), discount codes, checkout, and
the buyer's orders.

Services take the acting user (possibly anonymous) and, for an anonymous shopper, the
``SessionCart`` the view read from the session (the view writes it back). Prices are always
read from the products at the moment of the call: the cart stores products, never amounts.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.permissions import Permission, refusal
from app.catalog.models import Category, PriceType, Product, ProductStatus
from app.commerce.models import (
    Cart,
    CartItem,
    DiscountCode,
    DiscountKind,
    DiscountRedemption,
    LineKind,
    Order,
    OrderLine,
    OrderStatus,
)
from app.commerce.providers.base import CheckoutItem, CheckoutRequest, PaymentProvider
from app.errors import DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.licensing.services import owned_product_ids
from app.timeutil import as_utc, utcnow
from app.vendors.models import VendorProfile

MAX_CART_ITEMS = 50
INTERVALS = ("month", "year")
_ORDER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class CartError(DomainError):
    status = 422
    message = "That could not be added to your cart."


class DiscountError(DomainError):
    status = 422
    message = "That discount code cannot be used."


class CheckoutError(DomainError):
    status = 422
    message = "Your cart cannot be checked out as it is."


# -- the cart's storage -------------------------------------------------------------------


@dataclass
class SessionCart:
    """An anonymous shopper's cart as kept in the session: product ids and intervals only."""

    items: list[tuple[int, str | None]] = field(default_factory=list)
    code: str | None = None

    @classmethod
    def from_session(cls, raw: Any) -> SessionCart:
        """Read what the session holds, dropping anything malformed (a tampered cookie can
        only name products and intervals, never prices or quantities)."""
        cart = cls()
        if not isinstance(raw, dict):
            return cart
        for entry in raw.get("items") or []:
            if (
                isinstance(entry, list | tuple)
                and len(entry) == 2
                and isinstance(entry[0], int)
                and not isinstance(entry[0], bool)
                and 0 < entry[0] < 2**31
                and entry[1] in (None, *INTERVALS)
                and all(entry[0] != pid for pid, _ in cart.items)
            ):
                cart.items.append((entry[0], entry[1]))
        code = raw.get("code")
        cart.code = code if isinstance(code, str) and 0 < len(code) <= 40 else None
        cart.items = cart.items[:MAX_CART_ITEMS]
        return cart

    def to_session(self) -> dict[str, Any]:
        return {"items": [list(item) for item in self.items], "code": self.code}


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _db_cart(user: User, create: bool = False) -> Cart | None:
    cart = db.session.scalar(
        select(Cart).where(Cart.user_id == user.id).options(selectinload(Cart.items))
    )
    if cart is None and create:
        cart = Cart(user_id=user.id)
        db.session.add(cart)
        db.session.flush()
    return cart


def cart_entries(user: Any, anon: SessionCart) -> tuple[list[tuple[int, str | None]], str | None]:
    """(product id, interval) pairs and the discount code of the shopper's cart."""
    if _signed_in(user):
        cart = _db_cart(user)
        if cart is None:
            return [], None
        return [(item.product_id, item.interval) for item in cart.items], cart.discount_code
    return list(anon.items), anon.code


def cart_count(user: Any, anon: SessionCart) -> int:
    return len(cart_entries(user, anon)[0])


# -- what can be bought ---------------------------------------------------------------------


def _purchasable(product: Product | None) -> bool:
    return product is not None and product.status == ProductStatus.APPROVED


def _intervals_of(product: Product) -> tuple[str, ...]:
    if product.price_type != PriceType.SUBSCRIPTION:
        return ()
    found = []
    if product.monthly_price_cents:
        found.append("month")
    if product.yearly_price_cents:
        found.append("year")
    return tuple(found)


def list_price(product: Product, interval: str | None) -> int:
    """What ``product`` costs now, for ``interval`` if it is a subscription."""
    if product.price_type == PriceType.ONE_TIME:
        return product.price_cents or 0
    if product.price_type == PriceType.SUBSCRIPTION:
        if interval == "year":
            return product.yearly_price_cents or 0
        return product.monthly_price_cents or 0
    return 0


def _refusal_for(user: Any, product: Product | None, owned: set[int]) -> str | None:
    """Why ``user`` cannot buy ``product`` now, or None."""
    if not _purchasable(product):
        return "This product is no longer on sale."
    assert product is not None
    if _signed_in(user) and product.vendor.user_id == user.id:
        return "This is your own product: you cannot buy it."
    if product.id in owned:
        return "You already own this product: it is in your library."
    return None


def add_to_cart(user: Any, anon: SessionCart, product_id: int, interval: str | None) -> str:
    """Add a product (for ``interval`` if a subscription: default monthly) and return what
    to tell the shopper. Raises CartError (not on sale, free, own, owned, cart full) and
    PermissionDenied (a signed-in user who may not buy)."""
    if _signed_in(user) and not user.can(Permission.BUY):
        raise PermissionDenied(refusal(user, Permission.BUY) or "You cannot buy products.")
    product = db.session.get(Product, product_id)
    owned = owned_product_ids(user.id, [product_id]) if _signed_in(user) else set()
    reason = _refusal_for(user, product, owned)
    if reason:
        raise CartError(reason)
    assert product is not None
    if product.is_free:
        raise CartError("This product is free: use “Get it free” to add it to your library.")
    intervals = _intervals_of(product)
    interval = (interval if interval in intervals else intervals[0]) if intervals else None
    entries, _ = cart_entries(user, anon)
    if any(pid == product_id for pid, _ in entries):
        _set_interval(user, anon, product_id, interval)
        return f"“{product.title}” is already in your cart."
    if len(entries) >= MAX_CART_ITEMS:
        raise CartError(f"A cart holds at most {MAX_CART_ITEMS} products.")
    if _signed_in(user):
        cart = _db_cart(user, create=True)
        assert cart is not None
        cart.items.append(CartItem(product_id=product_id, interval=interval))
        cart.updated_at = utcnow()
    else:
        anon.items.append((product_id, interval))
    return f"Added “{product.title}” to your cart."


def _set_interval(user: Any, anon: SessionCart, product_id: int, interval: str | None) -> None:
    if _signed_in(user):
        cart = _db_cart(user)
        for item in cart.items if cart else []:
            if item.product_id == product_id:
                item.interval = interval
    else:
        anon.items = [(pid, interval if pid == product_id else i) for pid, i in anon.items]


def remove_from_cart(user: Any, anon: SessionCart, product_id: int) -> None:
    """Take a product out of the cart (nothing happens if it is not there)."""
    if _signed_in(user):
        cart = _db_cart(user)
        if cart is not None:
            cart.items = [item for item in cart.items if item.product_id != product_id]
            cart.updated_at = utcnow()
    else:
        anon.items = [(pid, i) for pid, i in anon.items if pid != product_id]


def merge_session_cart(user: User, anon: SessionCart) -> int:
    """At login: move the session's products into ``user``'s cart, skipping what they cannot
    buy (their own, owned, gone); the session's code is kept if the cart has none. Returns
    how many products were moved."""
    moved = 0
    for product_id, interval in anon.items:
        try:
            message = add_to_cart(user, SessionCart(), product_id, interval)
        except (CartError, PermissionDenied):
            continue
        moved += message.startswith("Added")
    if anon.code:
        cart = _db_cart(user, create=True)
        assert cart is not None
        cart.discount_code = cart.discount_code or anon.code
    anon.items, anon.code = [], None
    return moved


# -- discount codes -------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    return "".join((code or "").split()).upper()[:40]


def find_code(code: str) -> DiscountCode | None:
    normal = normalise_code(code)
    if not normal:
        return None
    return db.session.scalar(
        select(DiscountCode)
        .where(DiscountCode.code == normal)
        .options(selectinload(DiscountCode.products))
    )


def check_code(code: DiscountCode | None, user: Any, products: Iterable[Product]) -> None:
    """Raise DiscountError saying why ``code`` does not apply to this cart, if it does not."""
    if code is None or not code.is_active:
        raise DiscountError("We do not know that discount code. Check it for typos.")
    now = utcnow()
    if code.starts_at is not None and as_utc(code.starts_at) > now:
        raise DiscountError("That discount code is not valid yet.")
    if code.ends_at is not None and as_utc(code.ends_at) <= now:
        raise DiscountError("That discount code has expired.")
    if code.max_uses is not None and code.uses >= code.max_uses:
        raise DiscountError("That discount code has been used up.")
    if _signed_in(user):
        used = db.session.scalar(
            select(DiscountRedemption.id).where(
                DiscountRedemption.code_id == code.id, DiscountRedemption.user_id == user.id
            )
        )
        if used is not None:
            raise DiscountError("You have already used that discount code.")
    if not any(_code_covers(code, product) for product in products):
        raise DiscountError("That discount code is not for the products in your cart.")


def _code_covers(code: DiscountCode, product: Product) -> bool:
    """A code covers the products it names, or (naming none) every product of its store."""
    if product.vendor_id != code.vendor_id:
        return False
    scope = {p.id for p in code.products}
    return not scope or product.id in scope


def discount_for(code: DiscountCode, product: Product, price: int) -> int:
    if not _code_covers(code, product) or price <= 0:
        return 0
    if code.kind == DiscountKind.PERCENT:
        return min(price, price * code.value // 10_000)
    if code.currency != product.currency:
        return 0
    return min(price, code.value)


def apply_code(user: Any, anon: SessionCart, code: str) -> str:
    """Attach a discount code to the cart; raises DiscountError with the reason it does not
    apply (unknown, not yet valid, expired, used up, already used, not for these products)."""
    entries, _ = cart_entries(user, anon)
    products = [p for p in (db.session.get(Product, pid) for pid, _ in entries) if p]
    found = find_code(code)
    check_code(found, user, products)
    assert found is not None
    if _signed_in(user):
        cart = _db_cart(user, create=True)
        assert cart is not None
        cart.discount_code = found.code
    else:
        anon.code = found.code
    return f"Discount code {found.code} applied."


def remove_code(user: Any, anon: SessionCart) -> None:
    if _signed_in(user):
        cart = _db_cart(user)
        if cart is not None:
            cart.discount_code = None
    else:
        anon.code = None


# -- quotes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLine:
    product: Product
    interval: str | None
    list_price: int
    discount: int
    problem: str | None  # why it cannot be checked out now

    @property
    def price(self) -> int:
        return self.list_price - self.discount


@dataclass(frozen=True)
class Quote:
    lines: list[QuoteLine]
    code: DiscountCode | None
    code_text: str | None  # the code as the cart holds it
    code_problem: str | None

    @property
    def payable(self) -> list[QuoteLine]:
        return [line for line in self.lines if line.problem is None]

    @property
    def currencies(self) -> set[str]:
        return {line.product.currency for line in self.payable}

    @property
    def currency(self) -> str:
        return sorted(self.currencies)[0] if self.currencies else "USD"

    @property
    def subtotal(self) -> int:
        return sum(line.list_price for line in self.payable)

    @property
    def discount(self) -> int:
        return sum(line.discount for line in self.payable)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount

    @property
    def problems(self) -> list[str]:
        found = [f"{line.product.title}: {line.problem}" for line in self.lines if line.problem]
        if len(self.currencies) > 1:
            found.append("One checkout takes one currency: check out each currency apart.")
        if self.code_problem:
            found.append(self.code_problem)
        return found


def quote(user: Any, anon: SessionCart) -> Quote:
    """The cart priced now: every product read again, the code checked again."""
    entries, code_text = cart_entries(user, anon)
    ids = [pid for pid, _ in entries]
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product)
            .where(Product.id.in_(ids))
            .options(selectinload(Product.vendor), selectinload(Product.category))
        )
    }
    owned = owned_product_ids(user.id, ids) if _signed_in(user) else set()
    code, code_problem = None, None
    if code_text:
        code = find_code(code_text)
        try:
            check_code(code, user, [products[pid] for pid in ids if pid in products])
        except DiscountError as exc:
            code, code_problem = None, f"Discount code {code_text}: {exc.message}"
    lines = []
    for pid, interval in entries:
        product = products.get(pid)
        if product is None:
            continue  # deleted: it simply leaves the cart
        problem = _refusal_for(user, product, owned)
        if problem is None and product.is_free:
            problem = "This product is free now: get it from its page."
        price = list_price(product, interval)
        discount = discount_for(code, product, price) if code and problem is None else 0
        lines.append(QuoteLine(product, interval, price, discount, problem))
    return Quote(lines, code, code_text, code_problem)


# -- checkout -------------------------------------------------------------------------------


def new_order_number() -> str:
    return "AM-" + "".join(secrets.choice(_ORDER_ALPHABET) for _ in range(10))


def commission_bps_for(product: Product, default_bps: int) -> int:
    """The platform's commission on ``product``: its store's rate, else its category's, else
    the platform default (PLATFORM_COMMISSION_BPS)."""
    vendor: VendorProfile = product.vendor
    if vendor.commission_bps is not None:
        return vendor.commission_bps
    category: Category | None = product.category
    if category is not None and category.commission_bps is not None:
        return category.commission_bps
    return default_bps


def _snapshot(user: User, products: Iterable[Product]) -> tuple[dict, list[dict]]:
    buyer = {"name": user.display_name, "email": user.email}
    sellers: dict[int, dict] = {}
    for product in products:
        vendor = product.vendor
        sellers.setdefault(
            vendor.id,
            {
                "vendor_id": vendor.id,
                "store_name": vendor.store_name,
                "support_email": vendor.support_email,
                "country": vendor.country,
            },
        )
    return buyer, list(sellers.values())


def place_order(user: User, provider: str, default_commission_bps: int) -> Order:
    """A pending order for what ``user``'s cart holds at today's prices (flushed, not
    committed; the cart is left as it is until the order is paid).

    Raises PermissionDenied (may not buy) and CheckoutError naming every problem (empty
    cart, a product gone off sale, own or owned products, a code that no longer applies,
    several currencies): nothing is written then."""
    if not user.can(Permission.BUY):
        raise PermissionDenied(refusal(user, Permission.BUY) or "You cannot buy products.")
    priced = quote(user, SessionCart())
    if not priced.lines:
        raise CheckoutError("Your cart is empty.")
    if priced.problems:
        raise CheckoutError(" ".join(priced.problems))
    return _create_order(
        user, priced, provider if priced.total > 0 else "free", default_commission_bps
    )


def product_for_sale(product_id: int) -> Product:
    """An approved product; NotFound otherwise."""
    product = db.session.get(Product, product_id)
    if not _purchasable(product):
        raise NotFound("This product is not on sale.")
    assert product is not None
    return product


def _create_order(user: User, priced: Quote, provider: str, default_bps: int) -> Order:
    lines = priced.payable
    buyer, sellers = _snapshot(user, [line.product for line in lines])
    order = Order(
        number=new_order_number(),
        buyer_id=user.id,
        status=OrderStatus.PENDING.value,
        currency=priced.currency,
        subtotal_cents=priced.subtotal,
        discount_cents=priced.discount,
        total_cents=priced.total,
        provider=provider,
        discount_code_id=priced.code.id if priced.code and priced.discount else None,
        buyer_details=buyer,
        seller_details=sellers,
    )
    for line in lines:
        product = line.product
        kind = (
            LineKind.FREE
            if product.is_free
            else LineKind.SUBSCRIPTION
            if line.interval
            else LineKind.ONE_TIME
        )
        order.lines.append(
            OrderLine(
                product_id=product.id,
                vendor_id=product.vendor_id,
                title=product.title[:120],
                kind=kind.value,
                interval=line.interval,
                list_price_cents=line.list_price,
                discount_cents=line.discount,
                price_cents=line.price,
                currency=product.currency,
                commission_bps=commission_bps_for(product, default_bps),
            )
        )
    db.session.add(order)
    db.session.flush()
    return order


def checkout_request(order: Order, success_url: str, cancel_url: str) -> CheckoutRequest:
    """What the provider is asked to charge: built from the order's rows alone."""
    return CheckoutRequest(
        order_ref=order.number,
        customer_ref=str(order.buyer_id),
        customer_email=order.buyer_details.get("email", ""),
        items=tuple(
            CheckoutItem(
                line_ref=f"line_{line.id}",
                product_ref=str(line.product_id),
                title=line.title,
                unit_amount=line.price_cents,
                currency=line.currency,
                interval=line.interval,
            )
            for line in order.lines
        ),
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"order:{order.number}:checkout",
    )


def open_checkout(
    user: User, order_id: int, provider: PaymentProvider, success_url: str, cancel_url: str
) -> str:
    """Start the provider's hosted checkout for ``user``'s pending order; keep its session
    reference and return where the buyer pays. Raises NotFound (not theirs, not pending) and
    the provider's ProviderError / UnsupportedCart."""
    order = db.session.get(Order, order_id)
    if order is None or order.buyer_id != user.id or order.status != OrderStatus.PENDING:
        raise NotFound()
    session = provider.create_checkout(checkout_request(order, success_url, cancel_url))
    order.provider_session_ref = session.session_ref
    return session.redirect_url


# -- the buyer's orders ----------------------------------------------------------------------


def orders_of(user: User, limit: int = 100) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.buyer_id == user.id, Order.status != OrderStatus.PENDING)
            .options(selectinload(Order.lines))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


def order_for(user: User, order_id: int) -> Order:
    """``user``'s order (an admin may see any); NotFound for anyone else's (never 403)."""
    order = db.session.get(Order, order_id, options=[selectinload(Order.lines)])
    if order is None or (order.buyer_id != user.id and not user.can(Permission.MODERATE)):
        raise NotFound()
    return order


def order_by_number(user: User, number: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.number == (number or "")[:24]))
    if order is None or order.buyer_id != user.id:
        raise NotFound()
    return order


# -- vendors' discount codes ---------------------------------------------------------------------

_CODE_SHAPE = re.compile(r"[A-Z0-9_-]{3,40}")


def create_discount_code(
    actor: User,
    code: str,
    kind: DiscountKind,
    value: int,
    product_ids: Iterable[int] = (),
    currency: str = "USD",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    max_uses: int | None = None,
) -> DiscountCode:
    """A code for some of ``actor``'s products (none named: all of them). ``value``: basis
    points for a percentage (1..10000), minor units for a fixed amount. Raises
    PermissionDenied (not a seller) and DiscountError (shape, value, products, dates, taken)."""
    if not actor.can(Permission.SELL):
        raise PermissionDenied(refusal(actor, Permission.SELL))
    vendor = db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == actor.id))
    if vendor is None:
        raise PermissionDenied("Open a store first.")
    normal = normalise_code(code)
    if not _CODE_SHAPE.fullmatch(normal):
        raise DiscountError("Use 3 to 40 letters, digits, - or _ for the code.")
    if kind == DiscountKind.PERCENT and not 1 <= value <= 10_000:
        raise DiscountError("A percentage is between 0.01 % and 100 %.")
    if kind == DiscountKind.FIXED and value < 1:
        raise DiscountError("A fixed discount is at least one cent.")
    if max_uses is not None and max_uses < 1:
        raise DiscountError("Allow at least one use, or leave the limit empty.")
    if starts_at and ends_at and ends_at <= starts_at:
        raise DiscountError("The code must end after it starts.")
    products = list(db.session.scalars(select(Product).where(Product.id.in_(list(product_ids)))))
    if any(product.vendor_id != vendor.id for product in products):
        raise DiscountError("A code can only cover your own products.")
    if db.session.scalar(select(DiscountCode.id).where(DiscountCode.code == normal)):
        raise DiscountError("That code is taken: choose another.")
    discount = DiscountCode(
        vendor_id=vendor.id,
        code=normal,
        kind=DiscountKind(kind).value,
        value=value,
        currency=currency.upper(),
        starts_at=starts_at,
        ends_at=ends_at,
        max_uses=max_uses,
        products=products,
    )
    db.session.add(discount)
    db.session.flush()
    return discount


def discount_codes_of(user: User) -> list[DiscountCode]:
    """``user``'s store's codes, newest first."""
    vendor = db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == user.id))
    if vendor is None:
        return []
    return list(
        db.session.scalars(
            select(DiscountCode)
            .where(DiscountCode.vendor_id == vendor.id)
            .options(selectinload(DiscountCode.products))
            .order_by(DiscountCode.id.desc())
        )
    )
