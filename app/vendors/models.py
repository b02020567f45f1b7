"""A seller's profile: the store a customer applies for and an admin approves."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
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
