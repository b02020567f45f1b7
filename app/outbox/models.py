"""Event rows (the outbox) and one delivery row per (event, handler): delivered, or failed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow


def new_event_id() -> str:
    return str(uuid.uuid4())


class Event(db.Model):
    """Pending until every subscriber's handler has delivered it (``delivered_at``)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_event_id)
    name: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Last handed to the queue (or, without Redis, run); not a sign that anything ran.
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class EventDelivery(db.Model):
    """One row per (event, handler) that has run to the end: ``delivered_at`` when it did its
    work (a handler seeing it skips the work), ``failed_at`` when it used up its retries. A
    row with neither is a failed delivery an admin sent again."""

    __tablename__ = "event_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "handler", name="uq_event_deliveries_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    handler: Mapped[str] = mapped_column(String(128))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[str | None] = mapped_column(Text)

    event: Mapped[Event] = relationship()
