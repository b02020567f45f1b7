"""Similar products: worked out when a product is indexed, looked up by the product page."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import Product
from app.extensions import db
from app.search.backend import Hit
from app.search.documents import product_card
from app.search.models import SimilarProduct
from app.search.services import more_like_this, refresh_similar, sync_product


def test_the_product_page_looks_up_what_indexing_worked_out(app, make_product):
    base = make_product("Slack lead alerts", tags=["slack", "leads"], category_slug="sales")
    close = make_product("Slack lead alerts digest", tags=["slack", "leads"], category_slug="ops")
    make_product("Weather report", category_slug="productivity")
    with app.app_context():
        hits = more_like_this(base, limit=1)
        assert [h.id for h in hits] == [close] and hits[0].position == 1
        assert hits[0].title == "Slack lead alerts digest" and hits[0].vendor_name
        # The lookup reads the card's columns only; the card is the one indexing makes.
        assert hits[0] == Hit.from_card(product_card(db.session.get(Product, close)), 1)
        assert hits[0].category_name == "Ops"
        stored = db.session.scalars(
            select(SimilarProduct.similar_id).where(SimilarProduct.product_id == base)
        ).all()
        assert stored[0] == close
        assert more_like_this(999_999) == []


def test_a_new_product_shows_up_in_its_neighbours_lists(app, make_product):
    base = make_product("Invoice chaser reminder", tags=["billing"])
    for i in range(10):
        make_product(f"Quote builder {i}")
    newcomer = make_product("Invoice chaser reminder pro", tags=["billing"])
    with app.app_context():
        # The newcomer was indexed after ``base``; base's list was worked out again.
        assert more_like_this(base, limit=1)[0].id == newcomer


def test_products_taken_off_sale_leave_the_lists(app, make_product):
    base = make_product("Slack lead alerts", tags=["slack"])
    other = make_product("Slack lead alerts digest", tags=["slack"])
    with app.app_context():
        assert [h.id for h in more_like_this(base, limit=1)] == [other]
        db.session.get(Product, other).status = "suspended"
        db.session.commit()
        assert other not in [h.id for h in more_like_this(base)]  # at once, before reindexing
        sync_product(other)
        assert (
            db.session.scalars(
                select(SimilarProduct).where(SimilarProduct.product_id == other)
            ).all()
            == []
        )


def test_a_rebuild_works_out_every_list(app, make_product, client):
    ids = [make_product(f"Slack lead alerts {i}", tags=["slack"], index=False) for i in range(3)]
    with app.app_context():
        assert more_like_this(ids[0]) == []
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        for product_id in ids:
            assert sorted(h.id for h in more_like_this(product_id)) == sorted(
                set(ids) - {product_id}
            )
        assert refresh_similar([]) == 0
