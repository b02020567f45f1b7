"""Provider events in, orders fulfilled: paid orders, ledger rows, licences, subscriptions and
refunds, each in the caller's one transaction.

Every verified event is stored once under (provider, event id): a duplicate, concurrent or
not, meets the unique key and changes nothing. State changes are conditional updates
(``UPDATE ... WHERE status = 'pending'``; a code's uses ``WHERE uses < max_uses``), so two
events racing for one order, or two orders for the last use of a code, cannot both win.
Subscription state follows the newest event only (``status_at``); period ends only grow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.accounts.permissions import Permission, refusal
from app.catalog.models import Product
from app.commerce import ledger
from app.commerce.models import (
    Cart,
    CartItem,
    DiscountCode,
    DiscountRedemption,
    InvoiceSequence,
    LedgerEntry,
    LineKind,
    Order,
    OrderLine,
    OrderStatus,
    PaymentEventRecord,
    Refund,
    Subscription,
)
from app.commerce.providers.base import EventKind, PaymentEvent, PaymentProvider
from app.commerce.providers.sandbox import SandboxProvider
from app.commerce.services import CartError, Quote, QuoteLine, _create_order, place_order
from app.errors import Conflict, NotFound, PermissionDenied
from app.extensions import db
from app.licensing.models import LicenceKind
from app.licensing.services import (
    follow_subscription,
    issue_licence,
    licences_of_lines,
    owned_product_ids,
    revoke_licences_for,
)
from app.money import format_money
from app.notifications.services import notify_later, site_path
from app.outbox.services import record_event
from app.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

PERIODS = {"month": timedelta(days=31), "year": timedelta(days=366)}
ENDED_STATUSES = frozenset({"canceled", "cancelled", "unpaid", "incomplete_expired", "ended"})


class DiscountUsedUp(Exception):
    """Raised inside the redemption's savepoint: the last use went to another order."""


class NothingToRefund(Conflict):
    message = "There is nothing left to refund on that."


@dataclass(frozen=True)
class Outcome:
    status: str  # "processed", "duplicate", "ignored", "unknown", ...
    detail: str = ""
    order_id: int | None = None


# -- events -----------------------------------------------------------------------------------


