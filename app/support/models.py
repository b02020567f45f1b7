"""Support threads between a buyer and a store about one order line, their messages, image
attachments and escalations to admins."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.commerce.models import OrderLine
from app.extensions import db
from app.timeutil import utcnow
from app.vendors.models import VendorProfile


class ThreadStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the vendor (new, or the buyer wrote last)
    ANSWERED = "answered"  # the vendor wrote last
    CLOSED = "closed"  # by either side; no more messages


class Side(enum.StrEnum):
    BUYER = "buyer"
    VENDOR = "vendor"


STATUS_LABELS = {
    ThreadStatus.OPEN: "Open: waiting for the vendor",
    ThreadStatus.ANSWERED: "Answered: waiting for the buyer",
    ThreadStatus.CLOSED: "Closed",
}


class SupportThread(db.Model):
    """A buyer's question to the store that sold them one order line."""

    __tablename__ = "support_threads"
    __table_args__ = (
        # The vendor's inbox, filtered by status, latest activity first.
        Index("ix_support_threads_vendor_status_last", "vendor_id", "status", "last_message_at"),
        # The buyer's list of threads, latest activity first.
        Index("ix_support_threads_buyer_last", "buyer_id", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor_profiles.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=ThreadStatus.OPEN.value)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    vendor: Mapped[VendorProfile] = relationship()
    order_line: Mapped[OrderLine] = relationship()
    messages: Mapped[list[SupportMessage]] = relationship(
        back_populates="thread", order_by="SupportMessage.id", cascade="all, delete-orphan"
    )
    escalations: Mapped[list[SupportEscalation]] = relationship(
        back_populates="thread", order_by="SupportEscalation.id", cascade="all, delete-orphan"
    )

    @property
    def is_closed(self) -> bool:
        return self.status == ThreadStatus.CLOSED

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(ThreadStatus(self.status), self.status)

    @property
    def open_escalation(self) -> SupportEscalation | None:
        return next((e for e in self.escalations if e.resolved_at is None), None)


class SupportMessage(db.Model):
    """One message (plain text) from the buyer or the vendor, with its images."""

    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("support_threads.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    side: Mapped[str] = mapped_column(String(8))  # Side: who wrote it, kept if the account goes
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    thread: Mapped[SupportThread] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[SupportAttachment]] = relationship(
        back_populates="message", order_by="SupportAttachment.id", cascade="all, delete-orphan"
    )


class SupportAttachment(db.Model):
    """An image sent with a message: re-encoded as PNG and stored under its content hash."""

    __tablename__ = "support_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("support_messages.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(150))  # as uploaded, made safe
    size: Mapped[int] = mapped_column(Integer)  # of the stored PNG
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[SupportMessage] = relationship(back_populates="attachments")


class SupportEscalation(db.Model):
    """One side asks admins to look at a thread; resolved by an admin (audited)."""

    __tablename__ = "support_escalations"
    # One open escalation per thread, kept by the database too: two sides escalating at the
    # same moment cannot both get one.
    __table_args__ = (
        Index(
            "uq_support_escalations_open_thread",
            "thread_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("support_threads.id", ondelete="CASCADE"), index=True
    )
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    side: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(Text, default="")  # the admin's note, both sides see

    thread: Mapped[SupportThread] = relationship(back_populates="escalations")
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
