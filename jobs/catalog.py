"""Jobs reacting to catalog and vendor events: the vendor hears about every decision; the
watermarked copies of a listing's screenshots."""

from app.catalog import screenshots
from app.catalog.review import notify_vendor_of_decision
from app.outbox.models import Event
from app.outbox.services import deliver_once
from app.vendors import services as vendors
from jobs import event_handler, job


@job
def notify_listing_decision(event_id: str) -> bool:
    """Notify the vendor of the outcome of a review of their listing (idempotent per event)."""
    return deliver_once(
        event_id,
        "notify_listing_decision",
        lambda event: notify_vendor_of_decision(
            int(event.payload["product_id"]), event.name, event.id
        ),
    )


@job
def notify_vendor_decision(event_id: str) -> bool:
    """Notify an applicant whether their store was approved or declined."""
    return deliver_once(
        event_id,
        "notify_vendor_decision",
        lambda event: vendors.send_decision_email(
            int(event.payload["vendor_id"]), event.name, event.id
        ),
    )


@event_handler
def stamp_screenshots(event: Event) -> None:
    """Stamp the listing's screenshots with its watermark (the copies shoppers see)."""
    screenshots.stamp_screenshots(int(event.payload["product_id"]))
