"""The demo support thread: the demo customer asks the store that sold one of their orders a
question and the store answers, through the same services as real users (so the vendor's inbox
shows it answered and both sides have its notifications). Idempotent: a customer who already
has a thread is left alone."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from app.accounts.models import User
from app.commerce.models import Order, OrderLine, OrderStatus
from app.extensions import db
from app.support import services
from app.support.models import SupportThread
from app.vendors.models import VendorProfile

SUBJECT = "Which credentials does this workflow need?"
QUESTION = (
    "Hi! I imported the workflow and the first run stops at the HTTP Request node with a 401. "
    "Which credentials should I create before running it?"
)
ANSWER = (
    "Thanks for your purchase! Create a Header Auth credential with your API key "
    "(Authorization: Bearer <key>) and pick it in the HTTP Request node; the README in the "
    "download lists each node's credential. Tell me here if it still fails."
)
RESPONSE_HOURS = 24


def _line_to_ask_about(customer: User, vendor_user: User) -> OrderLine | None:
    """The customer's first paid line from the demo vendor's store, else from any store."""
    query = (
        select(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(VendorProfile, VendorProfile.id == OrderLine.vendor_id)
        .where(Order.buyer_id == customer.id, Order.status == OrderStatus.PAID)
        .order_by(OrderLine.id)
        .limit(1)
    )
    own = db.session.scalar(query.where(VendorProfile.user_id == vendor_user.id))
    return own or db.session.scalar(query)


def seed_support(customer: User, vendor_user: User) -> Iterator[str]:
    """One answered thread on one of the demo customer's orders (see the module docstring)."""
    if db.session.scalar(select(SupportThread.id).where(SupportThread.buyer_id == customer.id)):
        yield "exists: the demo support thread"
        return
    line = _line_to_ask_about(customer, vendor_user)
    if line is None:
        yield "support: the demo customer has no paid order to ask about"
        return
    store = line.vendor
    seller = db.session.get(User, store.user_id)
    if store.support_response_hours is None:
        services.set_response_time(seller, RESPONSE_HOURS)
    thread = services.start_thread(customer, line.id, SUBJECT, QUESTION)
    services.post_message(seller, thread.id, ANSWER)
    db.session.commit()
    yield f"created: support thread about {line.title} (answered by {store.store_name})"
