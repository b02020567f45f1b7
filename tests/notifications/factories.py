"""Reading what the notification centre made for a user, and setting their email choices, for
the tests of each domain that notifies someone."""

from __future__ import annotations

from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification, NotificationPreference


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    body: str
    link: str
    email_state: str


def notices(app: Any, user_id: int, kind: str | None = None) -> list[Notice]:
    """``user_id``'s notifications (of ``kind`` when given), oldest first."""
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user_id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        rows = db.session.scalars(query.order_by(Notification.id))
        return [Notice(n.kind, n.title, n.body, n.link, n.email_state) for n in rows]


def choose(app: Any, user_id: int, kind: str, email: bool, daily_digest: bool = False) -> None:
    """Save ``user_id``'s email choice for ``kind``, as the preferences page does."""
    with app.app_context():
        db.session.add(
            NotificationPreference(
                user_id=user_id, kind=kind, email=email, daily_digest=daily_digest
            )
        )
        db.session.commit()


def subject_of(message: Message) -> str:
    """The Subject as the reader sees it (the mailbox keeps encoded words as sent)."""
    return str(make_header(decode_header(message["Subject"])))
