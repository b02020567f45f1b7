"""Record events in the caller's transaction; dispatch them to jobs once it has committed; follow
each event until every handler has delivered it (or used up its retries).

An event is pending until each of its subscribers' handlers has written its delivery row. The
sweep (the worker's chore, or `flask outbox sweep`) hands events that never reached the queue
to it, and looks after dispatched events still missing deliveries after OUTBOX_GRACE_SECONDS:
a job still on its way is left alone, one that used up its retries is marked failed (counted by
/healthz, listed for admins, who may send it again), and one Redis no longer has (lost with
Redis's data) is enqueued again. Handlers are idempotent (``deliver_once``), so a second run of
a job that did deliver does nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.accounts.permissions import Permission, has_permission
from app.errors import Conflict, NotFound, PermissionDenied
from app.extensions import db
from app.outbox.models import Event, EventDelivery
from app.queue import ALIVE, GAVE_UP, discard_job, enqueue, job_states, redis_connection
from app.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

# Which jobs react to which event: (queue, dotted path of a job taking the event id). The
# job's function name is its handler's name in the delivery rows.
_REINDEX = ("search", "jobs.search.index_product")
_NOTIFY_VENDOR = ("default", "jobs.catalog.notify_listing_decision")
SUBSCRIBERS: dict[str, list[tuple[str, str]]] = {
    "user.registered": [("default", "jobs.accounts.send_verification_email")],
    "user.signup_repeated": [("default", "jobs.accounts.send_account_exists_email")],
    "user.verification_requested": [("default", "jobs.accounts.send_verification_email")],
    "user.verified": [("default", "jobs.accounts.send_welcome_email")],
    "password.reset_requested": [("default", "jobs.accounts.send_password_reset_email")],
    "password.changed": [("default", "jobs.accounts.send_password_changed_email")],
    "user.new_sign_in": [("default", "jobs.accounts.send_new_sign_in_email")],
    "vendor.approved": [("default", "jobs.catalog.notify_vendor_decision")],
    "vendor.declined": [("default", "jobs.catalog.notify_vendor_decision")],
    "category.changed": [("search", "jobs.search.reindex_all")],
    # Uploaded files are scanned on their own queue; the vendor hears the verdict.
    "version.uploaded": [("scan", "jobs.assets.scan_uploaded_version")],
    "version.rescan_requested": [("scan", "jobs.assets.scan_uploaded_version")],
    "version.scanned": [("default", "jobs.assets.notify_version_scanned")],
    # A new version on sale: every owner with a valid licence is told (a fan-out job).
    "version.released": [("default", "jobs.assets.announce_new_version")],
    "version.deleted": [("default", "jobs.assets.delete_version_files")],
    "product.version_changed": [_REINDEX],
    # The vendor's watermark switch, or new screenshots under it: stamped copies, made once.
    "product.screenshots_changed": [("default", "jobs.catalog.stamp_screenshots")],
    # Commerce: follow-ups of a paid order (the licence domain adds its own to license.issued).
    "payment.completed": [
        ("default", "jobs.commerce.send_receipt"),
        ("default", "jobs.commerce.count_sales"),
    ],
    "license.issued": [],
    "order.refunded": [],
    "order.refund_needed": [("default", "jobs.commerce.refund_unfulfilled_order")],
    # Any domain notifies someone with app.notifications.services.notify_later (one line).
    "notification.requested": [("default", "jobs.notifications.deliver_notification")],
    # A review published or taken down changes the product's rating: search shows the new one.
    # The vendor (a new review) and the reviewer (a reply) are told through notify_later.
    "review.published": [_REINDEX],
    "review.withdrawn": [_REINDEX],
    "review.submitted": [],
    "review.replied": [],
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
Subscriber = tuple[str, str]


class DeliveryNotRetryable(Conflict):
    message = "That delivery has not failed: there is nothing to send again."


def handler_name(path: str) -> str:
    """The handler's name in delivery rows: the job's function name."""
    return path.rsplit(".", 1)[1]


def job_id_for(event_id: str, handler: str) -> str:
    """One RQ job id per (event, handler): the sweep asks RQ what became of it."""
    return f"evt-{event_id}-{handler}"


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


def _dispatch_after_commit(event_id: str) -> None:
    db.session.info.setdefault(_FLUSHED, []).append(event_id)


def dispatch_committed() -> int:
    """Dispatch the events this session has committed; return how many reached the queue."""
    dispatched = 0
    while ids := db.session.info.pop(_COMMITTED, []):
        dispatched += dispatch_events(ids)
    return dispatched


def dispatch_events(ids: list[str]) -> int:
    """Hand every outstanding handler of each undispatched event in ``ids`` to the queue
    (without Redis: run it now); return how many events reached the queue. A Redis failure
    leaves an event as it was, for the sweep."""
    dispatched = 0
    for event_id in ids:
        event = db.session.get(Event, event_id)
        if event is None or event.delivered_at is not None or event.dispatched_at is not None:
            continue
        rows = _rows([event.id])
        outstanding = _outstanding(event, rows[event.id])
        if not outstanding:
            _settle(event, rows[event.id])
        elif _dispatch(event, outstanding, rows[event.id]):
            dispatched += 1
        db.session.commit()
    return dispatched


def _rows(event_ids: list[str]) -> dict[str, dict[str, EventDelivery]]:
    rows: dict[str, dict[str, EventDelivery]] = {event_id: {} for event_id in event_ids}
    if event_ids:
        for row in db.session.scalars(
            select(EventDelivery).where(EventDelivery.event_id.in_(event_ids))
        ):
            rows[row.event_id][row.handler] = row
    return rows


def _outstanding(event: Event, rows: dict[str, EventDelivery]) -> list[Subscriber]:
    """Subscribers whose handler has neither delivered nor failed."""
    outstanding = []
    for queue, path in SUBSCRIBERS.get(event.name, []):
        row = rows.get(handler_name(path))
        if row is None or (row.delivered_at is None and row.failed_at is None):
            outstanding.append((queue, path))
    return outstanding


def _settle(event: Event, rows: dict[str, EventDelivery]) -> bool:
    """Mark ``event`` delivered if every subscriber's handler has delivered it."""
    expected = {handler_name(path) for _, path in SUBSCRIBERS.get(event.name, [])}
    if all(rows.get(h) is not None and rows[h].delivered_at is not None for h in expected):
        event.delivered_at = utcnow()
        return True
    return False


