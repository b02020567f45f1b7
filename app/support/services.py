"""Support services: a buyer opens a thread about one of their order lines with the store that
sold it, both sides write (plain text, images re-encoded and stored under content hashes),
either side closes it or escalates it to admins, and an admin resolves the escalation.

Every service takes the acting user explicitly and raises DomainError subclasses; the view
commits. Someone who is neither side of a thread (nor an admin, once it was escalated) gets
NotFound for it, its attachments and its escalations, never a hint that they exist. Each new
message notifies the other side (``notify_later``, kind "support_message").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.accounts.permissions import Permission, has_permission
from app.admin.services import ListArgs, narrowed, record_audit, sort_query
from app.commerce.models import OrderLine
from app.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.images import normalise_image
from app.notifications.services import notify_later, site_path
from app.pagination import Page, paginate
from app.storage import content_key, get_storage, safe_filename
from app.support.models import (
    Side,
    SupportAttachment,
    SupportEscalation,
    SupportMessage,
    SupportThread,
    ThreadStatus,
)
from app.timeutil import utcnow
from app.vendors.models import VendorProfile

SUBJECT_MIN, SUBJECT_MAX = 3, 120
BODY_MIN, BODY_MAX = 2, 5_000
REASON_MIN, REASON_MAX = 10, 1_000
RESOLUTION_MAX = 1_000
# Images only, a few per message: screenshots of an error, not file transfer.
MAX_ATTACHMENTS = 4
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_SIZE = (2000, 2000)
ATTACHMENT_PREFIX = "support"
# The response-time promises a store can make, in hours.
RESPONSE_HOURS = (4, 8, 24, 48, 72, 120)
THREADS_PER_PAGE = 20
ADMIN_PAGE_SIZE = 25
# A notification carries the start of the message, not all of it.
EXCERPT = 200
NOTIFICATION_KIND = "support_message"

ESCALATION_FILTERS = {
    "open": SupportEscalation.resolved_at.is_(None),
    "resolved": SupportEscalation.resolved_at.is_not(None),
}
ESCALATION_SORTS = {
    "created": SupportEscalation.created_at,
    "resolved": SupportEscalation.resolved_at,
    "id": SupportEscalation.id,
}


# --- errors -----------------------------------------------------------------------------------


class InvalidMessage(DomainError):
    status = 422
    message = "Please check the message."


class ThreadClosed(Conflict):
    message = (
        "This thread is closed, so it takes no more messages. Start a new one from your order "
        "if you still need help."
    )


class AlreadyEscalated(Conflict):
    message = "This thread is already with the admins: they will look at it and answer here."


class EscalationResolved(Conflict):
    message = "That escalation is already resolved."


class ReadOnlyForAdmins(PermissionDenied):
    message = "Admins read escalated threads; only the buyer and the vendor write in them."


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the view read it: its name (for display only) and its bytes."""

    filename: str
    data: bytes


# --- reading ----------------------------------------------------------------------------------


def hours_label(hours: int) -> str:
    """ "8 hours", "1 day", "3 days"."""
    if hours % 24:
        return f"{hours} hours"
    days = hours // 24
    return f"{days} day{'s' if days > 1 else ''}"


def response_promise(hours: int | None) -> str:
    """The store's response-time promise as a sentence."""
    if not hours:
        return "This store has not promised a response time."
    return f"The store promises to answer within {hours_label(hours)}."


def store_of(user: User) -> VendorProfile | None:
    """``user``'s store (any status), or None."""
    return db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == user.id))


def own_store(user: User) -> VendorProfile:
    """``user``'s store; raises NotFound for an account without one."""
    store = store_of(user)
    if store is None:
        raise NotFound("You have no store.")
    return store


def supportable_line(user: User, line_id: int) -> OrderLine:
    """A line of one of ``user``'s paid orders (refunded ones included); NotFound otherwise."""
    line = db.session.get(
        OrderLine,
        line_id,
        options=[
            joinedload(OrderLine.order),
            joinedload(OrderLine.product),
            joinedload(OrderLine.vendor),
        ],
    )
    if line is None or line.order.buyer_id != user.id or not line.order.is_paid:
        raise NotFound()
    return line


