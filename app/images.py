"""Uploaded images: validated by their content, re-encoded (no metadata), resized, stored."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import DomainError
from app.storage import content_key, get_storage

ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
# Decompression bombs: a tiny file that claims a huge canvas is refused before decoding.
MAX_PIXELS = 40_000_000


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
        f"That file is not an image we can use (PNG, JPEG, WebP or GIF, up to "
        f"{max_bytes // (1024 * 1024)} MB)."
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
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
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
