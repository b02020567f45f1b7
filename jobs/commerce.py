"""Jobs reacting to commerce events: the receipt email, sales counters, refunds of orders that
were paid but could not be fulfilled."""

from app.commerce import followups
from app.outbox.models import Event
from jobs import event_handler


@event_handler
def send_receipt(event: Event) -> None:
    followups.send_receipt(event.payload["order_id"])


@event_handler
def count_sales(event: Event) -> None:
    followups.count_sales(event.payload["order_id"])


@event_handler
def refund_unfulfilled_order(event: Event) -> None:
    followups.refund_unfulfilled_order(event.payload["order_id"])
