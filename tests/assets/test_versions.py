"""Versions through the services with real parts: storage on disk, a private clamd with the
EICAR signature, real RQ jobs from the outbox."""

from __future__ import annotations

import io
import os
import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app.assets import services
from app.assets.intake import UnsupportedFileType, UploadTooLarge
from app.assets.models import NO_SCANNER, ProductVersion
from app.catalog.models import Product
from app.errors import NotFound
from app.extensions import db
from app.queue import enqueue_due_jobs, get_queue
from app.storage import S3Storage, StorageError
from tests.assets import samples
from tests.assets.factories import draft, owner_of, secret_workflow, upload, with_clamd
from tests.conftest import start_clamd
from tests.support.services import wait_until


@pytest.fixture
def ctx(app):
    """An app context on an empty versions folder (the storage folder outlives tests)."""
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)
    with app.app_context():
        yield


@pytest.fixture
def scanning(app, clamd_server, monkeypatch):
    with_clamd(app, clamd_server, monkeypatch)
    return clamd_server


def _product(product_id: int) -> Product:
    return db.session.get(Product, product_id)


def _version(version_id: int) -> ProductVersion:
    return db.session.get(ProductVersion, version_id, populate_existing=True)


def _files(app) -> list[str]:
    root = Path(app.config["APP_CONFIG"].storage_dir) / "versions"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_clean_workflow_is_scanned_analysed_previewed_and_made_current(
    app, ctx, make_user, scanning, run_jobs, mailbox
):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.workflow_bytes())
    assert version.status == "quarantined"
    assert version.storage_key == f"versions/files/{version.sha256}"
    run_jobs()
    version = _version(version.id)
    assert version.status == "clean", version.reasons
    assert version.scanner.startswith("clamd ClamAV")
    assert version.preview_key and version.redacted_key
    svg = app.extensions["storage"].read(version.preview_key).decode()
    assert "Autopilot Monster · preview" in svg
    product = _product(product_id)
    assert product.current_version_id == version.id
    assert product.node_types == version.analysis["node_types"] and product.node_types
    assert any("Version 1.0" in m["Subject"] for m in mailbox.messages)
    # The same job run again changes nothing.
    assert services.scan_version(version.id) == "clean"
    assert _version(version.id).attempts == 1


def test_eicar_as_a_file_and_inside_a_zip_is_infected(app, ctx, make_user, scanning, run_jobs):
    product_id = draft(app, make_user)
    text = upload(product_id, samples.eicar(), "readme.txt", "1.0")
    bundle = upload(
        product_id,
        samples.zip_bytes([("README.md", b"# hi\n"), ("bin/test.txt", samples.eicar())]),
        "bundle.zip",
        "1.1",
    )
    run_jobs()
    for version in (_version(text.id), _version(bundle.id)):
        assert version.status == "infected"
        assert samples.EICAR_MD5 and "Eicar-Test-Signature" in " ".join(version.reasons)
        assert version.preview_key is None
    assert "'bin/test.txt'" in " ".join(_version(bundle.id).reasons)
    assert _product(product_id).current_version_id is None


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([("../evil.sh", b"echo hi\n")], "outside the folder"),
        ([(samples.symlink_info("link"), b"/etc/passwd")], "symbolic link"),
        ([("inner.zip", samples.zip_bytes([("a.txt", b"a")]))], "archive inside"),
    ],
)
def test_hostile_zips_are_rejected_with_reasons(app, ctx, make_user, entries, reason):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.zip_bytes([("ok.txt", b"fine"), *entries]), "b.zip")
    assert services.scan_version(version.id) == "rejected"
    assert reason in " ".join(_version(version.id).reasons)


def test_a_zip_bomb_is_rejected(app, ctx, make_user, tmp_path):
    product_id = draft(app, make_user)
    data = samples.bomb(tmp_path / "bomb.zip").read_bytes()
    version = upload(product_id, data, "bomb.zip")
    assert services.scan_version(version.id) == "rejected"
    assert "zip bomb" in " ".join(_version(version.id).reasons)


