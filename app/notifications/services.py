"""Email (composed from templates, sent through SMTP or the log) and the notification centre:
kinds, in-app notifications, per-kind email preferences, unsubscribe links, the daily digest."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.errors import DomainError, NotFound
from app.extensions import db
from app.notifications.models import EmailState, Notification, NotificationPreference
from app.outbox.services import record_event
from app.pagination import Page, paginate
from app.timeutil import utcnow

if TYPE_CHECKING:
    from app.outbox.models import Event

log = logging.getLogger(__name__)


def compose_email(
    to: str,
    subject: str,
    template: str,
    *,
    unsubscribe_url: str | None = None,
    **context: Any,
) -> EmailMessage:
    """Build a text + HTML message from templates/emails/<template>.txt and .html.

    With ``unsubscribe_url`` (every non-essential email) the message carries the link in its
    footer and the List-Unsubscribe and List-Unsubscribe-Post headers (RFC 2369, RFC 8058).
    """
    config = current_app.config["APP_CONFIG"]
    # Headers fold at SMTP's limit (998), not 78: a folded List-Unsubscribe URL would be sent
    # as encoded words, which mail clients do not read as a link.
    message = EmailMessage(policy=email_policy.default.clone(max_line_length=998))
    message["Subject"] = subject
    message["From"] = config.mail_from
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="autopilot.monster")
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context.setdefault("subject", subject)
    context["unsubscribe_url"] = unsubscribe_url
    text = render_template(f"emails/{template}.txt", **context)
    if unsubscribe_url:
        text = f"{text.rstrip()}\n\n--\nStop these emails: {unsubscribe_url}\n"
    message.set_content(text)
    message.add_alternative(render_template(f"emails/{template}.html", **context), subtype="html")
    return message


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail, built from BASE_URL (jobs have no request to take it from)."""
    config = current_app.config["APP_CONFIG"]
    with current_app.test_request_context(base_url=config.base_url):
        return url_for(endpoint, _external=True, **values)


def site_path(endpoint: str, **values: Any) -> str:
    """A path on this site, built without a request (jobs store links as paths)."""
    config = current_app.config["APP_CONFIG"]
    with current_app.test_request_context(base_url=config.base_url):
        return url_for(endpoint, **values)


def send_email(to: str, subject: str, template: str, **context: Any) -> None:
    """Send one message; raises smtplib/OS errors so the job retries."""
    message = compose_email(to, subject, template, **context)
    send_message(message)


def send_message(message: EmailMessage) -> None:
    """Send a composed message through SMTP, or write it to the log without SMTP_URL."""
    smtp_url = current_app.config["APP_CONFIG"].smtp_url
    if smtp_url:
        _send_smtp(smtp_url, message)
    else:
        log.info("email (log backend, not sent)\n%s", message.get_body(("plain",)).get_content())
        log.info("email to=%s subject=%r", message["To"], message["Subject"])


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    options = parse_qs(parts.query)
    host = parts.hostname or "localhost"
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=15, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=15)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0] == "true":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