def _dispatch(event: Event, handlers: list[Subscriber], rows: dict[str, EventDelivery]) -> bool:
    """Enqueue ``handlers`` for ``event``; False when the queue is unavailable."""
    in_process = redis_connection() is None
    event.attempts += 1
    for queue, path in handlers:
        handler = handler_name(path)
        job_id = job_id_for(event.id, handler)
        try:
            if handler in rows:  # sent again after it failed: RQ forgets the failed job first
                discard_job(job_id)
            enqueue(queue, path, event.id, job_id=job_id)
        except RedisError as exc:  # noted by the outage log; the sweep tries again
            event.last_error = f"queue unavailable: {type(exc).__name__}"
            return False
        except Exception as exc:
            if not in_process:
                raise
            # Without Redis the handler ran here and there are no retries: it failed.
            log.exception("event %s (%s): %s failed", event.id, event.name, handler)
            _mark_failed(event.id, handler, f"{type(exc).__name__}: {exc}", rows)
    event.dispatched_at = utcnow()
    return True


def _mark_failed(
    event_id: str, handler: str, error: str | None, rows: dict[str, EventDelivery]
) -> None:
    row = rows.get(handler)
    if row is None:
        row = rows[handler] = EventDelivery(event_id=event_id, handler=handler)
        db.session.add(row)
    row.failed_at = utcnow()
    row.error = (error or "failed")[:1000]
    log.warning("event %s: %s failed for good: %s", event_id, handler, row.error)


@dataclass
class SweepReport:
    dispatched: int = 0  # events handed to the queue for the first time (or after an outage)
    redispatched: int = 0  # handlers enqueued again: Redis had lost their job
    failed: int = 0  # handlers marked failed: their job used up its retries
    delivered: int = 0  # events found delivered by every handler

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


