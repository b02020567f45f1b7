"""Jobs of the `search` queue, the index's only writer: keep products in sync, rebuild."""

from app.outbox.services import deliver_once
from app.search import services
from jobs import job


@job
def index_product(event_id: str) -> bool:
    """Index the event's product if it is approved now, else remove it (idempotent)."""
    return deliver_once(
        event_id,
        "index_product",
        lambda event: services.sync_product(int(event.payload["product_id"])),
    )


@job
def rebuild_index() -> int:
    """Rebuild the whole index from the database (missing or corrupt index, or on demand)."""
    return services.rebuild_index()


@job
def reindex_all(event_id: str) -> bool:
    """Rebuild the index after a change that touches many documents (a category renamed)."""
    return deliver_once(event_id, "reindex_all", lambda event: services.reindex_all())
