"""Uploaded images: validated by their content, re-encoded (no metadata), resized, stored."""

from __future__ import annotations

import io
import logging
import math
import struct

from PIL import Image, ImageDraw, ImageFont, ImageOps

from app.errors import DomainError
from app.storage import content_key, get_storage

ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
# Decompression bombs: a tiny file that claims a huge canvas is refused before decoding.
MAX_PIXELS = 40_000_000
# Watermarks: text this share of the shorter side high, tilted, repeated, half transparent.
_MARK_HEIGHT = 1 / 16
_MARK_ANGLE = 30
_MARK_CHARS = 80
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


def watermark_png(data: bytes, text: str) -> bytes:
    """``data`` (a PNG, as normalise_image makes them) with ``text`` stamped across it.

    Rows of the text, tilted and repeated over the whole picture, white with a dark outline
    at about a third opacity, so the mark shows on light and dark screenshots alike and a
    crop cannot leave it out. The pixels are changed, so nothing can take the mark off.
    """
    text = " ".join(text.split())[:_MARK_CHARS]
    if not text:
        raise ValueError("a watermark needs some text")
    with Image.open(io.BytesIO(data)) as opened:
        base = opened.convert("RGBA")
    width, height = base.size
    size = max(12, round(min(width, height) * _MARK_HEIGHT))
    font = ImageFont.load_default(size=size)
    stroke = max(1, size // 14)
    # The text is drawn and turned once, then laid like tiles on a tilted grid.
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font, stroke_width=stroke)
    tile = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text(
        (-left, -top),
        text,
        font=font,
        fill=(255, 255, 255, 96),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 72),
    )
    step_x, step_y = tile.width + 3 * size, round(3.2 * size)
    tile = tile.rotate(_MARK_ANGLE, expand=True, resample=Image.Resampling.BICUBIC)
    # A margin of one tile all round keeps every paste inside the layer.
    margin_x, margin_y = tile.width, tile.height
    layer = Image.new("RGBA", (width + 2 * margin_x, height + 2 * margin_y), (0, 0, 0, 0))
    turn = math.radians(_MARK_ANGLE)
    cos, sin = math.cos(turn), math.sin(turn)
    reach = math.hypot(width, height) / 2 + max(step_x, step_y)
    centre_x, centre_y = margin_x + width / 2, margin_y + height / 2
    for row in range(-math.ceil(reach / step_y), math.ceil(reach / step_y) + 1):
        shift = step_x / 2 if row % 2 else 0.0
        for column in range(-math.ceil(reach / step_x), math.ceil(reach / step_x) + 1):
            along, across = column * step_x + shift, row * step_y
            # Image y grows downwards; rotate() turns counter-clockwise as seen.
            x = centre_x + along * cos + across * sin - tile.width / 2
            y = centre_y - along * sin + across * cos - tile.height / 2
            if -tile.width < x - margin_x < width and -tile.height < y - margin_y < height:
                layer.alpha_composite(tile, (round(x), round(y)))
    layer = layer.crop((margin_x, margin_y, margin_x + width, margin_y + height))
    stamped = Image.alpha_composite(base, layer).convert("RGB")
    out = io.BytesIO()
    stamped.save(out, format="PNG", optimize=True)
    return out.getvalue()


def store_image(
    prefix: str,
    data: bytes,
    max_bytes: int,
    size: tuple[int, int],
    crop: bool = False,
    watermark: str | None = None,
) -> str:
    """Normalise ``data`` (stamped with ``watermark`` when given) and store it under a
    content-hash key; return the key."""
    encoded = normalise_image(data, max_bytes, size, crop)
    if watermark:
        encoded = watermark_png(encoded, watermark)
    key = content_key(prefix, encoded, ".png")
    get_storage().put(key, encoded, "image/png")
    return key
