"""The demo reviews: made through the services after the catalog seed, idempotent, with one
held for moderation, a reply and a report; ratings backed by published reviews."""

from __future__ import annotations

from sqlalchemy import func, select

from app.catalog.models import Product
from app.extensions import db
from app.licensing.models import Licence
from app.reviews.models import Review, ReviewReply, ReviewReport
from demo.reviews import seed_reviews


def _seed(app) -> list[str]:
    """The lines `flask seed` printed about reviews (it calls seed_reviews)."""
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if line.startswith("reviews:")]


def test_demo_reviews_are_consistent_and_made_once(app, client):
    lines = _seed(app)
    assert lines == ["reviews: 10 created (1 waiting for moderation), 1 replies, 1 reports"]
    with app.app_context():
        reviews = list(db.session.scalars(select(Review)))
        pending = [r for r in reviews if r.status == "pending"]
        assert len(pending) == 1 and set(pending[0].spam_reasons) == {"new_account", "links"}
        for review in reviews:
            held = db.session.scalar(
                select(func.count())
                .select_from(Licence)
                .where(Licence.user_id == review.author_id, Licence.product_id == review.product_id)
            )
            assert held == 1, review.title
        for product in db.session.scalars(select(Product)):
            stars = [r.stars for r in reviews if r.product_id == product.id and r.is_published]
            assert product.rating_count == len(stars), product.slug
            if stars:
                assert abs(product.rating_avg - sum(stars) / len(stars)) < 1e-3, product.slug
        assert db.session.scalar(select(func.count()).select_from(ReviewReply)) == 1
        assert db.session.scalar(select(func.count()).select_from(ReviewReport)) == 1
        slug = db.session.scalar(
            select(Product.slug).join(Review, Review.product_id == Product.id).join(ReviewReply)
        )
    assert _seed(app) == ["reviews: 0 created (0 waiting for moderation), 0 replies, 0 reports"]
    with app.app_context():
        assert list(seed_reviews()) == _seed(app)
    page = " ".join(client.get(f"/products/{slug}").get_data(as_text=True).split())
    assert "Briefs my writers actually follow" in page and "Priya N." in page
    assert "internal link suggestions" in page
