"""Jobs of the `scan` queue (virus scan, zip inspection, n8n analysis, preview), the notice
that tells the vendor the verdict, and the one that tells owners of a new version."""

from app.assets import services
from app.outbox.models import Event
from jobs import event_handler, job


@event_handler
def scan_uploaded_version(event: Event) -> None:
    """Scan the event's version (uploaded, or a rescan asked for); raises ScannerUnavailable
    while clamd is away, so the job is retried with backoff."""
    services.scan_version(int(event.payload["version_id"]))


@job
def scan_version(version_id: int) -> str | None:
    """Scan a version the sweep found stuck or waiting (idempotent: a finished one is left)."""
    return services.scan_version(version_id)


@event_handler
def notify_version_scanned(event: Event) -> None:
    services.notify_vendor_of_scan(int(event.payload["version_id"]), event.id)


@event_handler
def announce_new_version(event: Event) -> None:
    """Owners of the product hear of its new version (one notification event each)."""
    services.announce_new_version(int(event.payload["version_id"]))


@event_handler
def delete_version_files(event: Event) -> None:
    """Take away a deleted version's stored files that no other version uses."""
    services.delete_unreferenced_files(list(event.payload["keys"]))
