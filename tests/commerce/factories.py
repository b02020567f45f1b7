"""Commerce test data made through the real services: carts, orders paid in the sandbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.commerce import fulfilment, services
from app.commerce.models import Order
from app.commerce.providers import current_payments
from app.extensions import db
from tests.catalog.factories import create_product


def buyer_in(app: Any, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def fill_cart(user: User, *entries: tuple[int, str | None]) -> None:
    """Put products in a signed-in user's cart (inside an app context; commits)."""
    for product_id, interval in entries:
        services.add_to_cart(user, services.SessionCart(), product_id, interval)
    db.session.commit()


def pending_order(app: Any, buyer_id: int, *product_ids: int, provider: str = "sandbox") -> int:
    """A pending order for ``product_ids`` (added to the buyer's cart first)."""
    with app.app_context():
        user = db.session.get(User, buyer_id)
        fill_cart(user, *((pid, None) for pid in product_ids))
        order = fulfilment.start_checkout(user, provider, 2000)
        db.session.commit()
        return order.id


def sandbox_paid_order(app: Any, make_user: Any, buyer: User | None = None, **product) -> int:
    """An order of one new product, paid through the sandbox pay path; returns its id."""
    buyer = buyer or make_user()
    product_id = create_product(app, make_user, product.pop("title", "Paid thing"), **product)
    order_id = pending_order(app, buyer.id, product_id)
    with app.test_request_context():
        sandbox = current_payments().providers["sandbox"]
        user = db.session.get(User, buyer.id)
        services.open_checkout(user, order_id, sandbox, "http://x/ok", "http://x/cancel")
        db.session.commit()
        order = db.session.get(Order, order_id)
        fulfilment.pay_in_sandbox(user, sandbox, order.provider_session_ref)
        db.session.commit()
    return order_id


def order_of(app: Any, order_id: int) -> Order:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.id == order_id))
        _ = order.lines
        db.session.expunge_all()
        return order
