"""The faults of issue 14 that the other files leave out, with real parts: a slow clamd cut
off and the scan job retried with backoff while the version waits; the sweep that tries
waiting versions again; a scanner that never comes back ends in an error, never clean; the
same job delivered twice; a storage failure through the upload form.

Covered elsewhere: clamd down and the job retried (test_versions), clamd stopped and started
again, a hung clamd cut off (test_versions, test_clamd), SIGKILL mid-scan (test_worker_faults),
storage failure and rollback orphans at the service (test_versions)."""

from __future__ import annotations

import io
import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app.assets import services
from app.assets.models import ProductVersion
from app.catalog.models import Product
from app.extensions import db
from app.outbox.models import Event
from app.queue import enqueue_due_jobs, get_queue
from app.storage import S3Storage
from jobs.assets import scan_uploaded_version
from tests.assets import samples
from tests.assets.factories import draft, upload, with_clamd
from tests.conftest import csrf_token, login, start_clamd
from tests.support.services import wait_until


@pytest.fixture
def ctx(app):
    """An app context on an empty versions folder (the storage folder outlives tests)."""
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)
    with app.app_context():
        yield


@pytest.fixture
def clamd(app, monkeypatch):
    server = start_clamd()
    try:
        with_clamd(app, server, monkeypatch, clamd_timeout_seconds=0.5)
        yield server
    finally:
        server.close()


def _version(version_id: int) -> ProductVersion:
    return db.session.get(ProductVersion, version_id, populate_existing=True)


def _scan_queue(app):
    connection = app.extensions["redis"]
    return connection, get_queue("scan", connection)


def _events(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Event).where(Event.name == name))


def test_a_slow_clamd_is_cut_off_and_the_job_retried_with_backoff(app, ctx, make_user, clamd):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.workflow_bytes())
    connection, queue = _scan_queue(app)
    clamd.pause()  # connections are accepted, nothing is answered: slower than the timeout
    started = time.time()
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert time.time() - started < 10  # cut off by CLAMD_TIMEOUT_SECONDS, not left hanging
    (job_id,) = queue.scheduled_job_registry.get_job_ids()
    assert not queue.failed_job_registry.get_job_ids()
    retry_at = queue.scheduled_job_registry.get_scheduled_time(job_id)
    assert retry_at.timestamp() > started  # later, not at once: the backoff
    waiting = _version(version.id)
    assert waiting.status_label == "Waiting for scanner"
    assert waiting.reasons[0].startswith("Waiting for the virus scanner")
    assert db.session.get(Product, product_id).current_version_id is None
    clamd.resume()
    wait_until(lambda: enqueue_due_jobs(connection), 10, "the retry fell due")
    SimpleWorker([queue], connection=connection).work(burst=True)
    done = _version(version.id)
    assert done.status == "clean" and done.attempts == 2
    assert _events("version.scanned") == 1


def test_the_sweep_tries_a_waiting_version_again(app, ctx, make_user, clamd):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.workflow_bytes())
    clamd.stop()
    with pytest.raises(services.ScannerUnavailable):
        services.scan_version(version.id)
    assert _version(version.id).status == "waiting"
    connection, queue = _scan_queue(app)
    queue.empty()  # the upload's own job: only the sweep may bring the version back
    assert services.sweep_versions().requeued == 0  # it waited only a moment
    waiting = _version(version.id)
    waiting.scan_started_at -= timedelta(seconds=services.WAITING_RETRY_SECONDS + 1)
    db.session.commit()
    clamd.start()
    assert services.sweep_versions().requeued == 1
    assert queue.count == 1
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert _version(version.id).status == "clean"


def test_a_scanner_that_never_comes_back_ends_in_an_error_never_clean(app, ctx, make_user, clamd):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.workflow_bytes())
    clamd.stop()
    for _ in range(services.MAX_SCAN_ATTEMPTS):
        with pytest.raises(services.ScannerUnavailable):
            services.scan_version(version.id)
    failed = _version(version.id)
    assert failed.status == "error" and failed.status_label == "Scan failed"
    assert failed.reasons[0].startswith("The virus scan failed")
    assert db.session.get(Product, product_id).current_version_id is None
    # Final: a scan now leaves it as it is.
    clamd.start()
    assert services.scan_version(version.id) == "error"


def test_the_scan_job_delivered_twice_scans_once(app, ctx, make_user, clamd):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.workflow_bytes())
    event_id = db.session.scalar(select(Event.id).where(Event.name == "version.uploaded"))
    assert scan_uploaded_version(event_id) is True
    scanned = _version(version.id)
    assert scanned.status == "clean"
    assert scan_uploaded_version(event_id) is False  # delivered already: nothing runs
    # The sweep's job (by version id) on a finished version changes nothing either.
    assert services.scan_version(version.id) == "clean"
    again = _version(version.id)
    assert (again.attempts, again.scanned_at) == (scanned.attempts, scanned.scanned_at)
    assert _events("version.scanned") == 1


def test_a_storage_failure_through_the_form_says_so_and_saves_nothing(
    app, client, make_user, s3_server, monkeypatch
):
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)
    product_id = draft(app, make_user)
    with app.app_context():
        user = db.session.get(Product, product_id).vendor.user
        db.session.expunge(user)
    assert login(client, user).status_code == 303
    page = f"/vendor/products/{product_id}/versions"
    token = csrf_token(client, page)
    # A real S3 server whose bucket does not exist refuses the write.
    broken = S3Storage.connect(f"missing-{uuid.uuid4().hex[:10]}", s3_server.url, "us-east-1")
    monkeypatch.setitem(app.extensions, "storage", broken)
    response = client.post(
        page,
        data={
            "csrf_token": token,
            "file": (io.BytesIO(samples.workflow_bytes()), "flow.json"),
            "label": "1.0",
            "changelog": "",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 503
    assert "File storage is not available right now" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProductVersion)) == 0
        assert _events("version.uploaded") == 0
    root = Path(app.config["APP_CONFIG"].storage_dir) / "versions"
    assert not [p for p in root.rglob("*") if p.is_file()]
