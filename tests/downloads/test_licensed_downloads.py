"""A buyer's download: entitlement and limits checked at the click, the log, the counters and
the event, then a short-lived link: app-signed for one account (local storage, streamed) or an
S3 presigned URL with attachment disposition (moto)."""

from __future__ import annotations

import io
import shutil
import threading
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from flask_migrate import upgrade
from sqlalchemy import event as sa_event
from sqlalchemy import select

from app import create_app
from app.accounts.models import User
from app.assets.models import ProductVersion
from app.catalog.models import Product
from app.downloads.models import DownloadLog
from app.downloads.services import (
    DownloadLimitReached,
    LicensedLinkSigner,
    downloadable_file,
    downloadable_files,
    start_download,
)
from app.extensions import db
from app.licensing.models import Licence
from app.outbox.models import Event
from app.storage import CHUNK_SIZE, store_stream
from app.timeutil import utcnow
from tests.assets.factories import stored_version_here
from tests.conftest import csrf_token, local_env, login, user_maker
from tests.licensing.factories import create_licence


def _with_file(app, product_id: int, size: int = 3 * CHUNK_SIZE + 5) -> bytes:
    """Store a clean current version of ``product_id`` (what downloadable_file hands out);
    return its bytes."""
    data = (uuid.uuid4().hex.encode() * (size // 32 + 1))[:size]
    with app.test_request_context():
        stored_version_here(product_id, data, "flow.json", "1.0")
    return data


def _click(client, licence_id: int):
    token = csrf_token(client, "/library")
    return client.post(f"/library/{licence_id}/download", data={"csrf_token": token})


def _buyer_licence(app, client, make_user, login_as, **fields):
    buyer = login_as("customer")
    made = create_licence(app, make_user, buyer=buyer, **fields)
    return buyer, made


def test_a_download_is_checked_logged_counted_and_streamed(app, client, make_user, login_as):
    buyer, made = _buyer_licence(app, client, make_user, login_as, max_downloads=3)
    data = _with_file(app, made.product_id)
    with app.app_context():
        updated_before = db.session.get(Product, made.product_id).updated_at
    page = client.get("/library").get_data(as_text=True)
    assert f"/library/{made.id}/download" in page and "version 1.0 (flow.json" in page
    response = _click(client, made.id)
    assert response.status_code == 303
    assert response.headers["Cache-Control"] == "no-store"
    link = urlsplit(response.headers["Location"]).path
    assert link.startswith("/library/downloads/")
    file = client.get(link)
    assert file.status_code == 200
    assert file.data == data
    assert file.headers["Content-Length"] == str(len(data))
    assert file.headers["Content-Disposition"].startswith("attachment;")
    assert "flow.json" in file.headers["Content-Disposition"]
    assert file.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        (log,) = db.session.scalars(select(DownloadLog)).all()
        assert (log.user_id, log.licence_id, log.product_id) == (buyer.id, made.id, made.product_id)
        assert log.version_label == "1.0" and log.bytes == len(data)
        assert log.created_at is not None
        assert db.session.get(Licence, made.id).download_count == 1
        product = db.session.get(Product, made.product_id)
        assert product.download_count == 1
        assert product.updated_at == updated_before  # a statistic, not an edit
        (event,) = db.session.scalars(select(Event).where(Event.name == "download.initiated"))
        assert event.payload["download_id"] == log.id
        assert event.payload["licence_id"] == made.id
        assert event.payload["bytes"] == len(data)


def test_the_download_limit_is_checked_at_the_click(app, client, make_user, login_as):
    _, made = _buyer_licence(app, client, make_user, login_as, max_downloads=2)
    _with_file(app, made.product_id, 100)
    assert _click(client, made.id).status_code == 303
    assert _click(client, made.id).status_code == 303
    refused = _click(client, made.id)
    assert refused.status_code == 409
    assert "all of its 2 downloads" in refused.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(DownloadLog)).all()) == 2
        assert db.session.get(Licence, made.id).download_count == 2
        assert db.session.get(Product, made.product_id).download_count == 2
    assert "No downloads left" in client.get("/library").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"can_download": False}, 403, "does not include downloads"),
        ({"status": "disabled"}, 403, "disabled by its vendor"),
        ({"status": "revoked"}, 403, "revoked"),
        ({"expires_at": utcnow() - timedelta(hours=1)}, 403, "expired"),
    ],
)
def test_licences_that_do_not_allow_it_are_refused(
    app, client, make_user, login_as, fields, status, says
):
    _, made = _buyer_licence(app, client, make_user, login_as, **fields)
    _with_file(app, made.product_id, 100)
    response = _click(client, made.id)
    assert response.status_code == status
    assert says in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(DownloadLog)).all() == []
        assert db.session.get(Product, made.product_id).download_count == 0
        assert db.session.scalars(select(Event)).all() == []


def test_a_product_without_a_file_is_404(app, client, make_user, login_as):
    _, made = _buyer_licence(app, client, make_user, login_as)
    response = _click(client, made.id)
    assert response.status_code == 404
    assert "No file is available for that product yet" in response.get_data(as_text=True)
    assert "No file available yet" in client.get("/library").get_data(as_text=True)


