"""The demo's versions went through the real pipeline: uploaded by the upload service, scanned
by the scan jobs; one listing shows a secret finding and one a rejected zip."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from app.assets.models import ProductVersion
from app.catalog.models import Product
from app.extensions import db
from demo import REJECTED_DEMO, SECRET_DEMO, load


def test_every_demo_workflow_has_a_scanned_version(app, client, run_jobs):
    shutil.rmtree(Path(app.config["APP_CONFIG"].storage_dir) / "versions", ignore_errors=True)
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert run_jobs() > 0
    with_flow = [spec for spec in load().products if spec.flow is not None]
    with app.app_context():
        by_slug = {p.slug: p for p in db.session.scalars(select(Product))}
        for index, spec in enumerate(with_flow):
            product = by_slug[spec.slug]
            versions = db.session.scalars(
                select(ProductVersion)
                .where(ProductVersion.product_id == product.id)
                .order_by(ProductVersion.id)
            ).all()
            first = versions[0]
            assert first.status == "clean" and first.preview_key, spec.slug
            assert product.current_version_id == first.id, spec.slug
            secrets = [f for f in first.findings if f["type"] == "secret"]
            assert bool(secrets) == (index == SECRET_DEMO), spec.slug
            if index == REJECTED_DEMO:
                assert [v.status for v in versions] == ["clean", "rejected"]
                assert "outside the folder" in " ".join(versions[1].reasons)
            else:
                assert len(versions) == 1, spec.slug
        slug = with_flow[0].slug
    page = client.get(f"/products/{slug}").get_data(as_text=True)
    assert f"/products/{slug}/preview.svg" in page and "Version history" in page
    assert client.get(f"/products/{slug}/preview.svg").status_code == 200
    # Seeding again uploads nothing more.
    again = app.test_cli_runner().invoke(args=["seed"])
    assert "versions: 0 uploaded" in again.output
