"""Licences issued on fulfilment, and the instances a licence is activated on."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Product
from app.extensions import db
from app.timeutil import as_utc, utcnow


class LicenceKind(enum.StrEnum):
    PERPETUAL = "perpetual"
    SUBSCRIPTION = "subscription"  # valid while its subscription is
    TRIAL = "trial"


class LicenceStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # by the vendor; may be enabled again
    REVOKED = "revoked"  # refunded or ended for good


class Licence(db.Model):
    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # app.licensing.keys format
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default=LicenceKind.PERPETUAL.value)
    status: Mapped[str] = mapped_column(String(16), default=LicenceStatus.ACTIVE.value)
    # Permissions, copied from the listing's terms when issued.
    can_download: Mapped[bool] = mapped_column(Boolean, default=True)
    commercial_use: Mapped[bool] = mapped_column(Boolean, default=True)
    redistribution: Mapped[bool] = mapped_column(Boolean, default=False)
    modification: Mapped[bool] = mapped_column(Boolean, default=True)
    # Limits: None is unlimited.
    max_downloads: Mapped[int | None] = mapped_column(Integer)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    max_activations: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    user: Mapped[User] = relationship()
    product: Mapped[Product] = relationship()
    activations: Mapped[list[LicenceActivation]] = relationship(
        back_populates="licence", order_by="LicenceActivation.id", cascade="all, delete-orphan"
    )

    def state(self, now: datetime | None = None) -> str:
        """``active``, or why the licence cannot be used: ``revoked``, ``disabled`` or
        ``expired``. A subscription licence's expiry follows its subscription (the end of the
        period paid for, or the moment it ended), so expiry is the one rule for every kind."""
        if self.status == LicenceStatus.REVOKED:
            return "revoked"
        if self.status == LicenceStatus.DISABLED:
            return "disabled"
        if self.expires_at is not None and as_utc(self.expires_at) <= (now or utcnow()):
            return "expired"
        return "active"

    def is_valid(self, now: datetime | None = None) -> bool:
        return self.state(now) == "active"


class LicenceActivation(db.Model):
    """One instance (machine, workspace) a licence is activated on; freed by deactivating."""

    __tablename__ = "licence_activations"
    __table_args__ = (UniqueConstraint("licence_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id", ondelete="CASCADE"))
    instance_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    licence: Mapped[Licence] = relationship(back_populates="activations")