def _product_file_states(app, product_id: int) -> None:
    """The listing has a stored SVG preview, a quarantined current version and a yanked
    clean one: none of them is the product's file."""
    with app.test_request_context():
        stored = store_stream("previews", io.BytesIO(b"<svg/>"), "image/svg+xml", ".svg")
        db.session.get(Product, product_id).preview_key = stored.key
        db.session.commit()
        yanked = stored_version_here(product_id, b"yanked file", label="1.0")
        db.session.get(ProductVersion, yanked).yanked_at = utcnow()
        db.session.commit()
        stored_version_here(product_id, b"not scanned yet", label="1.1", status="quarantined")


def test_neither_the_preview_nor_an_unclean_or_withdrawn_version_is_downloaded(
    app, client, make_user, login_as
):
    _, made = _buyer_licence(app, client, make_user, login_as)
    _product_file_states(app, made.product_id)
    assert _click(client, made.id).status_code == 404
    with app.app_context():
        product = db.session.get(Product, made.product_id)
        assert downloadable_file(product) is None
        assert downloadable_files([product]) == {}
        assert db.session.scalars(select(DownloadLog)).all() == []


def test_the_library_reads_sizes_from_the_version_rows_in_one_query(
    app, client, make_user, login_as
):
    buyer, first = _buyer_licence(app, client, make_user, login_as)
    second = create_licence(app, make_user, buyer=buyer)
    without = create_licence(app, make_user, buyer=buyer)
    _with_file(app, first.product_id, 2048)
    _with_file(app, second.product_id, 3 * 1024 * 1024)
    # The stored files are gone: a library that asked storage for sizes would fail.
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "product_versions" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/library")
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "version 1.0 (flow.json, 2.0 kB)" in text
    assert "version 1.0 (flow.json, 3.1 MB)" in text
    assert f"/library/{without.id}/download" not in text
    assert "No file available yet" in text
    assert len(statements) == 1
    assert "Changes in 1.0." in text  # the current version's changelog


def test_another_users_licence_is_404(app, client, make_user, login_as):
    login_as("customer")
    theirs = create_licence(app, make_user)
    _with_file(app, theirs.product_id, 100)
    assert _click(client, theirs.id).status_code == 404
    with app.app_context():
        assert db.session.get(Licence, theirs.id).download_count == 0


def test_a_link_is_for_its_account_only(app, client, make_user, login_as):
    _, made = _buyer_licence(app, client, make_user, login_as)
    _with_file(app, made.product_id, 100)
    link = urlsplit(_click(client, made.id).headers["Location"]).path
    other = app.test_client()
    someone = make_user("customer")
    assert login(other, someone).status_code == 303
    response = other.get(link)
    assert response.status_code == 404
    assert "made for another account" in response.get_data(as_text=True)
    anonymous = app.test_client().get(link)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_an_expired_or_altered_link_is_refused(app, client, make_user, login_as):
    buyer, made = _buyer_licence(app, client, make_user, login_as)
    _with_file(app, made.product_id, 100)
    signer = LicensedLinkSigner(app.config["SECRET_KEY"])
    key = "previews/" + "a" * 64 + ".svg"
    old = signer.sign(key, "x.svg", buyer.id, 300, now=time.time() - 301)
    response = client.get(f"/library/downloads/{old}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    fresh = signer.sign(key, "x.svg", buyer.id, 300)
    assert client.get(f"/library/downloads/{fresh[:-2]}xx").status_code == 404
    # Storage's bearer links and these are signed apart: neither passes for the other.
    with app.test_request_context():
        bearer = urlsplit(app.extensions["storage"].download_url(key, "x.svg")).path
    assert client.get("/library/downloads/" + bearer.rsplit("/", 1)[1]).status_code == 404
    with pytest.raises(ValueError):
        signer.sign(key, "x.svg", buyer.id, 301)


@pytest.fixture
def s3_app(s3_server, tmp_path):
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket=bucket)
    app = create_app(env=local_env(tmp_path, S3_BUCKET=bucket, S3_ENDPOINT_URL=s3_server.url))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_s3_hands_out_a_presigned_attachment_link_of_five_minutes(s3_app):
    app = s3_app
    make_user = user_maker(app)
    buyer = make_user("customer")
    made = create_licence(app, make_user, buyer=buyer, max_downloads=1)
    data = _with_file(app, made.product_id, CHUNK_SIZE + 1)
    client = app.test_client()
    assert login(client, buyer).status_code == 303
    response = _click(client, made.id)
    assert response.status_code == 303
    url = response.headers["Location"]
    parts = urlsplit(url)
    assert parts.netloc == urlsplit(app.config["APP_CONFIG"].s3_endpoint_url).netloc
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"][0].startswith("attachment;")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - moto on loopback
        assert answer.read() == data
        assert answer.headers["Content-Disposition"].startswith("attachment;")
    with app.app_context():
        (log,) = db.session.scalars(select(DownloadLog)).all()
        assert log.bytes == len(data) and log.user_id == buyer.id
    assert _click(client, made.id).status_code == 409  # its one download is used


def test_clicks_racing_for_the_last_download_get_one(app, make_user):
    buyer = make_user("customer")
    made = create_licence(app, make_user, buyer=buyer, max_downloads=1)
    _with_file(app, made.product_id, 100)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def click() -> None:
        with app.test_request_context():
            user = db.session.get(User, buyer.id)
            barrier.wait()
            try:
                start_download(user, made.id, app.config["SECRET_KEY"])
                db.session.commit()
                outcomes.append("link")
            except DownloadLimitReached:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["link"] + ["refused"] * 5
    with app.app_context():
        assert len(db.session.scalars(select(DownloadLog)).all()) == 1
        assert db.session.get(Licence, made.id).download_count == 1
