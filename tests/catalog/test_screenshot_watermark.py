"""The vendor's watermark switch for listing screenshots: shoppers see copies stamped with the
store's name and "preview", made once by a job (not per request); originals kept; a new
screenshot under the switch is stamped too, and never shown bare meanwhile."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from app.catalog import content, screenshots
from app.catalog.models import Product
from app.extensions import db
from app.images import watermark_png
from app.outbox.models import Event
from app.storage import get_storage, media_url
from tests.assets.factories import clean_version_here
from tests.catalog.factories import create_product, slug_of
from tests.conftest import csrf_token, login


def _picture(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (800, 450), colour)
    ImageDraw.Draw(image).rectangle((100, 100, 500, 300), fill=(250, 250, 250))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def listing(app, client, make_user):
    """A live listing with two screenshots; its vendor logged in. (id, original keys)."""
    product_id = create_product(app, make_user, "Shot listing", store_name="Acme Flows")
    with app.test_request_context():
        keys = [content.store_screenshot(_picture(c)) for c in ((40, 90, 160), (160, 40, 90))]
        product = db.session.get(Product, product_id)
        product.screenshot_keys = keys
        db.session.commit()
        user = product.vendor.user
        db.session.expunge(user)
    assert login(client, user).status_code == 303
    return product_id, keys


def _switch(client, product_id: int, enabled: bool):
    token = csrf_token(client, f"/vendor/products/{product_id}")
    data = {"csrf_token": token, **({"enabled": "y"} if enabled else {})}
    return client.post(f"/vendor/products/{product_id}/screenshots/watermark", data=data)


def _shown(app, product_id: int) -> list[str]:
    """The media URLs of the screenshots on the public product page."""
    page = app.test_client().get(f"/products/{slug_of(app, product_id)}").get_data(as_text=True)
    return re.findall(r'<a href="(/media/products/[^"]+)"><img', page)


def _urls(app, keys: list[str]) -> list[str]:
    with app.test_request_context():
        return [media_url(key) for key in keys]


def test_the_switch_shows_stamped_copies_made_once_by_the_job(app, client, listing, run_jobs):
    product_id, originals = listing
    assert _shown(app, product_id) == _urls(app, originals)
    assert "across the screenshots" in client.get(f"/vendor/products/{product_id}").get_data(
        as_text=True
    )
    assert _switch(client, product_id, True).status_code == 303
    # Until the job has stamped them, shoppers see none of them (never an original).
    assert _shown(app, product_id) == []
    assert run_jobs() >= 1
    with app.app_context():
        product = db.session.get(Product, product_id)
        marks = dict(product.screenshot_marks)
        assert list(product.screenshot_keys) == originals  # the originals are kept
        storage = get_storage()
        for original in originals:
            stamped = storage.read(marks[original])
            assert stamped == watermark_png(storage.read(original), "Acme Flows · preview")
            assert stamped != storage.read(original)
            assert storage.exists(original)
    shown = _shown(app, product_id)
    assert shown == _urls(app, [marks[key] for key in originals])
    served = app.test_client().get(shown[0])
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    # Made once: serving the page makes nothing, and the job again changes nothing.
    with app.app_context():
        assert screenshots.stamp_screenshots(product_id) == 0
        assert db.session.get(Product, product_id).screenshot_marks == marks
    # Off again: the originals.
    assert _switch(client, product_id, False).status_code == 303
    assert _shown(app, product_id) == _urls(app, originals)


def test_a_new_screenshot_under_the_switch_is_stamped_too(app, client, make_user, run_jobs):
    product_id = create_product(app, make_user, "Draft shots", status="draft")
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        product.watermark_screenshots = True
        first = content.store_screenshot(_picture((10, 120, 60)))
        product.screenshot_keys = [first]
        db.session.commit()
        assert screenshots.stamp_screenshots(product_id) == 1
        category_id = product.category_id
        user = product.vendor.user
        db.session.expunge(user)
    assert login(client, user).status_code == 303
    token = csrf_token(client, f"/vendor/products/{product_id}/edit")
    form = {
        "csrf_token": token,
        "title": "Draft shots",
        "short_description": "Shots.",
        "description_md": "It does things.",
        "type": "n8n_workflow",
        "category_id": str(category_id),
        "price_type": "free",
        "currency": "USD",
        "complexity": "beginner",
        "screenshots": (io.BytesIO(_picture((200, 200, 20))), "second.png"),
    }
    response = client.post(
        f"/vendor/products/{product_id}/edit", data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert len(product.screenshot_keys) == 2
        assert len(product.shown_screenshot_keys) == 1  # the new one waits for its stamp
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.name == "product.screenshots_changed")
            )
            == 1
        )
    run_jobs()
    with app.app_context():
        product = db.session.get(Product, product_id)
        shown = product.shown_screenshot_keys
        assert len(shown) == 2 and not set(shown) & set(product.screenshot_keys)


def test_another_vendor_cannot_flip_the_switch(app, client, listing, make_user):
    product_id, _ = listing
    other = app.test_client()
    assert login(other, make_user("vendor")).status_code == 303
    token = csrf_token(other, "/vendor/products")
    response = other.post(
        f"/vendor/products/{product_id}/screenshots/watermark",
        data={"csrf_token": token, "enabled": "y"},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Product, product_id).watermark_screenshots is False
        assert not db.session.scalars(select(Event)).all()


def test_an_approved_edit_that_adds_a_screenshot_gets_it_stamped(app, listing, make_user, run_jobs):
    """A live listing's edit goes through review: its screenshots change when it is approved."""
    from app.catalog import listings, review
    from app.outbox.services import dispatch_committed

    product_id, originals = listing
    admin = make_user("admin")
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        product.watermark_screenshots = True
        db.session.commit()
        screenshots.stamp_screenshots(product_id)
        clean_version_here(product_id)
        added = content.store_screenshot(_picture((90, 90, 90)))
        values = listings.working_values(product)
        values["screenshot_keys"] = [*originals, added]
        values["description_md"] = "It does things."
        listings.update_listing(product.vendor.user, product, values)
        review.transition(product.vendor.user, product, "submit")
        db.session.commit()
        assert len(db.session.get(Product, product_id).shown_screenshot_keys) == 2
        review.transition(db.session.merge(admin), db.session.get(Product, product_id), "approve")
        db.session.commit()
        dispatch_committed()
    run_jobs()
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product.screenshot_keys == [*originals, added]
        shown = product.shown_screenshot_keys
        assert len(shown) == 3 and added not in shown
    assert _shown(app, product_id) == _urls(app, shown)
