"""Uploaded images: validated by their content, re-encoded (no metadata), resized, stored."""

from __future__ import annotations

import io
import logging
import struct

from PIL import Image, ImageOps

from app.errors import DomainError
from app.storage import content_key, get_storage

ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
# Decompression bombs: a tiny file that claims a huge canvas is refused before decoding.
MAX_PIXELS = 40_000_000
# What Pillow raises for a file it cannot identify or decode: OSError (unidentified, truncated,
# no decoder), SyntaxError (broken PNG chunks, bad checksums), ValueError, EOFError and
# struct.error from plugins reading short headers, and its decompression-bomb guard (the
# warning is an error where warnings are errors).
DECODER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

log = logging.getLogger(__name__)


class InvalidImage(DomainError):
    status = 422
    message = "That file is not an image we can use (PNG, JPEG, WebP or GIF)."


def normalise_image(
    data: bytes, max_bytes: int, size: tuple[int, int], crop: bool = False
) -> bytes:
    """Return ``data`` re-encoded as PNG, at most ``size`` (cropped to exactly it if ``crop``).

    Raises InvalidImage for anything that is not a sane PNG, JPEG, WebP or GIF.
    """
    refused = InvalidImage(
        f"That image could not be read: it is damaged, or not an image we can use (PNG, JPEG, "
        f"WebP or GIF, up to {max_bytes // (1024 * 1024)} MB)."
    )
    if not data or len(data) > max_bytes:
        raise refused
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise refused
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidImage("That image is too large in pixels.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image = ImageOps.exif_transpose(image).convert("RGB")
            if crop:
                image = ImageOps.fit(image, size, Image.Resampling.LANCZOS)
            else:
                image.thumbnail(size, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            # Re-encoding drops metadata (EXIF location) and anything hidden after the pixels.
            image.save(out, format="PNG", optimize=True)
    except DECODER_ERRORS as exc:
        log.info("image refused: %s: %s", type(exc).__name__, exc)
        raise refused from exc
    return out.getvalue()


def store_image(
    prefix: str, data: bytes, max_bytes: int, size: tuple[int, int], crop: bool = False
) -> str:
    """Normalise ``data`` and store it under a content-hash key; return the key."""
    encoded = normalise_image(data, max_bytes, size, crop)
    key = content_key(prefix, encoded, ".png")
    get_storage().put(key, encoded, "image/png")
    return key