def side_of(user: Any, thread: SupportThread) -> Side | None:
    """Which side of ``thread`` ``user`` is on, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if thread.buyer_id == user.id:
        return Side.BUYER
    if thread.vendor.user_id == user.id:
        return Side.VENDOR
    return None


def thread_for(user: User, thread_id: int) -> tuple[SupportThread, Side | None]:
    """The thread ``thread_id`` and ``user``'s side of it (None: an admin reading a thread
    that was escalated). Raises NotFound for anyone else."""
    thread = db.session.get(
        SupportThread,
        thread_id,
        options=[
            joinedload(SupportThread.vendor),
            joinedload(SupportThread.buyer),
            joinedload(SupportThread.order_line).joinedload(OrderLine.product),
            joinedload(SupportThread.order_line).joinedload(OrderLine.order),
            selectinload(SupportThread.messages).selectinload(SupportMessage.attachments),
            selectinload(SupportThread.escalations),
        ],
    )
    if thread is None:
        raise NotFound()
    side = side_of(user, thread)
    if side is None and not (has_permission(user, Permission.MODERATE) and thread.escalations):
        raise NotFound()
    return thread, side


def _party(user: User, thread_id: int) -> tuple[SupportThread, Side]:
    thread, side = thread_for(user, thread_id)
    if side is None:
        raise ReadOnlyForAdmins()
    return thread, side


def attachment_for(user: User, attachment_id: int) -> SupportAttachment:
    """An attachment of a thread ``user`` may read (see ``thread_for``); NotFound otherwise."""
    attachment = db.session.get(
        SupportAttachment, attachment_id, options=[joinedload(SupportAttachment.message)]
    )
    if attachment is None:
        raise NotFound()
    thread_for(user, attachment.message.thread_id)
    return attachment


def buyer_threads(user: User, page: int) -> Page:
    """Page ``page`` of the threads ``user`` opened, latest activity first."""
    query = (
        select(SupportThread)
        .where(SupportThread.buyer_id == user.id)
        .options(joinedload(SupportThread.vendor), joinedload(SupportThread.order_line))
        .order_by(SupportThread.last_message_at.desc(), SupportThread.id.desc())
    )
    return paginate(query, page, THREADS_PER_PAGE)


def vendor_inbox(user: User, status: str | None, page: int) -> Page:
    """Page ``page`` of the threads with ``user``'s store (only those in ``status`` when
    given), latest activity first; empty for an account without a store."""
    query = (
        select(SupportThread)
        .join(VendorProfile, VendorProfile.id == SupportThread.vendor_id)
        .where(VendorProfile.user_id == user.id)
        .options(joinedload(SupportThread.buyer), joinedload(SupportThread.order_line))
        .order_by(SupportThread.last_message_at.desc(), SupportThread.id.desc())
    )
    if status:
        query = query.where(SupportThread.status == ThreadStatus(status).value)
    return paginate(query, page, THREADS_PER_PAGE)


def inbox_counts(user: User) -> dict[str, int]:
    """Threads with ``user``'s store per status."""
    counts = dict(
        db.session.execute(
            select(SupportThread.status, func.count())
            .join(VendorProfile, VendorProfile.id == SupportThread.vendor_id)
            .where(VendorProfile.user_id == user.id)
            .group_by(SupportThread.status)
        ).all()
    )
    return {status.value: int(counts.get(status.value, 0)) for status in ThreadStatus}


# --- writing ----------------------------------------------------------------------------------


def _text(value: str, low: int, high: int, what: str) -> str:
    value = (value or "").strip()
    if not low <= len(value) <= high:
        raise InvalidMessage(f"{what} takes {low} to {high} characters.")
    return value


