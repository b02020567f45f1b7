"""Reviews, their edit history, the vendor's one reply, and reports of abuse."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Product
from app.extensions import db
from app.timeutil import utcnow
from app.vendors.models import VendorProfile


class ReviewStatus(enum.StrEnum):
    PUBLISHED = "published"
    PENDING = "pending"  # in the moderation queue (a spam rule matched, or edited after a hide)
    HIDDEN = "hidden"  # by an admin, with a reason the author sees
    DELETED = "deleted"  # by an admin, with a reason; kept so the buyer cannot post it again


class BodyFormat(enum.StrEnum):
    PLAIN = "plain"
    MARKDOWN = "markdown"


STATUS_LABELS = {
    ReviewStatus.PUBLISHED: "Published",
    ReviewStatus.PENDING: "Waiting for moderation",
    ReviewStatus.HIDDEN: "Hidden by a moderator",
    ReviewStatus.DELETED: "Removed by a moderator",
}


class Review(db.Model):
    """One buyer's review of one product (edited in place; earlier versions in ReviewEdit)."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "author_id"),
        # The product page lists its published reviews, newest first.
        Index("ix_reviews_product_status_created", "product_id", "status", "created_at"),
        # The burst rule counts an author's recent reviews.
        Index("ix_reviews_author_created", "author_id", "created_at"),
        Index("ix_reviews_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stars: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)  # as typed
    body_format: Mapped[str] = mapped_column(String(8), default=BodyFormat.PLAIN.value)
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised at save
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PENDING.value)
    # Why the spam rules held it back (for moderators), and a moderator's reason (for the author).
    spam_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    moderation_reason: Mapped[str] = mapped_column(String(500), default="")
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    product: Mapped[Product] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reply: Mapped[ReviewReply | None] = relationship(
        back_populates="review", cascade="all, delete-orphan", uselist=False
    )
    edits: Mapped[list[ReviewEdit]] = relationship(
        back_populates="review", order_by="ReviewEdit.id", cascade="all, delete-orphan"
    )
    reports: Mapped[list[ReviewReport]] = relationship(
        back_populates="review", order_by="ReviewReport.id", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(ReviewStatus(self.status), self.status)

    @property
    def author_name(self) -> str:
        """How the review is signed in public: first name and initial, never the email."""
        user = self.author
        first = (user.first_name or "").strip()
        last = (user.last_name or "").strip()
        if not first:
            return "A verified buyer"
        return f"{first} {last[0]}." if last else first


class ReviewEdit(db.Model):
    """A review as it was before one edit (the current text is on the review)."""

    __tablename__ = "review_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # the status it had then
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when that text was
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    review: Mapped[Review] = relationship(back_populates="edits")


class ReviewReply(db.Model):
    """The product's vendor's one public reply to a review."""

    __tablename__ = "review_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), unique=True
    )
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_profiles.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    review: Mapped[Review] = relationship(back_populates="reply")
    vendor: Mapped[VendorProfile] = relationship()


class ReviewReport(db.Model):
    """Someone signed in says a review breaks the rules; resolved when a moderator acts."""

    __tablename__ = "review_reports"
    # One report per person and review: reporting again says so instead of piling up.
    __table_args__ = (UniqueConstraint("review_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    review: Mapped[Review] = relationship(back_populates="reports")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
