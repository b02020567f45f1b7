"""Carts, discount codes, orders and their lines, payment events, subscriptions, the ledger."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Product
from app.extensions import db
from app.timeutil import utcnow
from app.vendors.models import VendorProfile


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # checkout started, not paid (yet)
    PAID = "paid"
    FAILED = "failed"  # an async payment failed
    REFUNDED = "refunded"  # every line refunded
    PARTIALLY_REFUNDED = "partially_refunded"


class LineKind(enum.StrEnum):
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"
    FREE = "free"


class DiscountKind(enum.StrEnum):
    PERCENT = "percent"  # value in basis points
    FIXED = "fixed"  # value in minor units of the code's currency


class Cart(db.Model):
    """A signed-in shopper's cart (an anonymous one lives in the session until login)."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    discount_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", order_by="CartItem.id", cascade="all, delete-orphan"
    )


class CartItem(db.Model):
    """One product in a cart: digital goods have no quantity; a subscription has its interval."""

    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    interval: Mapped[str | None] = mapped_column(String(8))  # "month" | "year" | None
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


discount_code_products = Table(
    "discount_code_products",
    db.metadata,
    Column("code_id", ForeignKey("discount_codes.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)


class DiscountCode(db.Model):
    """A vendor's code for some of its products; ``uses`` is counted at fulfilment only."""

    __tablename__ = "discount_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stored upper case
    kind: Mapped[str] = mapped_column(String(8), default=DiscountKind.PERCENT.value)
    value: Mapped[int] = mapped_column(Integer)  # bps for percent, minor units for fixed
    currency: Mapped[str] = mapped_column(String(3), default="USD")  # for fixed amounts
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    vendor: Mapped[VendorProfile] = relationship()
    products: Mapped[list[Product]] = relationship(secondary=discount_code_products)


class DiscountRedemption(db.Model):
    """A code used by a customer: once per code and customer, written at fulfilment."""

    __tablename__ = "discount_redemptions"
    __table_args__ = (UniqueConstraint("code_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("discount_codes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InvoiceSequence(db.Model):
    """The one counter invoice numbers come from (incremented in the fulfilling transaction)."""

    __tablename__ = "invoice_sequences"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("provider", "provider_session_ref"),
        Index("ix_orders_buyer_created", "buyer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING.value, index=True)
    status_reason: Mapped[str] = mapped_column(String(200), default="")  # why it failed, ...
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_cents: Mapped[int] = mapped_column(Integer, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    fee_cents: Mapped[int | None] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(16))  # stripe | razorpay | sandbox | free
    provider_session_ref: Mapped[str | None] = mapped_column(String(255))
    provider_payment_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    discount_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("discount_codes.id", ondelete="SET NULL")
    )
    invoice_number: Mapped[int | None] = mapped_column(Integer, unique=True)
    buyer_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seller_details: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    buyer: Mapped[User] = relationship()
    discount: Mapped[DiscountCode | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    @property
    def is_paid(self) -> bool:
        return self.status in (
            OrderStatus.PAID,
            OrderStatus.PARTIALLY_REFUNDED,
            OrderStatus.REFUNDED,
        )

    @property
    def invoice_label(self) -> str | None:
        return f"INV-{self.invoice_number:06d}" if self.invoice_number else None


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default=LineKind.ONE_TIME.value)
    interval: Mapped[str | None] = mapped_column(String(8))
    list_price_cents: Mapped[int] = mapped_column(Integer)  # the price read at checkout
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    price_cents: Mapped[int] = mapped_column(Integer)  # paid: list price less the discount
    currency: Mapped[str] = mapped_column(String(3))
    commission_bps: Mapped[int] = mapped_column(Integer, default=0)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    vendor: Mapped[VendorProfile] = relationship()

    @property
    def is_refunded(self) -> bool:
        return self.refunded_at is not None


class Refund(db.Model):
    """A refund an admin asked the provider for; the money moves with the provider's event."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE")
    )
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    provider_refund_ref: Mapped[str | None] = mapped_column(String(255))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    order: Mapped[Order] = relationship()
    line: Mapped[OrderLine | None] = relationship()


class PaymentEventRecord(db.Model):
    """Each verified provider event, stored once (duplicates are refused by the unique key)."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_ref: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))
    raw_type: Mapped[str] = mapped_column(String(80), default="")
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    provider_created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(200), default="")


class Subscription(db.Model):
    """A provider subscription bought through one order line; licences follow its validity."""

    __tablename__ = "subscriptions"
    # One provider subscription may pay for several lines (Stripe: one per checkout).
    __table_args__ = (Index("ix_subscriptions_provider_ref", "provider", "provider_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True
    )
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="active")
    interval: Mapped[str] = mapped_column(String(8))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the provider created the event that set ``status``: an older event never undoes it.
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    line: Mapped[OrderLine] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ("active", "trialing")


class LedgerEntry(db.Model):
    """One leg of a double-entry transaction; rows of one ``txn`` sum to zero. Append-only.

    Accounts: ``buyer`` (money coming in), ``vendor:<id>``, ``platform``, ``provider_fees``.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account_created", "account", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    txn: Mapped[str] = mapped_column(String(64), index=True)
    account: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # signed
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))  # gross|commission|fee|vendor_net|refund...
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
