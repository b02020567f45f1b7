"""The demo catalog created by `flask seed`: enough, varied, safe to show, idempotent, and
with figures its own rows back."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.accounts.models import User
from app.catalog.models import (
    Category,
    PriceType,
    Product,
    ProductStatus,
    ProductTransition,
    ProductType,
    ProductView,
    Tag,
    product_tags,
)
from app.commerce.models import OrderLine
from app.extensions import db
from app.licensing.models import Licence
from app.n8n import parse_workflow, scan_document, validate
from app.reviews.models import Review
from app.storage import get_storage
from app.vendors.models import VendorProfile, VendorStatus
from demo import DEMO_PASSWORD, build_workflow, load

PRODUCTS, VENDORS = load().products, load().vendors

COUNTED = (User, VendorProfile, Category, Tag, Product, ProductTransition)


def _seed(app) -> str:
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts() -> dict[str, int]:
    counts = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }
    counts["product_tags"] = db.session.scalar(select(func.count()).select_from(product_tags))
    return counts


def test_seed_twice_creates_the_catalog_once(app):
    first = _seed(app)
    assert f"products: {len(PRODUCTS)} created, 0 existing" in first
    with app.app_context():
        after_first = _counts()
    assert "notifications: 4 created" in first
    second = _seed(app)
    assert "products: 0 created" in second
    assert "notifications: 0 created" in second
    with app.app_context():
        assert _counts() == after_first
        products = list(db.session.scalars(select(Product)))
    assert len(products) >= 40
    assert all(p.status == ProductStatus.APPROVED and p.published_at for p in products)
    assert {p.type for p in products} == {t.value for t in ProductType}
    assert {p.price_type for p in products} == {t.value for t in PriceType}
    assert any(p.is_featured for p in products)
    assert len({p.category_id for p in products}) >= 15


def test_demo_products_are_complete_and_safe(app):
    _seed(app)
    with app.app_context():
        products = list(db.session.scalars(select(Product)))
        storage = get_storage()
        for p in products:
            assert p.category is not None and p.vendor.is_approved, p.slug
            assert p.description_html.startswith("<p>"), p.slug
            assert "<script" not in p.description_html.lower(), p.slug
            assert 0 < len(p.short_description) <= 200, p.slug
            assert p.tags and p.support_policy and p.refund_policy, p.slug
            assert p.setup_minutes and p.requirements, p.slug
            if p.price_type == PriceType.ONE_TIME:
                assert p.price_cents > 0, p.slug
            elif p.price_type == PriceType.SUBSCRIPTION:
                assert p.monthly_price_cents or p.yearly_price_cents, p.slug
            else:
                assert p.display_price_cents == 0, p.slug
            if p.type == ProductType.AUTOMATION_ASSET:
                assert p.node_types == [] and p.preview_key is None, p.slug
            else:
                # Every workflow and agent has its rendered canvas.
                assert p.node_types and p.services and p.n8n_version and p.preview_key, p.slug
                assert storage.read(p.preview_key).startswith(b"<svg"), p.slug
        history = list(db.session.scalars(select(ProductTransition)))
        assert sorted(t.product_id for t in history) == sorted(p.id for p in products)
        assert {(t.from_status, t.to_status, t.actor_id, t.note) for t in history} == {
            ("", "approved", None, "demo data")
        }


def test_demo_stores_are_approved_and_only_the_demo_vendor_can_log_in(app):
    _seed(app)
    with app.app_context():
        stores = list(db.session.scalars(select(VendorProfile)))
        assert len(stores) >= 5
        assert all(s.status == VendorStatus.APPROVED for s in stores)
        assert any(s.is_verified for s in stores) and not all(s.is_verified for s in stores)
        owners = {s.user.email: s.user for s in stores}
        assert "vendor@demo.autopilot.monster" in owners
        for email, user in owners.items():
            assert user.role == "vendor" and email.endswith("@demo.autopilot.monster")
            can_log_in = check_password_hash(user.password_hash, DEMO_PASSWORD)
            assert can_log_in == (email == "vendor@demo.autopilot.monster"), email
        selling = set(db.session.scalars(select(Product.vendor_id).distinct()))
        assert selling == {s.id for s in stores}


def test_seed_leaves_edited_demo_data_alone(app):
    _seed(app)
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.slug == PRODUCTS[0].slug))
        product.title = "Renamed by the vendor"
        product.status = ProductStatus.SUSPENDED.value
        db.session.commit()
    _seed(app)
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.slug == PRODUCTS[0].slug))
        assert (product.title, product.status) == ("Renamed by the vendor", "suspended")
        assert db.session.scalar(select(func.count()).select_from(Product)) == len(PRODUCTS)


def test_demo_workflows_are_valid_n8n_without_secrets():
    specs = [p for p in PRODUCTS if p.flow is not None]
    assert {p.type for p in specs} == {ProductType.AI_AGENT, ProductType.N8N_WORKFLOW}
    for spec in specs:
        document = build_workflow(spec)
        workflow = parse_workflow(json.dumps(document).encode())
        assert validate(workflow) == [], spec.slug
        assert scan_document(workflow.document) == [], spec.slug
        active = [n for n in workflow.nodes if not n.is_sticky]
        assert 3 <= len(active) <= 12, spec.slug
        assert document == build_workflow(spec)  # deterministic, so previews are stable


def test_demo_vendor_keys_are_unique():
    assert len({v.key for v in VENDORS}) == len({v.slug for v in VENDORS}) == len(VENDORS)
    assert len({p.slug for p in PRODUCTS}) == len(PRODUCTS)
    assert {p.vendor for p in PRODUCTS} == {v.key for v in VENDORS}


def test_demo_figures_are_backed_by_rows(app, client, run_jobs):
    """Ratings are the published demo reviews; sales are order lines (the demo customer's,
    counted by their jobs, and the analytics demo's shoppers'); views are product_views rows;
    every sale's buyer holds a licence for it; a product without reviews shows no stars."""
    _seed(app)
    run_jobs()
    with app.app_context():
        sold = dict(
            db.session.execute(
                select(OrderLine.product_id, func.count()).group_by(OrderLine.product_id)
            ).all()
        )
        assert len(sold) > 3  # the demo customer's three and the demo vendor's paid listings
        unlicensed = db.session.scalar(
            select(func.count())
            .select_from(OrderLine)
            .outerjoin(Licence, Licence.order_line_id == OrderLine.id)
            .where(Licence.id.is_(None))
        )
        assert unlicensed == 0
        twice = db.session.execute(
            select(Licence.user_id, Licence.product_id)
            .group_by(Licence.user_id, Licence.product_id)
            .having(func.count() > 1)
        ).all()
        assert twice == []
        products = list(db.session.scalars(select(Product)))
        views = dict(
            db.session.execute(
                select(ProductView.product_id, func.count()).group_by(ProductView.product_id)
            ).all()
        )
        unreviewed = []
        for p in products:
            stars = [
                r.stars
                for r in db.session.scalars(
                    select(Review).where(Review.product_id == p.id, Review.status == "published")
                )
            ]
            assert p.rating_count == len(stars), p.slug
            if not stars:
                unreviewed.append(p.slug)
            assert p.sales_count == sold.get(p.id, 0), p.slug
            assert p.view_count == views.get(p.id, 0), p.slug
            assert p.popularity == p.view_count + p.sales_count, p.slug
        assert sum(views.values()) > 0  # "popular" still means something
    assert unreviewed
    for slug in unreviewed[:5]:
        page = client.get(f"/products/{slug}").get_data(as_text=True)
        assert "★" not in page and "reviews)" not in page, slug


def test_the_demo_data_is_not_in_the_wheel():
    import tomllib
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = find_packages(str(root), include=include)
    assert "app" in shipped and "jobs" in shipped
    assert not [name for name in shipped if name.split(".")[0] in {"demo", "tests"}]