def sweep_outbox(limit: int = 500) -> SweepReport:
    """The periodic sweep over pending events (oldest first, at most ``limit``)."""
    report = SweepReport()
    grace = timedelta(seconds=current_app.config["APP_CONFIG"].outbox_grace_seconds)
    cutoff = utcnow() - grace
    # Events waiting for an admin are left out, so that they never crowd out the others.
    waits_for_admin = (
        select(EventDelivery.id)
        .where(EventDelivery.event_id == Event.id, EventDelivery.failed_at.is_not(None))
        .exists()
    )
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.delivered_at.is_(None), ~waits_for_admin)
            .order_by(Event.created_at)
            .limit(limit)
        )
    )
    rows = _rows([event.id for event in events])
    suspects: dict[str, tuple[Event, Subscriber]] = {}
    for event in events:
        outstanding = _outstanding(event, rows[event.id])
        if not outstanding:  # two handlers finishing at once may each miss the other's row
            report.delivered += _settle(event, rows[event.id])
        elif event.dispatched_at is None:
            report.dispatched += _dispatch(event, outstanding, rows[event.id])
        elif as_utc(event.dispatched_at) <= cutoff:
            for queue, path in outstanding:
                suspects[job_id_for(event.id, handler_name(path))] = (event, (queue, path))
    db.session.commit()
    if not suspects:
        return report
    # A job that finished after its delivery rows were read above looks lost and is sent
    # again: its handler then sees its own row and does nothing.
    try:
        states = job_states(list(suspects))
    except RedisError:  # noted by the outage log; nothing can be enqueued either
        return report
    lost: dict[str, list[Subscriber]] = defaultdict(list)
    for job_id, (event, subscriber) in suspects.items():
        state = states.get(job_id)
        if state is not None and state.status in ALIVE:
            continue
        if state is not None and state.status in GAVE_UP:
            _mark_failed(event.id, handler_name(subscriber[1]), state.error, rows[event.id])
            report.failed += 1
        else:  # no such job (lost, expired) or finished without a delivery row
            lost[event.id].append(subscriber)
    for event_id, handlers in lost.items():
        event = db.session.get(Event, event_id)
        if event is not None and _dispatch(event, handlers, rows[event_id]):
            report.redispatched += len(handlers)
    db.session.commit()
    return report


def delivery_counts() -> dict[str, int]:
    """Pending events: ``undelivered`` (still on their way) and ``failed`` (a handler used up
    its retries and waits for an admin)."""
    failed = (
        db.session.scalar(
            select(func.count(func.distinct(EventDelivery.event_id)))
            .join(Event, Event.id == EventDelivery.event_id)
            .where(EventDelivery.failed_at.is_not(None), Event.delivered_at.is_(None))
        )
        or 0
    )
    pending = (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.delivered_at.is_(None))
        )
        or 0
    )
    return {"undelivered": pending - failed, "failed": failed}


def failed_deliveries(limit: int = 200) -> list[EventDelivery]:
    """Deliveries that used up their retries, newest failure first, with their events."""
    return list(
        db.session.scalars(
            select(EventDelivery)
            .options(joinedload(EventDelivery.event))
            .where(EventDelivery.failed_at.is_not(None))
            .order_by(EventDelivery.failed_at.desc(), EventDelivery.id.desc())
            .limit(limit)
        )
    )


def retry_delivery(actor: Any, delivery_id: int) -> EventDelivery:
    """Send a failed delivery again once the caller commits.

    Raises PermissionDenied without MODERATE, NotFound for an unknown delivery, and
    DeliveryNotRetryable when it has not failed (delivered, or already sent again).
    """
    if not has_permission(actor, Permission.MODERATE):
        raise PermissionDenied()
    row = db.session.get(EventDelivery, delivery_id)
    if row is None:
        raise NotFound("There is no such delivery.")
    if row.failed_at is None:
        raise DeliveryNotRetryable()
    row.failed_at = None
    row.event.dispatched_at = None  # the sweep sends it if the dispatch after commit cannot
    log.info(
        "delivery %s (%s of event %s) sent again by user %s",
        row.id,
        row.handler,
        row.event_id,
        getattr(actor, "id", None),
    )
    _dispatch_after_commit(row.event_id)
    return row


def deliver_once(event_id: str, handler: str, action: Callable[[Event], None]) -> bool:
    """Run ``action(event)`` unless ``handler`` already delivered this event; True if it ran.

    Commits the delivery row (and, if it was the last handler, the event's ``delivered_at``).
    Errors from ``action`` propagate, so the job fails and is retried.
    """
    event = db.session.get(Event, event_id)
    if event is None:
        log.warning("event %s not found for %s", event_id, handler)
        return False
    row = _rows([event_id])[event_id].get(handler)
    if row is not None and row.delivered_at is not None:
        return False
    action(event)
    # Handlers of one event may finish at the same moment in two workers: the event's row
    # lock makes the later one see the earlier one's row (PostgreSQL; SQLite has one writer).
    db.session.get(Event, event_id, with_for_update=True, populate_existing=True)
    rows = _rows([event_id])[event_id]
    row = rows.get(handler)
    if row is not None and row.delivered_at is not None:
        db.session.rollback()  # a concurrent run of the same job got there first
        return False
    if row is None:
        row = rows[handler] = EventDelivery(event_id=event_id, handler=handler)
        db.session.add(row)
    row.delivered_at, row.failed_at = utcnow(), None
    _settle(event, rows)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent run of the same job inserted its row first
        db.session.rollback()
        return False
    return True