def test_an_exe_renamed_json_and_an_oversize_file_are_refused_at_upload(
    app, ctx, make_user, monkeypatch
):
    product_id = draft(app, make_user)
    with pytest.raises(UnsupportedFileType, match="Windows program"):
        upload(product_id, samples.exe_bytes(), "workflow.json")
    limit = 64 * 1024
    config = replace(app.config["APP_CONFIG"], max_product_file_bytes=limit)
    monkeypatch.setitem(app.config, "APP_CONFIG", config)

    class Endless(io.RawIOBase):
        """A body that never ends: the intake must stop one byte past the limit."""

        read_bytes = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[: len(buffer)] = b"a" * len(buffer)
            Endless.read_bytes += len(buffer)
            return len(buffer)

    with pytest.raises(UploadTooLarge):
        services.upload_version(
            owner_of(product_id), _product(product_id), Endless(), "big.md", "1.0"
        )
    assert Endless.read_bytes <= limit + 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ProductVersion)) == 0
    assert _files(app) == []


def test_planted_secrets_are_findings_and_the_preview_is_redacted(app, ctx, make_user):
    product_id = draft(app, make_user)
    data = secret_workflow()
    version = upload(product_id, data)
    assert services.scan_version(version.id) == "clean"
    version = _version(version.id)
    kinds = {f["kind"] for f in version.findings if f["type"] == "secret"}
    assert kinds, version.findings
    assert any("Call the API" in f["where"] for f in version.findings)
    assert version.scanner == NO_SCANNER
    assert "not virus-scanned" in " ".join(version.reasons)
    storage = app.extensions["storage"]
    redacted = storage.read(version.redacted_key)
    svg = storage.read(version.preview_key)
    for secret in (b"ghp_", b"sk-proj-"):
        assert secret in data
        assert secret not in redacted and secret not in svg
    # Findings hold the kind and place, never the value.
    assert b"ghp_" not in repr(version.findings).encode()
    product = _product(product_id)
    assert services.submission_problems(product) == [
        "Fixing or acknowledging the findings of version 1.0"
    ]
    services.acknowledge_findings(owner_of(product_id), version)
    assert services.submission_problems(product) == []


def test_a_workflow_inside_a_zip_is_analysed(app, ctx, make_user):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.bundle(), "bundle.zip")
    assert services.scan_version(version.id) == "clean"
    version = _version(version.id)
    assert version.analysis["workflows"][0]["entry"] == "workflows/flow.json"
    assert version.preview_key


def test_without_a_scanner_production_waits_and_never_cleans(app, ctx, make_user, monkeypatch):
    product_id = draft(app, make_user)
    version = upload(product_id, samples.workflow_bytes())
    config = replace(app.config["APP_CONFIG"], env="production")
    monkeypatch.setitem(app.config, "APP_CONFIG", config)
    for _ in range(services.MAX_SCAN_ATTEMPTS + 2):
        assert services.scan_version(version.id) == "waiting"
    assert _version(version.id).status_label == "Waiting for scanner"
    assert _product(product_id).current_version_id is None


def test_clamd_stopped_waits_then_scans_once_it_is_back(app, ctx, make_user, monkeypatch):
    clamd = start_clamd()
    try:
        with_clamd(app, clamd, monkeypatch)
        product_id = draft(app, make_user)
        version = upload(product_id, samples.workflow_bytes())
        clamd.stop()
        with pytest.raises(services.ScannerUnavailable):
            services.scan_version(version.id)
        assert _version(version.id).status == "waiting"
        assert "Waiting for the virus scanner" in _version(version.id).reasons[0]
        clamd.start()
        assert services.scan_version(version.id) == "clean"
    finally:
        clamd.close()


def test_with_clamd_down_the_scan_job_is_retried_with_backoff(app, ctx, make_user, monkeypatch):
    clamd = start_clamd()
    try:
        with_clamd(app, clamd, monkeypatch)
        clamd.stop()
        product_id = draft(app, make_user)
        version = upload(product_id, samples.workflow_bytes())
        connection = app.extensions["redis"]
        queue = get_queue("scan", connection)
        SimpleWorker([queue], connection=connection).work(burst=True)
        # Not failed: scheduled again (JOB_RETRY_INTERVALS), the version waiting meanwhile.
        assert len(queue.scheduled_job_registry.get_job_ids()) == 1
        assert not queue.failed_job_registry.get_job_ids()
        assert _version(version.id).status_label == "Waiting for scanner"
        clamd.start()
        wait_until(lambda: enqueue_due_jobs(connection), 10, "the retry fell due")
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert _version(version.id).status == "clean"
    finally:
        clamd.close()


