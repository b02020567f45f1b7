"""Record events in the caller's transaction; dispatch them to jobs once it has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db
from app.outbox.models import Event, EventDelivery
from app.queue import enqueue
from app.timeutil import utcnow

log = logging.getLogger(__name__)

# Which jobs react to which event: (queue, dotted path of a job taking the event id).
_REINDEX = ("search", "jobs.search.index_product")
_NOTIFY_VENDOR = ("default", "jobs.catalog.notify_listing_decision")
SUBSCRIBERS: dict[str, list[tuple[str, str]]] = {
    "user.registered": [("default", "jobs.accounts.send_verification_email")],
    "user.signup_repeated": [("default", "jobs.accounts.send_account_exists_email")],
    "user.verification_requested": [("default", "jobs.accounts.send_verification_email")],
    "user.verified": [("default", "jobs.accounts.send_welcome_email")],
    "password.reset_requested": [("default", "jobs.accounts.send_password_reset_email")],
    "password.changed": [("default", "jobs.accounts.send_password_changed_email")],
    "vendor.approved": [("default", "jobs.catalog.notify_vendor_decision")],
    "vendor.declined": [("default", "jobs.catalog.notify_vendor_decision")],
    "category.changed": [("search", "jobs.search.reindex_all")],
    # Review decisions email the vendor; those that can change what is public also reindex.
    "product.changes_requested": [_NOTIFY_VENDOR],
    **{
        name: [_REINDEX, _NOTIFY_VENDOR]
        for name in (
            "product.approved",
            "product.rejected",
            "product.suspended",
            "product.reinstated",
        )
    },
}

_FLUSHED = "outbox_flushed"
_COMMITTED = "outbox_committed"


def record_event(name: str, **payload: Any) -> Event:
    """Add an event to the current transaction; it is dispatched only if that commits."""
    event = Event(name=name, payload=payload)
    db.session.add(event)
    return event


@sa_event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, _context: Any) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, Event)]
    if ids:
        session.info.setdefault(_FLUSHED, []).extend(ids)


@sa_event.listens_for(Session, "after_commit")
def _promote_committed(session: Session) -> None:
    flushed = session.info.pop(_FLUSHED, [])
    if flushed:
        session.info.setdefault(_COMMITTED, []).extend(flushed)


@sa_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_FLUSHED, None)


def dispatch_committed() -> int:
    """Dispatch the events this session has committed; return how many were delivered."""
    delivered = 0
    while ids := db.session.info.pop(_COMMITTED, []):
        delivered += dispatch_events(ids)
    return delivered


def dispatch_events(ids: list[str]) -> int:
    """Enqueue the subscribers of each pending event in ``ids``; a failure leaves it pending."""
    delivered = 0
    for event_id in ids:
        event = db.session.get(Event, event_id)
        if event is None or event.dispatched_at is not None:
            continue
        try:
            for queue, path in SUBSCRIBERS.get(event.name, []):
                enqueue(queue, path, event.id, job_id=f"evt-{event.id}-{path.rsplit('.', 1)[1]}")
        except (RedisError, OSError) as exc:
            event.attempts += 1
            event.last_error = f"queue unavailable: {type(exc).__name__}"
            log.warning("event %s (%s) left pending: %s", event.id, event.name, exc)
        except Exception as exc:  # an in-process handler failed; the sweep retries it
            event.attempts += 1
            event.last_error = f"handler failed: {type(exc).__name__}: {exc}"[:1000]
            log.exception("event %s (%s) handler failed", event.id, event.name)
        else:
            event.dispatched_at = utcnow()
            delivered += 1
        db.session.commit()
    return delivered


def dispatch_pending(limit: int = 500) -> int:
    """The periodic sweep: dispatch events that were committed but never delivered."""
    ids = list(
        db.session.scalars(
            select(Event.id)
            .where(Event.dispatched_at.is_(None))
            .order_by(Event.created_at)
            .limit(limit)
        )
    )
    db.session.commit()
    return dispatch_events(ids) if ids else 0


def count_pending() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
        )
        or 0
    )


def deliver_once(event_id: str, handler: str, action: Callable[[Event], None]) -> bool:
    """Run ``action(event)`` unless ``handler`` already ran for this event; True if it ran."""
    event = db.session.get(Event, event_id)
    if event is None:
        log.warning("event %s not found for %s", event_id, handler)
        return False
    done = db.session.scalar(
        select(EventDelivery.id).where(
            EventDelivery.event_id == event_id, EventDelivery.handler == handler
        )
    )
    if done:
        return False
    action(event)
    db.session.add(EventDelivery(event_id=event_id, handler=handler))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent run of the same job got there first
        db.session.rollback()
        return False
    return True