def handle_payment_event(event: PaymentEvent) -> Outcome:
    """Store ``event`` once and act on it, in the caller's transaction (the caller commits).
    A duplicate returns Outcome("duplicate") and changes nothing."""
    record = PaymentEventRecord(
        provider=event.provider,
        event_ref=event.event_ref[:255],
        kind=event.kind.value,
        raw_type=event.raw_type[:80],
        provider_created_at=event.created,
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return Outcome("duplicate", "this event was received before")
    outcome = _act(event)
    record.order_id = outcome.order_id
    record.outcome = f"{outcome.status}: {outcome.detail}"[:200]
    record.processed_at = utcnow()
    log.info(
        "payment event %s %s (%s): %s",
        event.provider,
        event.event_ref,
        event.raw_type or event.kind,
        record.outcome,
    )
    return outcome


def _act(event: PaymentEvent) -> Outcome:
    kind = event.kind
    if kind is EventKind.IGNORED:
        return Outcome("ignored", event.raw_type)
    if kind in (EventKind.PAYMENT_SUCCEEDED, EventKind.PAYMENT_PENDING, EventKind.PAYMENT_FAILED):
        order = _order_of(event)
        if order is None:
            return Outcome("unknown", "no order for this checkout")
        if kind is EventKind.PAYMENT_SUCCEEDED:
            return _paid(order, event)
        if kind is EventKind.PAYMENT_PENDING:
            if order.status == OrderStatus.PENDING and event.payment_ref:
                order.provider_payment_ref = event.payment_ref
            return Outcome("processed", "awaiting the payment", order.id)
        changed = _set_status(order, (OrderStatus.PENDING,), OrderStatus.FAILED, "payment failed")
        return Outcome("processed" if changed else "ignored", "payment failed", order.id)
    if kind is EventKind.REFUNDED:
        return _refunded(event)
    return _subscription_event(event)


def _order_of(event: PaymentEvent) -> Order | None:
    order = None
    if event.order_ref:
        order = db.session.scalar(select(Order).where(Order.number == event.order_ref[:24]))
    if order is None and event.session_ref:
        order = db.session.scalar(
            select(Order).where(
                Order.provider == event.provider, Order.provider_session_ref == event.session_ref
            )
        )
    if order is None and event.payment_ref:
        order = db.session.scalar(
            select(Order).where(
                Order.provider == event.provider, Order.provider_payment_ref == event.payment_ref
            )
        )
    if order is not None and order.provider != event.provider:
        return None  # another provider's order: not this event's to settle
    return order


def _set_status(order: Order, before: tuple[str, ...], after: str, reason: str = "") -> bool:
    """Move ``order`` from one of ``before`` to ``after`` unless another transaction did."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_([s.value for s in before]))
        .values(status=after, status_reason=reason[:200], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return bool(result.rowcount)


def _paid(order: Order, event: PaymentEvent) -> Outcome:
    if event.currency and event.currency.upper() != order.currency:
        return Outcome("refused", f"paid in {event.currency}, order in {order.currency}", order.id)
    if event.amount is not None and event.amount != order.total_cents:
        log.warning(
            "order %s: paid %s, order total %s: not fulfilled",
            order.number,
            event.amount,
            order.total_cents,
        )
        return Outcome("refused", f"paid {event.amount}, order total {order.total_cents}", order.id)
    if not _set_status(order, (OrderStatus.PENDING, OrderStatus.FAILED), OrderStatus.PAID):
        return Outcome("ignored", f"order already {order.status}", order.id)
    complete_order(
        order,
        payment_ref=event.payment_ref,
        subscription_ref=event.subscription_ref,
        period_end=event.period_end,
        fee=event.fee,
        at=event.created,
    )
    if order.status != OrderStatus.PAID:
        return Outcome("refused", order.status_reason, order.id)
    return Outcome("processed", "order paid and fulfilled", order.id)


def _next_invoice_number() -> int:
    statement = (
        update(InvoiceSequence)
        .where(InvoiceSequence.name == "invoice")
        .values(value=InvoiceSequence.value + 1)
        .returning(InvoiceSequence.value)
    )
    value = db.session.scalar(statement)
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(InvoiceSequence).values(name="invoice", value=1))
            return 1
        except IntegrityError:  # another fulfilment made the row first
            value = db.session.scalar(statement)
    assert value is not None
    return value


def _redeem(order: Order) -> None:
    """Count the order's code, once per customer and within its uses; raises DiscountUsedUp."""
    with db.session.begin_nested():
        db.session.add(
            DiscountRedemption(
                code_id=order.discount_code_id, user_id=order.buyer_id, order_id=order.id
            )
        )
        try:
            db.session.flush()
        except IntegrityError as exc:
            raise DiscountUsedUp("the buyer used this code before") from exc
        counted = db.session.execute(
            update(DiscountCode)
            .where(
                DiscountCode.id == order.discount_code_id,
                (DiscountCode.max_uses.is_(None)) | (DiscountCode.uses < DiscountCode.max_uses),
            )
            .values(uses=DiscountCode.uses + 1)
            .execution_options(synchronize_session=False)
        )
        if not counted.rowcount:
            raise DiscountUsedUp("the code's last use went to another order")


def complete_order(
    order: Order,
    payment_ref: str | None = None,
    subscription_ref: str | None = None,
    period_end: datetime | None = None,
    fee: int | None = None,
    at: datetime | None = None,
) -> None:
    """Fulfil an order just marked paid: invoice number, the code's redemption, ledger rows,
    subscriptions, licences, the cart emptied, and the events for the follow-ups."""
    now = utcnow()
    at = at or now
    if order.discount_code_id is not None:
        try:
            _redeem(order)
        except DiscountUsedUp as exc:
            # Paid at a discount nobody may have any more: the money goes back in full.
            _set_status(order, (OrderStatus.PAID,), OrderStatus.FAILED, f"discount code: {exc}")
            order.provider_payment_ref = payment_ref or order.provider_payment_ref
            record_event("order.refund_needed", order_id=order.id)
            return
    order.paid_at = now
    order.provider_payment_ref = payment_ref or order.provider_payment_ref
    order.fee_cents = fee
    if order.total_cents > 0:
        order.invoice_number = _next_invoice_number()
    paid_lines = [line for line in order.lines if line.price_cents > 0]
    fees = _split(fee or 0, [line.price_cents for line in paid_lines])
    for line, line_fee in zip(paid_lines, fees, strict=True):
        ledger.record_sale(f"sale:{line.id}", line, line.price_cents, line_fee or None)
    licence_ids = []
    for line in order.lines:
        subscription = None
        expires_at = None
        kind = LicenceKind.PERPETUAL
        if line.kind == LineKind.SUBSCRIPTION and line.interval:
            expires_at = period_end or (at + PERIODS[line.interval])
            subscription = Subscription(
                order_line_id=line.id,
                buyer_id=order.buyer_id,
                provider=order.provider,
                provider_ref=(subscription_ref or f"{order.provider}:{order.number}")[:255],
                status="active",
                interval=line.interval,
                current_period_end=expires_at,
                status_at=at,
            )
            db.session.add(subscription)
            db.session.flush()
            kind = LicenceKind.SUBSCRIPTION
        licence = issue_licence(
            order.buyer_id,
            line.product,
            line.id,
            kind=kind,
            subscription_id=subscription.id if subscription else None,
            expires_at=expires_at,
        )
        licence_ids.append(licence.id)
    _empty_cart(order)
    record_event("payment.completed", order_id=order.id)
    record_event("license.issued", order_id=order.id, licence_ids=licence_ids)
    _notify_vendors_of_sale(order)


def _by_vendor(lines: list[OrderLine]) -> dict[int, list[OrderLine]]:
    grouped: dict[int, list[OrderLine]] = {}
    for line in lines:
        grouped.setdefault(line.vendor_id, []).append(line)
    return grouped


def _titles(lines: list[OrderLine]) -> str:
    return ", ".join(f"“{line.title}”" for line in lines)


def _notify_vendors_of_sale(order: Order) -> None:
    """One sale_made notification per vendor with lines in ``order`` (this transaction)."""
    link = site_path("vendors.analytics_GET")
    for lines in _by_vendor(list(order.lines)).values():
        paid = sum(line.price_cents for line in lines)
        title = (
            f"You sold {_titles(lines)} for {format_money(paid, order.currency)}"
            if paid
            else f"A buyer got {_titles(lines)} for free"
        )
        body = "\n".join(
            f"{line.title}: {format_money(line.price_cents, line.currency)}"
            + (f" per {line.interval}" if line.interval else "")
            for line in lines
        )
        notify_later(lines[0].vendor.user_id, "sale_made", title, body, link)


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (the remainder on the last share)."""
    if not weights:
        return []
    whole = sum(weights) or 1
    shares = [total * w // whole for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def _empty_cart(order: Order) -> None:
    cart_id = db.session.scalar(select(Cart.id).where(Cart.user_id == order.buyer_id))
    if cart_id is None:
        return
    product_ids = [line.product_id for line in order.lines]
    db.session.execute(
        delete(CartItem)
        .where(CartItem.cart_id == cart_id, CartItem.product_id.in_(product_ids))
        .execution_options(synchronize_session=False)
    )
    if order.discount_code_id is not None:
        db.session.execute(
            update(Cart)
            .where(Cart.id == cart_id)
            .values(discount_code=None)
            .execution_options(synchronize_session=False)
        )


# -- subscriptions ------------------------------------------------------------------------------


def _subscriptions_of(event: PaymentEvent) -> list[Subscription]:
    if not event.subscription_ref:
        return []
    return list(
        db.session.scalars(
            select(Subscription).where(
                Subscription.provider == event.provider,
                Subscription.provider_ref == event.subscription_ref,
            )
        )
    )


def _is_newer(subscription: Subscription, at: datetime) -> bool:
    return subscription.status_at is None or as_utc(subscription.status_at) <= at


def _subscription_event(event: PaymentEvent) -> Outcome:
    subscriptions = _subscriptions_of(event)
    if not subscriptions:
        return Outcome("unknown", "no subscription with that id")
    order_id = subscriptions[0].line.order_id
    kind = event.kind
    if kind is EventKind.RENEWAL_PAID:
        _renewal_paid(subscriptions, event)
        return Outcome("processed", "renewal paid", order_id)
    before = {subscription.id: subscription.status for subscription in subscriptions}
    for subscription in subscriptions:
        if kind is EventKind.RENEWAL_FAILED:
            if _is_newer(subscription, event.created):
                subscription.status, subscription.status_at = "past_due", event.created
            # The licence runs to the end of the period paid for; it ends then if unpaid.
        elif kind is EventKind.SUBSCRIPTION_CANCELLED or (
            kind is EventKind.SUBSCRIPTION_UPDATED
            and (event.subscription_status or "") in ENDED_STATUSES
        ):
            if subscription.cancelled_at is None:
                subscription.status = "canceled"
                subscription.status_at = event.created
                subscription.cancelled_at = event.created
                follow_subscription(subscription.id, event.created)
        elif kind is EventKind.SUBSCRIPTION_UPDATED:
            _extend(subscription, event.period_end)
            if _is_newer(subscription, event.created) and subscription.cancelled_at is None:
                subscription.status = event.subscription_status or subscription.status
                subscription.status_at = event.created
    # Past due from the failed charge or from the subscription's update, whichever the
    # provider delivers first: the subscriber hears of it once.
    lapsed = [s for s in subscriptions if s.status == "past_due" != before[s.id]]
    if lapsed:
        _notify_of_failed_renewal(lapsed)
    return Outcome("processed", kind.value, order_id)


def _notify_of_failed_renewal(subscriptions: list[Subscription]) -> None:
    """The subscriber hears once that a renewal failed (the first failure of a period; the
    provider's retries of the same charge say nothing new)."""
    lines = [subscription.line for subscription in subscriptions]
    ends = [as_utc(s.current_period_end) for s in subscriptions if s.current_period_end]
    until = f" Your licence runs until {min(ends):%d %b %Y}." if ends else ""
    notify_later(
        subscriptions[0].buyer_id,
        "renewal_failed",
        f"Your subscription to {_titles(lines)} could not be renewed",
        "The payment for the next period failed; the payment provider will try again. "
        f"Check your card or payment method with them.{until}",
        site_path("commerce.order_GET", order_id=lines[0].order_id),
    )


def _extend(subscription: Subscription, period_end: datetime | None) -> None:
    """Period ends only move forward; the licences follow while the subscription runs."""
    if period_end is None or subscription.cancelled_at is not None:
        return
    current = subscription.current_period_end
    if current is None or as_utc(current) < period_end:
        subscription.current_period_end = period_end
        follow_subscription(subscription.id, period_end)


def _renewal_paid(subscriptions: list[Subscription], event: PaymentEvent) -> None:
    lines = [subscription.line for subscription in subscriptions]
    amount = event.amount if event.amount is not None else sum(line.price_cents for line in lines)
    shares = _split(amount, [line.price_cents for line in lines])
    txn_base = f"renewal:{event.provider}:{event.payment_ref or event.event_ref}"
    for subscription, line, share in zip(subscriptions, lines, shares, strict=True):
        txn = f"{txn_base}:{line.id}"[:64]
        exists = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.txn == txn).limit(1))
        if exists is None:  # once per renewal payment, however often it is delivered
            ledger.record_sale(txn, line, share)
            notify_later(
                line.vendor.user_id,
                "sale_made",
                f"A subscription to {_titles([line])} renewed for "
                f"{format_money(share, line.currency)}",
                f"{line.title}: {format_money(share, line.currency)} per {line.interval}",
                site_path("vendors.analytics_GET"),
            )
        if subscription.cancelled_at is None:
            end = event.period_end or utcnow() + PERIODS.get(
                subscription.interval, PERIODS["month"]
            )
            _extend(subscription, end)
            if _is_newer(subscription, event.created):
                subscription.status, subscription.status_at = "active", event.created


