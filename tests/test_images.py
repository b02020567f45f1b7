"""Listing screenshots: the optional watermark is stamped into the pixels, across the whole
picture, and leaves the rest of it as it was."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw

from app.images import normalise_image, store_image, watermark_png
from tests.conftest import local_env

MARK = "Autopilot Monster · preview"


def screenshot(size=(1280, 720)) -> bytes:
    """A picture with light, dark and mid-tone areas, as normalise_image stores it."""
    image = Image.new("RGB", size, (40, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 600, 400), fill=(250, 250, 250))
    draw.rectangle((700, 300, 1200, 650), fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return normalise_image(out.getvalue(), 10 * 1024 * 1024, size)


def changed_mask(before: Image.Image, after: Image.Image) -> Image.Image:
    return ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v else 0)


def share(mask: Image.Image, box=None) -> float:
    part = mask.crop(box) if box else mask
    return part.histogram()[255] / (part.width * part.height)


def test_the_stamp_changes_pixels_where_the_mark_is_and_nowhere_else():
    data = screenshot()
    stamped = watermark_png(data, MARK)
    before = Image.open(io.BytesIO(data)).convert("RGB")
    after = Image.open(io.BytesIO(stamped)).convert("RGB")
    assert after.size == before.size
    mask = changed_mask(before, after)
    # The letters cover a part of the picture, the rest is untouched.
    assert 0.05 < share(mask) < 0.5
    # Repeated across the whole picture: every quarter, light, dark and mid-tone, carries it.
    width, height = after.size
    quarters = [(0, 0, width // 2, height // 2), (width // 2, 0, width, height // 2)]
    quarters += [(0, height // 2, width // 2, height), (width // 2, height // 2, width, height)]
    for box in quarters + [(100, 100, 600, 400), (700, 300, 1200, 650)]:
        assert share(mask, box) > 0.03, box
    # Visible: on the white area it darkens (outline), on the black one it lightens (fill).
    assert ImageChops.darker(before, after).crop((100, 100, 600, 400)) != before.crop(
        (100, 100, 600, 400)
    )
    lighter = ImageChops.lighter(before, after).crop((700, 300, 1200, 650))
    assert max(lighter.convert("L").getextrema()) > 60


def test_the_stamp_is_deterministic_and_needs_text():
    data = screenshot((640, 360))
    assert watermark_png(data, MARK) == watermark_png(data, MARK)
    assert watermark_png(data, MARK) != watermark_png(data, "Another store · preview")
    with pytest.raises(ValueError):
        watermark_png(data, "   ")


def test_small_and_tall_pictures_are_covered_too():
    for size in ((120, 90), (400, 1600)):
        data = screenshot(size)
        mask = changed_mask(
            Image.open(io.BytesIO(data)).convert("RGB"),
            Image.open(io.BytesIO(watermark_png(data, MARK))).convert("RGB"),
        )
        assert share(mask) > 0.03, size


def test_store_image_stamps_when_asked(tmp_path):
    from app import create_app

    app = create_app(env=local_env(tmp_path))
    original = screenshot((320, 180))
    with app.app_context():
        plain = store_image("products", original, 10 * 1024 * 1024, (320, 180))
        marked = store_image("products", original, 10 * 1024 * 1024, (320, 180), watermark=MARK)
        storage = app.extensions["storage"]
        assert plain != marked
        assert storage.read(plain) == normalise_image(original, 10 * 1024 * 1024, (320, 180))
        assert storage.read(marked) == watermark_png(storage.read(plain), MARK)
