"""Listing screenshots as shoppers see them: the vendor's watermark switch, and the stamped
copies a job makes once (when the switch goes on or the screenshots change), never per
request. The originals stay as uploaded; the product page shows the stamped copies."""

from __future__ import annotations

import logging

from app.accounts.models import User
from app.catalog.listings import get_own_product
from app.catalog.models import Product
from app.extensions import db
from app.images import watermark_png
from app.outbox.services import record_event
from app.storage import Storage, StoredFileMissing, content_key, get_storage

log = logging.getLogger(__name__)

MEDIA_PREFIX = "products"  # served by the products media route, as the originals are


def mark_text(product: Product) -> str:
    """What the stamp says: the store's name and "preview"."""
    return f"{product.vendor.store_name} · preview"


def set_screenshot_watermark(user: User, product_id: int, enabled: bool) -> Product:
    """Turn the watermark on ``user``'s listing's screenshots on or off, at once (it only
    changes how already reviewed images are shown). Turning it on records the event whose
    job stamps the copies; until a copy is made, that screenshot is not shown. Raises
    NotFound for another store's listing."""
    product = get_own_product(user, product_id)
    if product.watermark_screenshots == enabled:
        return product
    product.watermark_screenshots = enabled
    if enabled:
        record_event("product.screenshots_changed", product_id=product.id)
    return product


def stamp_screenshots(product_id: int, storage: Storage | None = None) -> int:
    """Make the stamped copy of each of the product's screenshots that has none yet, drop
    copies of screenshots it no longer has, and commit; return how many copies were made.
    Safe to run twice (a copy is keyed by its content). Nothing happens while the switch is
    off. A screenshot missing from storage is skipped (and so not shown)."""
    product = db.session.get(Product, product_id)
    if product is None or not product.watermark_screenshots:
        return 0
    storage = storage or get_storage()
    text = mark_text(product)
    old = dict(product.screenshot_marks or {})
    marks: dict[str, str] = {}
    made = 0
    for key in product.screenshot_keys or []:
        if key in old and storage.exists(old[key]):
            marks[key] = old[key]
            continue
        try:
            original = storage.read(key)
        except StoredFileMissing:
            log.warning("product %s: screenshot %s is missing from storage", product.id, key)
            continue
        stamped = watermark_png(original, text)
        marked = content_key(MEDIA_PREFIX, stamped, ".png")
        if not storage.exists(marked):
            storage.put(marked, stamped, "image/png")
        marks[key] = marked
        made += 1
    if marks != old:
        product.screenshot_marks = marks
    db.session.commit()
    return made