# -- refunds --------------------------------------------------------------------------------------


def _refunded(event: PaymentEvent) -> Outcome:
    amount = event.amount or 0
    renewal_lines = _renewal_lines(event)
    order = _order_of(event) if not renewal_lines else renewal_lines[0].order
    if order is None:
        return Outcome("unknown", "no order for this payment")
    if not order.is_paid:
        return Outcome("ignored", f"refund for an order that is {order.status}", order.id)
    pending = db.session.scalars(
        select(Refund)
        .where(Refund.order_id == order.id, Refund.processed_at.is_(None))
        .order_by(Refund.id)
    ).all()
    match = next((r for r in pending if r.amount_cents == amount), None)
    if match is not None:
        match.processed_at = utcnow()
        targets = [match.line] if match.line is not None else list(order.lines)
    else:
        targets = renewal_lines or list(order.lines)
    refunded = apply_refund(order, targets, amount, f"refund:{event.provider}:{event.event_ref}")
    if not refunded:
        return Outcome("ignored", "nothing left to refund", order.id)
    return Outcome("processed", f"refunded {refunded}", order.id)


def _renewal_lines(event: PaymentEvent) -> list[OrderLine]:
    if not event.payment_ref:
        return []
    prefix = f"renewal:{event.provider}:{event.payment_ref}:"
    line_ids = db.session.scalars(
        select(LedgerEntry.order_line_id).where(LedgerEntry.txn.startswith(prefix)).distinct()
    ).all()
    return [line for line in (db.session.get(OrderLine, i) for i in line_ids) if line]