def _attach(message: SupportMessage, uploads: Sequence[Upload]) -> None:
    """Store each image (re-encoded as PNG: its content decides, never its name or type).
    Raises InvalidMessage (too many) and InvalidImage (not an image, damaged, too large)."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidMessage(f"Attach at most {MAX_ATTACHMENTS} images to one message.")
    storage = get_storage()
    for upload in uploads:
        encoded = normalise_image(upload.data, ATTACHMENT_MAX_BYTES, ATTACHMENT_SIZE)
        key = content_key(ATTACHMENT_PREFIX, encoded, ".png")
        if not storage.exists(key):
            storage.put(key, encoded, "image/png")
        message.attachments.append(
            SupportAttachment(
                storage_key=key,
                filename=safe_filename(upload.filename, "image.png"),
                size=len(encoded),
            )
        )


def _other_side_user_id(thread: SupportThread, side: Side) -> int:
    return thread.vendor.user_id if side == Side.BUYER else thread.buyer_id


def _notify(user_id: int, thread: SupportThread, title: str, body: str) -> None:
    excerpt = body if len(body) <= EXCERPT else body[: EXCERPT - 1].rstrip() + "…"
    notify_later(
        user_id,
        NOTIFICATION_KIND,
        title,
        excerpt,
        site_path("support.thread_GET", thread_id=thread.id),
    )


def _add_message(
    user: User, thread: SupportThread, side: Side, body: str, uploads: Sequence[Upload]
) -> SupportMessage:
    body = _text(body, BODY_MIN, BODY_MAX, "A message")
    message = SupportMessage(thread=thread, author_id=user.id, side=side.value, body=body)
    _attach(message, uploads)
    db.session.add(message)
    thread.last_message_at = utcnow()
    thread.status = (ThreadStatus.ANSWERED if side == Side.VENDOR else ThreadStatus.OPEN).value
    db.session.flush()
    who = thread.vendor.store_name if side == Side.VENDOR else "The buyer"
    _notify(_other_side_user_id(thread, side), thread, f"{who} wrote: {thread.subject}"[:200], body)
    return message


def start_thread(
    user: User, line_id: int, subject: str, body: str, uploads: Sequence[Upload] = ()
) -> SupportThread:
    """``user`` opens a thread with the store that sold them order line ``line_id``, with a
    first message. Raises NotFound (not their paid order's line), InvalidMessage,
    InvalidImage."""
    line = supportable_line(user, line_id)
    subject = _text(subject, SUBJECT_MIN, SUBJECT_MAX, "The subject")
    thread = SupportThread(
        buyer_id=user.id, vendor=line.vendor, order_line_id=line.id, subject=subject
    )
    db.session.add(thread)
    _add_message(user, thread, Side.BUYER, body, uploads)
    return thread


def post_message(
    user: User, thread_id: int, body: str, uploads: Sequence[Upload] = ()
) -> SupportMessage:
    """One side writes in the thread: a vendor's message makes it answered, a buyer's open.
    Raises NotFound, ReadOnlyForAdmins, ThreadClosed, InvalidMessage, InvalidImage."""
    thread, side = _party(user, thread_id)
    if thread.is_closed:
        raise ThreadClosed()
    return _add_message(user, thread, side, body, uploads)


def close_thread(user: User, thread_id: int) -> SupportThread:
    """Either side closes the thread (closing a closed one changes nothing). Raises NotFound,
    ReadOnlyForAdmins."""
    thread, side = _party(user, thread_id)
    if thread.is_closed:
        return thread
    thread.status = ThreadStatus.CLOSED.value
    thread.closed_by_id, thread.closed_at = user.id, utcnow()
    who = thread.vendor.store_name if side == Side.VENDOR else "The buyer"
    _notify(_other_side_user_id(thread, side), thread, f"{who} closed: {thread.subject}"[:200], "")
    return thread


def escalate_thread(user: User, thread_id: int, reason: str) -> SupportEscalation:
    """Either side asks admins to step in, saying why; one open escalation per thread (a
    closed thread may be escalated too). Raises NotFound, ReadOnlyForAdmins,
    AlreadyEscalated, InvalidMessage."""
    thread, side = _party(user, thread_id)
    if thread.open_escalation is not None:
        raise AlreadyEscalated()
    reason = _text(reason, REASON_MIN, REASON_MAX, "The reason")
    escalation = SupportEscalation(
        thread_id=thread.id, raised_by_id=user.id, side=side.value, reason=reason
    )
    try:
        with db.session.begin_nested():  # the other side's escalation may have just landed
            db.session.add(escalation)
    except IntegrityError as exc:
        raise AlreadyEscalated() from exc
    db.session.expire(thread, ["escalations"])
    who = thread.vendor.store_name if side == Side.VENDOR else "The buyer"
    _notify(
        _other_side_user_id(thread, side),
        thread,
        f"{who} asked an admin to look at: {thread.subject}"[:200],
        reason,
    )
    return escalation


def set_response_time(user: User, hours: int | None) -> VendorProfile:
    """Set (or, with None, withdraw) the response-time promise of ``user``'s store. Raises
    NotFound (no store) and InvalidMessage (not one of RESPONSE_HOURS)."""
    store = own_store(user)
    if hours is not None and hours not in RESPONSE_HOURS:
        raise InvalidMessage("Choose one of the response times offered.")
    store.support_response_hours = hours
    return store


# --- admins -----------------------------------------------------------------------------------


def _require_moderator(user: User) -> None:
    if not has_permission(user, Permission.MODERATE):
        raise PermissionDenied()


def escalations(admin: User, args: ListArgs) -> Page:
    """The escalations, newest first unless sorted otherwise; ``q`` searches the thread's
    subject, the buyer's email and the store's name, ``filter`` is "open" or "resolved".
    Raises PermissionDenied."""
    _require_moderator(admin)
    query = (
        select(SupportEscalation)
        .join(SupportThread, SupportThread.id == SupportEscalation.thread_id)
        .join(User, User.id == SupportThread.buyer_id)
        .join(VendorProfile, VendorProfile.id == SupportThread.vendor_id)
        .options(
            joinedload(SupportEscalation.thread).joinedload(SupportThread.vendor),
            joinedload(SupportEscalation.thread).joinedload(SupportThread.buyer),
        )
    )
    query = narrowed(
        query,
        args,
        [SupportThread.subject, User.email, VendorProfile.store_name],
        ESCALATION_FILTERS,
    )
    return paginate(
        sort_query(query, ESCALATION_SORTS, args, "created"), args.page, ADMIN_PAGE_SIZE
    )


def escalation_for(admin: User, escalation_id: int) -> SupportEscalation:
    """Escalation ``escalation_id`` for an admin. Raises PermissionDenied, NotFound."""
    _require_moderator(admin)
    escalation = db.session.get(SupportEscalation, escalation_id)
    if escalation is None:
        raise NotFound()
    return escalation


def resolve_escalation(
    admin: User, escalation_id: int, note: str, ip: str = ""
) -> SupportEscalation:
    """An admin resolves an escalation with a note both sides read; writes an audit row and
    notifies both sides. Raises PermissionDenied, NotFound, EscalationResolved,
    InvalidMessage."""
    escalation = escalation_for(admin, escalation_id)
    if escalation.is_resolved:
        raise EscalationResolved()
    note = _text(note, REASON_MIN, RESOLUTION_MAX, "The note")
    thread = escalation.thread
    escalation.resolved_at, escalation.resolved_by_id = utcnow(), admin.id
    escalation.resolution = note
    record_audit(
        admin,
        "support.escalation_resolved",
        "support_escalation",
        escalation.id,
        before={"resolved": False, "thread_id": thread.id, "thread_status": thread.status},
        after={"resolved": True, "thread_id": thread.id, "thread_status": thread.status},
        reason=note,
        ip=ip,
    )
    title = f"An admin resolved the escalation of: {thread.subject}"[:200]
    for user_id in (thread.buyer_id, thread.vendor.user_id):
        _notify(user_id, thread, title, note)
    return escalation