def test_a_hung_clamd_is_cut_off_and_never_clean(app, ctx, make_user, monkeypatch):
    clamd = start_clamd()
    try:
        with_clamd(app, clamd, monkeypatch, clamd_timeout_seconds=0.5)
        product_id = draft(app, make_user)
        version = upload(product_id, samples.workflow_bytes())
        # clamd answers VERSION, then hangs on the scan.
        from app.assets.clamd import Clamd

        scanner = Clamd(socket_path=clamd.socket_path, read_timeout=0.5)
        scanner.version()
        clamd.pause()
        with pytest.raises(services.ScannerUnavailable):
            services.scan_version(version.id, scanner=scanner)
        assert _version(version.id).status == "waiting"
        clamd.resume()
        assert services.scan_version(version.id, scanner=scanner) == "clean"
    finally:
        clamd.close()


def test_rollback_and_yank(app, ctx, make_user):
    product_id = draft(app, make_user)
    vendor = owner_of(product_id)
    first = upload(product_id, samples.workflow_bytes(), label="1.0")
    services.scan_version(first.id)
    second = upload(product_id, samples.bundle(), "b.zip", label="1.1")
    services.scan_version(second.id)
    product = _product(product_id)
    assert product.current_version_id == second.id
    services.publish_version(vendor, _version(first.id))  # roll back
    db.session.commit()
    assert _product(product_id).current_version_id == first.id
    # A rescan (a signature update) leaves the vendor's choice of current version alone.
    services.rescan_version(make_user("admin"), _version(second.id))
    db.session.commit()
    assert services.scan_version(second.id) == "clean"
    assert _product(product_id).current_version_id == first.id
    services.publish_version(vendor, _version(second.id))
    services.yank_version(vendor, _version(second.id), "Broke the webhook.")
    db.session.commit()
    assert _product(product_id).current_version_id == first.id
    assert _version(second.id).yank_reason == "Broke the webhook."
    with pytest.raises(services.VersionNotUsable):
        services.publish_version(vendor, _version(second.id))
    services.yank_version(vendor, _version(first.id), "Withdrawn.")
    assert _product(product_id).current_version_id is None
    with pytest.raises(services.VersionError, match="increase"):
        upload(product_id, samples.workflow_bytes(), label="0.9")


def test_only_the_owner_uploads_and_other_vendors_see_nothing(app, ctx, make_user):
    product_id = draft(app, make_user)
    other = make_user("vendor")
    with pytest.raises(NotFound):
        services.upload_version(
            other, _product(product_id), io.BytesIO(samples.workflow_bytes()), "f.json", "1.0"
        )
    version = upload(product_id, samples.workflow_bytes())
    with pytest.raises(NotFound):
        services.get_version(other, product_id, version.id)
    admin = make_user("admin")
    assert services.get_version(admin, product_id, version.id).id == version.id


def test_the_storage_quota(app, ctx, make_user, monkeypatch):
    product_id = draft(app, make_user)
    upload(product_id, samples.workflow_bytes(), label="1.0")
    size = len(samples.workflow_bytes())
    config = replace(app.config["APP_CONFIG"], vendor_storage_quota_bytes=size + 10)
    monkeypatch.setitem(app.config, "APP_CONFIG", config)
    with pytest.raises(services.QuotaExceeded):
        upload(product_id, samples.bundle(), "b.zip", label="1.1")
    db.session.rollback()
    # The same content again takes no more room.
    upload(product_id, samples.workflow_bytes(), label="1.2")


def test_a_storage_failure_leaves_no_rows_or_files(app, ctx, make_user, s3_server):
    """A real S3 server whose bucket does not exist refuses the write."""
    product_id = draft(app, make_user)
    broken = S3Storage.connect(f"missing-{uuid.uuid4().hex[:10]}", s3_server.url, "us-east-1")
    with pytest.raises(StorageError):
        upload(product_id, samples.workflow_bytes(), storage=broken)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ProductVersion)) == 0
    assert _files(app) == []


def test_a_rolled_back_upload_leaves_an_orphan_the_sweep_collects(app, ctx, make_user):
    product_id = draft(app, make_user)
    kept = upload(product_id, samples.workflow_bytes(), label="1.0")
    services.upload_version(
        owner_of(product_id),
        _product(product_id),
        io.BytesIO(samples.pdf_bytes()),
        "guide.pdf",
        "1.1",
    )
    db.session.rollback()  # the file is stored; its row is gone
    assert len(_files(app)) == 2
    assert not services.sweep_versions().orphans_deleted  # within the grace period
    old = time.time() - app.config["APP_CONFIG"].orphan_file_grace_seconds - 5
    for path in (Path(app.config["APP_CONFIG"].storage_dir) / "versions").rglob("*"):
        os.utime(path, (old, old))
    assert services.sweep_versions().orphans_deleted == 1
    assert _files(app) == [f"files/{kept.sha256}"]