def apply_refund(order: Order, lines: list[OrderLine], amount: int, txn_base: str) -> int:
    """Spread ``amount`` over ``lines`` (what each has left to refund, in order): reversing
    ledger rows, and every line refunded in full loses its licences. Returns the amount."""
    left = amount
    shares: dict[int, int] = {}
    for line in lines:
        if left <= 0:
            break
        share = min(left, ledger.refundable(line))
        if share <= 0:
            continue
        ledger.record_refund(f"{txn_base}:{line.id}"[:64], line, share)
        line.refunded_cents += share
        shares[line.id] = share
        left -= share
        if ledger.refundable(line) == 0:
            line.refunded_at = utcnow()
            revoke_licences_for(line.id, "refunded")
    done = amount - left
    if done:
        order.refunded_cents += done
        every = all(line.refunded_at is not None or line.price_cents == 0 for line in order.lines)
        order.status = (OrderStatus.REFUNDED if every else OrderStatus.PARTIALLY_REFUNDED).value
        record_event("order.refunded", order_id=order.id, amount=done)
        _notify_of_refund(order, [line for line in lines if line.id in shares], shares)
    return done


def _notify_of_refund(order: Order, lines: list[OrderLine], shares: dict[int, int]) -> None:
    """The buyer and each vendor whose lines gave money back hear of the refund (this
    transaction): one notification each."""
    total = format_money(sum(shares.values()), order.currency)
    revoked = [line for line in lines if line.refunded_at is not None]
    if not revoked:
        body = "Your licence stays valid."
    elif len(revoked) == 1:
        body = f"The licence for {_titles(revoked)} is revoked."
    else:
        body = f"The licences for {_titles(revoked)} are revoked."
    notify_later(
        order.buyer_id,
        "refund",
        f"Refund of {total} for order {order.number}",
        body,
        site_path("commerce.order_GET", order_id=order.id),
    )
    link = site_path("vendors.analytics_GET")
    for vendor_lines in _by_vendor(lines).values():
        amount = sum(shares[line.id] for line in vendor_lines)
        notify_later(
            vendor_lines[0].vendor.user_id,
            "refund",
            f"Refund of {format_money(amount, order.currency)} on {_titles(vendor_lines)}",
            f"Order {order.number}. The refund is taken from your balance.",
            link,
        )


