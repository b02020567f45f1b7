"""A seller's profile (the store a customer applies for and an admin approves), its daily
analytics aggregates, its payout details and its payouts."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.extensions import db
from app.timeutil import utcnow


class VendorStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class VendorProfile(db.Model):
    __tablename__ = "vendor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    store_name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(60), unique=True, index=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    support_email: Mapped[str] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default=VendorStatus.PENDING.value, index=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # The platform's commission on this store's sales, overriding PLATFORM_COMMISSION_BPS.
    commission_bps: Mapped[int | None] = mapped_column(Integer)
    # The store's promise to answer a support message within this many hours (None: none made).
    support_response_hours: Mapped[int | None] = mapped_column(Integer)
    # An admin's hold on the store's payouts (a dispute, a fraud check): the payouts job
    # skips the store until it is released; its balance keeps growing meanwhile.
    payouts_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    payouts_held_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    payouts_held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_approved(self) -> bool:
        return self.status == VendorStatus.APPROVED

    def __repr__(self) -> str:
        return f"<VendorProfile {self.slug} {self.status}>"


class ProductDailyStat(db.Model):
    """One product's day, computed by the aggregation job (analytics.aggregate_day) from page
    views, order lines and the ledger; recomputing a day replaces its rows."""

    __tablename__ = "product_daily_stats"
    __table_args__ = (
        # The dashboard's top listings sum these over a range for ten products. A day's rows
        # are written together, so one product's days lie on as many table pages as days: read
        # from this index instead, a listing's range is a few adjacent pages (2.4 ms -> 0.4 ms
        # for ten listings over 90 days on SQLite; an index-only scan on PostgreSQL).
        Index(
            "ix_product_daily_stats_figures",
            "product_id",
            "day",
            "views",
            "visitors",
            "sales",
            "net_cents",
        ),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))  # the product's
    views: Mapped[int] = mapped_column(Integer, default=0)  # one per visitor (pageviews.py)
    visitors: Mapped[int] = mapped_column(Integer, default=0)  # distinct networks
    sales: Mapped[int] = mapped_column(Integer, default=0)  # paid order lines
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    net_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # ledger vendor_net rows
    refunds: Mapped[int] = mapped_column(Integer, default=0)  # lines refunded that day
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class ProductDailySource(db.Model):
    """Where a product's visitors came from on a day: a referrer host (``kind`` "referrer") or
    a search query whose results they clicked (``kind`` "query"), with how many."""

    __tablename__ = "product_daily_sources"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(Integer, default=0)


class VendorDailyStat(db.Model):
    """A store's day (its products' rows added up, per currency): the store's dashboard reads
    one row per day, however many listings it has."""

    __tablename__ = "vendor_daily_stats"

    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    visitors: Mapped[int] = mapped_column(Integer, default=0)
    sales: Mapped[int] = mapped_column(Integer, default=0)
    gross_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    net_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds: Mapped[int] = mapped_column(Integer, default=0)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class VendorDailySource(db.Model):
    """A store's referrer hosts and clicked queries of a day, its products' added up."""

    __tablename__ = "vendor_daily_sources"

    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PayoutMethod(enum.StrEnum):
    STRIPE = "stripe"  # a transfer to the vendor's Stripe Connect account
    BANK = "bank"  # a manual bank transfer an admin marks as sent


class PayoutAccount(db.Model):
    """Where a vendor is paid: a Stripe Connect account id, or bank details encrypted at rest
    (Fernet, PAYOUT_ENCRYPTION_KEY); only the last four characters are kept in clear."""

    __tablename__ = "payout_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), unique=True
    )
    method: Mapped[str] = mapped_column(String(8), default=PayoutMethod.BANK.value)
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    bank_details_encrypted: Mapped[str | None] = mapped_column(Text)
    bank_last4: Mapped[str] = mapped_column(String(4), default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"  # ledger rows written; waiting for Stripe or an admin
    SENT = "sent"
    FAILED = "failed"  # reversed in the ledger: the money is back in the balance


class Payout(db.Model):
    """Money leaving a vendor's balance: written to the ledger when created (vendor -> payouts
    clearing), cleared when sent, reversed when it fails."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="RESTRICT"), index=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default=PayoutStatus.PENDING.value, index=True)
    txn: Mapped[str] = mapped_column(String(64), unique=True)  # its ledger transaction
    provider_ref: Mapped[str | None] = mapped_column(String(255))  # transfer id, bank reference
    failure: Mapped[str] = mapped_column(String(200), default="")
    # Ledger rows up to here are in this payout's statement.
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    vendor: Mapped[VendorProfile] = relationship()