# --- the notification centre -----------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of notification. ``essential`` mail (security, account decisions) cannot be
    switched off; ``chatty`` kinds may come as one daily digest instead of one email each."""

    key: str
    label: str
    description: str
    essential: bool = False
    chatty: bool = False


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("sale_made", "Sales", "A buyer bought one of your products.", chatty=True),
        Kind("review_received", "Reviews", "Someone reviewed one of your products.", chatty=True),
        Kind("review_reply", "Replies", "A vendor replied to your review.", chatty=True),
        Kind("listing_decision", "Listing decisions", "A moderator decided on your listing."),
        Kind("scan_finished", "Scans", "The scan of a file you uploaded finished.", chatty=True),
        Kind("new_version", "New versions", "A product you own has a new version.", chatty=True),
        Kind("payout_sent", "Payouts", "A payout to you was sent."),
        Kind("refund", "Refunds", "An order was refunded."),
        Kind("renewal_failed", "Failed renewals", "A subscription could not be renewed."),
        Kind(
            "support_message",
            "Support messages",
            "A new message, closing or escalation in one of your support threads.",
            chatty=True,
        ),
        Kind(
            "vendor_decision",
            "Store application",
            "The decision on your application to sell.",
            essential=True,
        ),
        Kind("password_changed", "Password changed", "Your password was changed.", essential=True),
        Kind("new_sign_in", "New sign-in", "Your account signed in somewhere new.", essential=True),
    )
}
# The digest's own unsubscribe link stops every kind the user gets as a digest.
DIGEST = Kind("digest", "Daily digest", "One email a day with the notifications you chose.")
# The event any domain records to notify someone (see ``notify_later``).
NOTIFICATION_EVENT = "notification.requested"
LIST_PAGE_SIZE = 30
DIGEST_BATCH = 50
DIGEST_PERIOD = timedelta(hours=24)


class UnknownKind(DomainError):
    status = 404
    message = "There is no such kind of notification."


class InvalidUnsubscribeLink(DomainError):
    status = 400
    message = "This unsubscribe link is not valid. Change your choices on the notifications page."


@dataclass(frozen=True)
class Email:
    """The email that goes with a notification: templates/emails/<template>.txt and .html."""

    subject: str
    template: str = "notification"
    context: dict[str, Any] = field(default_factory=dict)
    to: str | None = None  # another address of the user's (a store's support address)


def kind_of(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise UnknownKind()
    return kind


def notify_later(user_id: int, kind: str, title: str, body: str = "", link: str = "") -> Event:
    """The one-liner for any domain: in the caller's transaction, ask for ``user_id`` to be
    notified (in the app, and by email as they chose). ``link`` is a path on this site."""
    kind_of(kind)
    return record_event(
        NOTIFICATION_EVENT, user_id=user_id, kind=kind, title=title, body=body, link=link
    )


@dataclass(frozen=True)
class Choice:
    email: bool
    daily_digest: bool


def preference(user: User, kind: Kind) -> Choice:
    """``user``'s choice for ``kind`` (email on, instant, unless they said otherwise)."""
    if kind.essential:
        return Choice(email=True, daily_digest=False)
    row = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind.key
        )
    )
    if row is None:
        return Choice(email=True, daily_digest=False)
    return Choice(email=row.email, daily_digest=row.daily_digest and kind.chatty)


def preferences(user: User) -> dict[str, Choice]:
    return {key: preference(user, kind) for key, kind in KINDS.items()}


def set_preferences(user: User, choices: dict[str, Choice]) -> None:
    """Save ``user``'s choices; essential kinds and unknown keys are ignored."""
    rows = {
        row.kind: row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for key, choice in choices.items():
        kind = KINDS.get(key)
        if kind is None or kind.essential:
            continue
        row = rows.get(key)
        if row is None:
            row = NotificationPreference(user_id=user.id, kind=key)
            db.session.add(row)
        row.email = choice.email
        row.daily_digest = choice.daily_digest and kind.chatty


def notify(
    user: User,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    *,
    event_id: str | None = None,
    email: Email | None = None,
) -> Notification:
    """Notify ``user`` in the app and, as they chose, by email now or in the daily digest.

    Idempotent per (user, kind, event_id): a second call for the same event returns the first
    notification and sends nothing. ``email`` None means the generic notification email.
    Errors from SMTP propagate (the caller's job retries; the transaction rolls back, so the
    notification and its email come together). Raises UnknownKind.
    """
    spec = kind_of(kind)
    if not link.startswith("/") or link.startswith(("//", "/\\")):
        link = ""  # links are paths on this site: never another site, never a script
    if event_id is not None:
        existing = db.session.scalar(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.kind == kind,
                Notification.event_id == event_id,
            )
        )
        if existing is not None:
            return existing
    notification = Notification(
        user_id=user.id,
        kind=kind,
        title=title[:200],
        body=body,
        link=link[:500],
        event_id=event_id,
    )
    db.session.add(notification)
    choice = preference(user, spec)
    if not choice.email or (not user.is_active and not spec.essential):
        notification.email_state = EmailState.NONE
    elif choice.daily_digest:
        notification.email_state = EmailState.QUEUED
    else:
        _send_notification_email(user, spec, notification, email)
        notification.email_state = EmailState.SENT
        notification.emailed_at = utcnow()
    db.session.flush()
    return notification


def _absolute(link: str) -> str:
    if not link:
        return external_url("notifications.list_GET")
    return current_app.config["APP_CONFIG"].base_url + link if link.startswith("/") else link


def _send_notification_email(
    user: User, kind: Kind, notification: Notification, email: Email | None
) -> None:
    spec = email or Email(subject=notification.title)
    context = {
        "user": user,
        "notification": notification,
        "link": _absolute(notification.link),
        **spec.context,
    }
    unsubscribe = None if kind.essential else unsubscribe_url(user, kind.key)
    send_email(
        spec.to or user.email, spec.subject, spec.template, unsubscribe_url=unsubscribe, **context
    )