def request_refund(
    actor: User, order_id: int, line_id: int | None, provider: PaymentProvider, reason: str = ""
) -> Refund:
    """An admin refunds a whole order or one line through its provider (the ledger and the
    licences follow the provider's refund event; the sandbox's comes at once). A refunded
    subscription line is cancelled too. Raises PermissionDenied, NotFound, NothingToRefund
    and the provider's ProviderError."""
    if not actor.can(Permission.MODERATE):
        raise PermissionDenied(refusal(actor, Permission.MODERATE))
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound()
    lines = list(order.lines)
    if line_id is not None:
        lines = [line for line in lines if line.id == line_id]
        if not lines:
            raise NotFound()
    amount = sum(ledger.refundable(line) for line in lines)
    if not order.is_paid or amount <= 0 or not order.provider_payment_ref:
        raise NothingToRefund()
    previous = db.session.scalar(
        select(db.func.count(Refund.id)).where(Refund.order_id == order.id)
    )
    key = f"refund:{order.number}:{line_id or 'order'}:{(previous or 0) + 1}"
    refund_ref = provider.refund(order.provider_payment_ref, amount, order.currency, key)
    refund = Refund(
        order_id=order.id,
        order_line_id=line_id,
        amount_cents=amount,
        currency=order.currency,
        provider_refund_ref=refund_ref,
        requested_by_id=actor.id,
        reason=reason[:500],
    )
    db.session.add(refund)
    db.session.flush()
    cancelled = []
    for line in lines:
        subscription = db.session.scalar(
            select(Subscription).where(Subscription.order_line_id == line.id)
        )
        if subscription is not None and subscription.cancelled_at is None:
            provider.cancel_subscription(subscription.provider_ref, f"{key}:cancel")
            cancelled.append(subscription.provider_ref)
    if isinstance(provider, SandboxProvider):
        # The sandbox answers at once, through the same path as a provider's webhook.
        deliveries = [
            provider.refund_delivery(order.provider_payment_ref, amount, order.currency, refund_ref)
        ] + [provider.cancel_delivery(ref) for ref in dict.fromkeys(cancelled)]
        for payload, headers in deliveries:
            handle_payment_event(provider.parse_webhook(payload, headers))
    return refund


