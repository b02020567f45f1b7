"""Jobs reacting to notification events: the in-app notice and its email, by preference."""

from app.notifications import services
from app.outbox.models import Event
from jobs import event_handler


@event_handler
def deliver_notification(event: Event) -> None:
    """``notification.requested`` (see app.notifications.services.notify_later)."""
    services.deliver_requested(event)