def deliver_requested(event: Event) -> None:
    """Job handler for ``notification.requested`` events (see ``notify_later``)."""
    payload = event.payload
    user = db.session.get(User, payload.get("user_id"))
    if user is None:
        log.warning("event %s: user %s is gone; no notification", event.id, payload.get("user_id"))
        return
    notify(
        user,
        payload["kind"],
        payload.get("title", ""),
        payload.get("body", ""),
        payload.get("link", ""),
        event_id=event.id,
    )


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def list_notifications(user: User, page: int, unread_only: bool = False) -> Page:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    return paginate(query, page, LIST_PAGE_SIZE)


def get_notification(user: User, notification_id: int) -> Notification:
    """``user``'s notification; another user's is NotFound, as one that does not exist."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound()
    return notification


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read. Raises NotFound for anyone else's."""
    notification = get_notification(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of ``user`` read; return how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


# --- unsubscribe links -----------------------------------------------------------------------


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(user: User, kind: str) -> str:
    """A token bound to ``user`` and ``kind``: it stops that kind's email for that user only."""
    return _unsubscribe_serializer().dumps([user.id, kind])


def unsubscribe_url(user: User, kind: str) -> str:
    return external_url(
        "notifications.unsubscribe_GET",
        user_id=user.id,
        kind=kind,
        token=unsubscribe_token(user, kind),
    )


def check_unsubscribe(user_id: int, kind: str, token: str) -> tuple[User, Kind]:
    """The user and kind an unsubscribe link is for. Raises InvalidUnsubscribeLink for a
    tampered token, or one made for another user or kind."""
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature as exc:
        raise InvalidUnsubscribeLink() from exc
    if not isinstance(data, list) or data != [user_id, kind]:
        raise InvalidUnsubscribeLink()
    spec = DIGEST if kind == DIGEST.key else KINDS.get(kind)
    user = db.session.get(User, user_id)
    if spec is None or spec.essential or user is None:
        raise InvalidUnsubscribeLink()
    return user, spec


def unsubscribe(user_id: int, kind: str, token: str) -> tuple[User, Kind]:
    """Switch off ``kind``'s email (for the digest: every kind sent as a digest) for the link's
    user. Raises InvalidUnsubscribeLink."""
    user, spec = check_unsubscribe(user_id, kind, token)
    current = preferences(user)
    if spec is DIGEST:
        keys = [key for key, choice in current.items() if choice.daily_digest]
    else:
        keys = [spec.key]
    set_preferences(
        user, {key: Choice(email=False, daily_digest=current[key].daily_digest) for key in keys}
    )
    return user, spec


# --- the daily digest ------------------------------------------------------------------------


def send_due_digests(now: datetime | None = None, limit: int = DIGEST_BATCH) -> int:
    """Send one email to each user whose oldest queued notification waited a day, with every
    notification queued for them; return how many digests went out.

    Each digest commits on its own. An SMTP failure rolls back that user's digest (their
    notifications stay queued for the next run) and propagates, so nothing is lost.
    """
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Notification.user_id)
            .where(Notification.email_state == EmailState.QUEUED)
            .group_by(Notification.user_id)
            .having(func.min(Notification.created_at) <= now - DIGEST_PERIOD)
            .limit(limit)
        )
    )
    sent = 0
    for user_id in due:
        user = db.session.get(User, user_id)
        items = list(
            db.session.scalars(
                select(Notification)
                .where(
                    Notification.user_id == user_id,
                    Notification.email_state == EmailState.QUEUED,
                )
                .order_by(Notification.created_at, Notification.id)
            )
        )
        active = user is not None and user.is_active
        if active and items:
            # An SMTP error propagates before anything is marked: the caller rolls back.
            send_email(
                user.email,
                f"Your day at Autopilot Monster: {len(items)} notifications",
                "digest",
                unsubscribe_url=unsubscribe_url(user, DIGEST.key),
                user=user,
                items=[(item, _absolute(item.link)) for item in items],
                link=external_url("notifications.list_GET"),
            )
            sent += 1
        for item in items:
            item.email_state = EmailState.SENT if active else EmailState.NONE
            item.emailed_at = now
        db.session.commit()
    return sent