def refund_unfulfilled(order_id: int, provider: PaymentProvider) -> str | None:
    """Give back the whole payment of an order that was paid but could not be fulfilled (its
    code ran out meanwhile); returns the provider's refund reference, None if nothing to do."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != OrderStatus.FAILED or not order.provider_payment_ref:
        return None
    if order.total_cents <= 0:
        return None
    return provider.refund(
        order.provider_payment_ref,
        order.total_cents,
        order.currency,
        f"refund:{order.number}:unfulfilled",
    )


# -- free products ------------------------------------------------------------------------------


def get_free(user: User, product_id: int) -> Order:
    """``user`` gets a free product: an order of 0 with its licence, fulfilled at once by the
    same code as paid orders (no invoice). Raises PermissionDenied, NotFound (not on sale),
    CartError (not free, own product, already owned)."""
    if not user.can(Permission.BUY):
        raise PermissionDenied(refusal(user, Permission.BUY) or "You cannot get products.")
    product = db.session.get(Product, product_id)
    if product is None or product.status != "approved":
        raise NotFound("This product is not available.")
    if not product.is_free:
        raise CartError("This product is not free: add it to your cart.")
    if product.vendor.user_id == user.id:
        raise CartError("This is your own product.")
    if owned_product_ids(user.id, [product_id]):
        raise CartError("You already own this product: it is in your library.")
    order = _create_order(user, _free_quote(product), "free", 0)
    _set_status(order, (OrderStatus.PENDING,), OrderStatus.PAID)
    complete_order(order)
    return order


def _free_quote(product: Product) -> Quote:
    return Quote([QuoteLine(product, None, 0, 0, None)], None, None, None)


def receipt_context(order_id: int) -> dict:
    """What the receipt email shows: the order, its lines and their licence keys."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound()
    licences = licences_of_lines([line.id for line in order.lines])
    return {"order": order, "licences": licences}


# -- checkout and the sandbox's pay page --------------------------------------------------------


def start_checkout(user: User, provider_name: str, default_commission_bps: int) -> Order:
    """A pending order for ``user``'s cart (see ``place_order``); an order with nothing to pay
    (a code took it all) is fulfilled at once."""
    order = place_order(user, provider_name, default_commission_bps)
    if order.total_cents == 0:
        _set_status(order, (OrderStatus.PENDING,), OrderStatus.PAID)
        complete_order(order)
    return order


def sandbox_order(user: User, provider: SandboxProvider, session_ref: str) -> Order:
    """``user``'s order behind a sandbox checkout; NotFound for anyone else's."""
    order = db.session.scalar(
        select(Order).where(
            Order.provider == provider.name, Order.provider_session_ref == session_ref[:255]
        )
    )
    if order is None or order.buyer_id != user.id:
        raise NotFound()
    return order


def pay_in_sandbox(user: User, provider: SandboxProvider, session_ref: str) -> Order:
    """The buyer pays on the sandbox page: a signed delivery goes through ``parse_webhook``
    and ``handle_payment_event`` like any provider's. Paying twice changes nothing."""
    order = sandbox_order(user, provider, session_ref)
    interval = next((line.interval for line in order.lines if line.interval), None)
    payload, headers = provider.payment_delivery(
        order.number, session_ref, order.total_cents, order.currency, interval
    )
    handle_payment_event(provider.parse_webhook(payload, headers))
    return order


def licences_for(order: Order) -> dict:
    """The order's licences by line id."""
    return licences_of_lines([line.id for line in order.lines])
