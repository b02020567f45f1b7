"""A vendor deletes an old version to free storage: the row and its audit entry in one
commit, the file taken away by the job after it unless another version shares its content;
never the current version, nor a file a buyer was just handed a link to; nobody else's."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.assets import services
from app.assets.models import ProductVersion
from app.catalog.models import Product
from app.downloads.models import DownloadLog
from app.extensions import db
from app.outbox.services import dispatch_committed
from app.storage import get_storage
from app.timeutil import utcnow
from tests.assets.factories import draft, stored_version_here
from tests.conftest import csrf_token, login
from tests.licensing.factories import create_licence


@pytest.fixture(autouse=True)
def _empty_versions(app):
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)


@pytest.fixture
def listing(app, client, make_user):
    """A vendor (logged in) with a listing: 1.0 and 1.1 (old), 1.2 current; the ids."""
    product_id = draft(app, make_user)
    with app.app_context():
        old = stored_version_here(product_id, b"first file", label="1.0", current=False)
        older = stored_version_here(product_id, b"second file", label="1.1", current=False)
        current = stored_version_here(product_id, b"third file", label="1.2")
        user = db.session.get(Product, product_id).vendor.user
        db.session.expunge(user)
    assert login(client, user).status_code == 303
    return product_id, old, older, current


def _delete(client, product_id: int, version_id: int):
    token = csrf_token(client, f"/vendor/products/{product_id}/versions")
    return client.post(
        f"/vendor/products/{product_id}/versions/{version_id}/delete", data={"csrf_token": token}
    )


def _key(app, version_id: int) -> str:
    with app.app_context():
        return db.session.get(ProductVersion, version_id).storage_key


def _stored(app, key: str) -> bool:
    with app.app_context():
        return get_storage().exists(key)


def _vendor_id(app, product_id: int) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).vendor_id


def test_an_old_version_is_deleted_its_file_collected_and_the_quota_freed(
    app, client, listing, run_jobs
):
    product_id, old, _, _ = listing
    key = _key(app, old)
    with app.app_context():
        used = services.storage_used(_vendor_id(app, product_id))
    page = client.get(f"/vendor/products/{product_id}/versions").get_data(as_text=True)
    assert f"/versions/{old}/delete" in page
    response = _delete(client, product_id, old)
    assert response.status_code == 303
    assert "Version 1.0 is deleted" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(ProductVersion, old) is None
        assert services.storage_used(_vendor_id(app, product_id)) == used - len(b"first file")
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "version.deleted")
        ).all()
        assert entry.target_type == "product_version" and entry.target_id == str(old)
        assert entry.before["label"] == "1.0" and entry.before["product_id"] == product_id
        assert entry.actor_id == db.session.get(Product, product_id).vendor.user_id
    assert _stored(app, key)  # the job takes the file, after the commit
    assert run_jobs() >= 1
    assert not _stored(app, key)


def test_a_file_another_version_shares_stays_until_the_last_goes(
    app, client, make_user, listing, run_jobs
):
    product_id, old, _, _ = listing
    # The same bytes in another store's listing: one stored file for both.
    other_product = draft(app, make_user)
    with app.app_context():
        twin = stored_version_here(other_product, b"first file", label="1.0", current=False)
    key = _key(app, old)
    assert _key(app, twin) == key
    assert _delete(client, product_id, old).status_code == 303
    run_jobs()
    assert _stored(app, key)  # the other store's version still needs it
    with app.app_context():
        keys = services.delete_version(
            db.session.get(ProductVersion, twin).product.vendor.user,
            db.session.get(ProductVersion, twin),
        )
        db.session.commit()
        dispatch_committed()  # as a request does after its commit
        assert keys == [key]
    run_jobs()
    assert not _stored(app, key)


def test_the_current_version_cannot_be_deleted(app, client, listing, run_jobs):
    product_id, _, _, current = listing
    response = _delete(client, product_id, current)
    assert response.status_code == 409
    assert "is the current version" in response.get_data(as_text=True)
    run_jobs()
    with app.app_context():
        assert db.session.get(ProductVersion, current) is not None
        assert not db.session.scalars(select(AuditEntry)).all()
    assert _stored(app, _key(app, current))


def test_a_version_with_a_download_in_flight_waits(app, client, make_user, listing):
    product_id, old, older, _ = listing
    licence = create_licence(app, make_user, product_id=product_id)
    with app.app_context():
        for version_id, ago in ((old, 30), (older, 301)):
            version = db.session.get(ProductVersion, version_id)
            db.session.add(
                DownloadLog(
                    user_id=licence.buyer_id,
                    licence_id=licence.id,
                    product_id=product_id,
                    version_label=version.label,
                    storage_key=version.storage_key,
                    bytes=version.size,
                    created_at=utcnow() - timedelta(seconds=ago),
                )
            )
        db.session.commit()
    refused = _delete(client, product_id, old)
    assert refused.status_code == 409
    assert "downloading version 1.0" in refused.get_data(as_text=True)
    # A link handed out longer ago than a link lives is no longer in flight.
    assert _delete(client, product_id, older).status_code == 303
    with app.app_context():
        assert db.session.get(ProductVersion, old) is not None
        assert db.session.get(ProductVersion, older) is None


def _client_of(app, user):
    client = app.test_client()
    assert login(client, user).status_code == 303
    return client


def test_nobody_else_deletes_a_version(app, make_user, listing, run_jobs):
    product_id, old, _, _ = listing
    key = _key(app, old)
    # Another vendor, by the listing's own URL and by their own listing's id with this
    # version's id; then an admin: each 404, nothing changes.
    intruder = _client_of(app, make_user("vendor"))
    assert _delete(intruder, product_id, old).status_code == 404
    own = draft(app, make_user)
    with app.app_context():
        own_user = db.session.get(Product, own).vendor.user
        db.session.expunge(own_user)
    assert _delete(_client_of(app, own_user), own, old).status_code == 404
    assert _delete(_client_of(app, make_user("admin")), product_id, old).status_code == 404
    run_jobs()
    with app.app_context():
        assert db.session.get(ProductVersion, old) is not None
        assert not db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "version.deleted")
        ).all()
    assert _stored(app, key)
