"""The upload pipeline through HTTP: a vendor uploads with a plain multipart form, a real RQ
worker scans with a real clamd, the status fragment stops polling, the shopper sees the
redacted preview and never the JSON; rollback, yank, findings, review and the admin."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from app.assets.models import ProductVersion
from app.catalog.models import Product
from app.extensions import db
from tests.assets import samples
from tests.assets.factories import draft, secret_workflow, with_clamd
from tests.catalog.factories import slug_of
from tests.conftest import csrf_token, login

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _empty_versions(app):
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)


@pytest.fixture
def vendor_product(app, client, make_user):
    """A draft listing of a vendor who is logged in; its id."""
    product_id = draft(app, make_user)
    with app.app_context():
        user = db.session.get(Product, product_id).vendor.user
        db.session.expunge(user)
    assert login(client, user).status_code == 303
    return product_id


def _upload(client, product_id, data, filename="flow.json", label="1.0", headers=None, **extra):
    form = {
        "csrf_token": csrf_token(client, f"/vendor/products/{product_id}/versions"),
        "file": (io.BytesIO(data), filename),
        "label": label,
        "changelog": "First **release**.",
        "publish_when_clean": "y",
        **extra,
    }
    return client.post(
        f"/vendor/products/{product_id}/versions",
        data=form,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _versions(app, product_id) -> list[ProductVersion]:
    with app.app_context():
        rows = db.session.scalars(
            db.select(ProductVersion)
            .where(ProductVersion.product_id == product_id)
            .order_by(ProductVersion.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **data})


def test_upload_scan_poll_preview_and_the_shopper_page(
    app, client, vendor_product, clamd_server, monkeypatch, run_jobs, mailbox
):
    with_clamd(app, clamd_server, monkeypatch)
    response = _upload(client, vendor_product, samples.workflow_bytes())
    assert response.status_code == 303
    (version,) = _versions(app, vendor_product)
    base = f"/vendor/products/{vendor_product}/versions/{version.id}"
    page = client.get(f"/vendor/products/{vendor_product}/versions").get_data(as_text=True)
    assert "Quarantined" in page and f'hx-get="{base}"' in page and 'hx-trigger="every 2s"' in page
    polled = client.get(base, headers=HX)
    assert polled.status_code == 200 and "every 2s" in polled.get_data(as_text=True)
    assert "<html" not in polled.get_data(as_text=True)  # the status cell alone
    assert "HX-Request" in polled.headers["Vary"]

    run_jobs()
    polled = client.get(base, headers=HX)
    assert polled.status_code == 286 and polled.headers["HX-Refresh"] == "true"
    assert "Clean" in polled.get_data(as_text=True) and "hx-get" not in polled.get_data(True)
    assert any(m["To"] for m in mailbox.messages if "clean" in m["Subject"])

    page = client.get(base).get_data(as_text=True)
    assert "clamd ClamAV" in page and f"{base}/preview.svg" in page
    svg = client.get(f"{base}/preview.svg")
    assert svg.headers["Content-Type"] == "image/svg+xml"
    download = client.get(f"{base}/file")
    assert download.data == samples.workflow_bytes()
    assert download.headers["Content-Disposition"].startswith('attachment; filename="flow.json"')

    # Live: the shopper's page shows the preview of the current clean version, its facts
    # and the changelog, and no way to the JSON.
    with app.app_context():
        product = db.session.get(Product, vendor_product)
        product.status = "approved"
        db.session.commit()
    slug = slug_of(app, vendor_product)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    shop = client.get(f"/products/{slug}").get_data(as_text=True)
    assert f'<img class="preview-svg" src="/products/{slug}/preview.svg"' in shop
    assert "Version history" in shop and "<strong>release</strong>" in shop
    assert "/file" not in shop and "versions/files" not in shop
    preview = client.get(f"/products/{slug}/preview.svg")
    assert preview.status_code == 200
    assert preview.headers["Content-Type"] == "image/svg+xml"
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert b"Autopilot Monster \xc2\xb7 preview" in preview.data
    assert (
        client.get(f"/vendor/products/{vendor_product}/versions/{version.id}/file").status_code
        == 302
    )


def test_refused_files_re_render_the_form(app, client, vendor_product, monkeypatch):
    response = _upload(client, vendor_product, samples.exe_bytes(), "workflow.json")
    assert response.status_code == 415
    assert "Windows program" in response.get_data(as_text=True)
    response = _upload(client, vendor_product, samples.exe_bytes(), "workflow.json", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 415 and body.lstrip().startswith("<form")
    response = _upload(client, vendor_product, samples.workflow_bytes(), label="one")
    assert response.status_code == 422 and "1.2.3" in response.get_data(as_text=True)
    assert _versions(app, vendor_product) == []


def test_an_oversize_body_is_cut_off_at_the_limit(app, client, vendor_product, monkeypatch):
    config = replace(app.config["APP_CONFIG"], max_product_file_bytes=64 * 1024)
    monkeypatch.setitem(app.config, "APP_CONFIG", config)
    # Past the file limit plus the form's room: refused before the form is read.
    response = _upload(client, vendor_product, b"a" * (400 * 1024), "notes.md")
    assert response.status_code == 413
    # Within the body's room, past the file limit: the intake refuses it.
    response = _upload(client, vendor_product, b"a" * (100 * 1024), "notes.md")
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    assert _versions(app, vendor_product) == []


def test_findings_review_rollback_and_yank(app, client, vendor_product, run_jobs):
    submit = f"/vendor/products/{vendor_product}/submit"
    response = _post(client, submit)
    assert response.status_code == 422 and "clean current version" in response.get_data(True)

    assert _upload(client, vendor_product, secret_workflow(), label="1.0").status_code == 303
    run_jobs()
    (first,) = _versions(app, vendor_product)
    assert first.status == "clean" and first.findings
    base = f"/vendor/products/{vendor_product}/versions/{first.id}"
    page = client.get(base).get_data(as_text=True)
    assert "Findings" in page and "Call the API" in page and "not virus-scanned" in page
    assert "ghp_" not in page
    response = _post(client, submit)
    assert response.status_code == 422 and "findings of version 1.0" in response.get_data(True)
    assert _post(client, f"{base}/acknowledge").status_code == 303
    assert "Acknowledged" in client.get(base).get_data(as_text=True)

    assert _upload(client, vendor_product, samples.workflow_bytes(), label="1.1").status_code == 303
    run_jobs()
    _, second = _versions(app, vendor_product)
    with app.app_context():
        assert db.session.get(Product, vendor_product).current_version_id == second.id
    # Roll back to 1.0, then withdraw it: 1.1 is current again.
    assert _post(client, f"{base}/publish").status_code == 303
    with app.app_context():
        assert db.session.get(Product, vendor_product).current_version_id == first.id
    assert _post(client, f"{base}/yank").status_code == 422
    response = _post(client, f"{base}/yank", reason="Leaked a token.")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Product, vendor_product).current_version_id == second.id
    page = client.get(f"/vendor/products/{vendor_product}/versions").get_data(as_text=True)
    assert "withdrawn" in page
    assert _post(client, submit).status_code == 303


def test_a_rejected_zip_and_the_admin_rescan(app, client, vendor_product, login_as, run_jobs):
    bad = samples.zip_bytes([("../escape.txt", b"x")])
    assert _upload(client, vendor_product, bad, "bundle.zip").status_code == 303
    run_jobs()
    (version,) = _versions(app, vendor_product)
    assert version.status == "rejected"
    page = client.get(f"/vendor/products/{vendor_product}/versions/{version.id}")
    assert "points outside the folder" in page.get_data(as_text=True)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as("admin")
    listing = client.get("/admin/versions?status=rejected").get_data(as_text=True)
    assert "points outside the folder" in listing
    assert "escape" not in client.get("/admin/versions?status=clean").get_data(as_text=True)
    assert _post(client, f"/admin/versions/{version.id}/rescan").status_code == 303
    assert _versions(app, vendor_product)[0].status == "quarantined"
    run_jobs()
    assert _versions(app, vendor_product)[0].status == "rejected"
    assert _post(client, "/admin/versions/rescan").status_code == 303
    assert re.search(r"\d+ version\(s\) will be scanned again", client.get("/").get_data(True))
