"""Honest view counts: one per account or anonymous network a day, a few per address at most,
whatever User-Agent, account or IPv6 address a visitor switches to."""

from __future__ import annotations

import random
from datetime import date, timedelta

from app.catalog import pageviews
from app.catalog.models import Product, ProductView
from app.extensions import db
from tests.catalog.factories import create_product, slug_of
from tests.conftest import login

CAP = pageviews.VIEWS_PER_ADDRESS


def _views(app, product_id: int) -> int:
    with app.app_context():
        pageviews.flush()
        product = db.session.get(Product, product_id)
        assert product.popularity == product.view_count
        return product.view_count


def _visit(client, slug: str, address: str, agent: str = "Firefox") -> None:
    response = client.get(
        f"/products/{slug}", headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": address}
    )
    assert response.status_code == 200


def test_a_new_user_agent_per_request_is_still_one_visitor(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    for n in range(10):
        _visit(client, slug, "203.0.113.7", agent=f"Mozilla/5.0 (variant {n})")
    assert _views(app, product_id) == 1
    _visit(client, slug, "203.0.113.8")
    assert _views(app, product_id) == 2


def test_an_ipv6_visitor_counts_once_per_64(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    for n in range(8):
        _visit(client, slug, f"2001:db8:1:2::{n + 1:x}")
    assert _views(app, product_id) == 1
    _visit(client, slug, "2001:db8:1:3::1")  # another /64: another line
    assert _views(app, product_id) == 2


def test_an_account_counts_once_from_any_address(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    login(client, make_user())
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        _visit(client, slug, address)
    assert _views(app, product_id) == 1


def test_many_accounts_from_one_address_add_a_few_views(app, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    for _ in range(CAP + 2):
        client = app.test_client()
        login(client, make_user())
        _visit(client, slug, "192.0.2.50")
    assert _views(app, product_id) == CAP
    # The cap is per product and day: another listing still counts them.
    other = create_product(app, make_user)
    client = app.test_client()
    login(client, make_user())
    _visit(client, slug_of(app, other), "192.0.2.50")
    assert _views(app, other) == 1


def test_the_cap_holds_across_batches(app, make_user):
    product_id = create_product(app, make_user)
    day = date(2026, 12, 1)
    with app.app_context():
        assert pageviews.write([(product_id, day, "v1", "addr"), (product_id, day, "v2", "addr")])
        added = pageviews.write([(product_id, day, f"w{n}", "addr") for n in range(5)])
        assert added == CAP - 2
        assert pageviews.write([(product_id, day + timedelta(days=1), "v1", "addr")]) == 1


def _reference(views):
    """Views in arrival order: new visitors of a product and day, until the address's cap."""
    seen, per_address, counted = set(), {}, 0
    for product_id, day, visitor, address in views:
        address = address or visitor
        if (product_id, day, visitor) in seen:
            continue
        seen.add((product_id, day, visitor))
        if per_address.get((product_id, day, address), 0) >= CAP:
            continue
        per_address[(product_id, day, address)] = per_address.get((product_id, day, address), 0) + 1
        counted += 1
    return counted


def test_batched_counting_matches_a_plain_reference(app, make_user):
    products = [create_product(app, make_user) for _ in range(2)]
    rng = random.Random(13)
    days = [date(2026, 12, 1), date(2026, 12, 2)]
    views = [
        (
            rng.choice(products),
            rng.choice(days),
            f"visitor-{rng.randrange(12)}",
            rng.choice(["", "addr-a", "addr-b", "addr-c"]),
        )
        for _ in range(300)
    ]
    # A visitor keeps its first address (an account seen from two networks counts once).
    first_address = {}
    views = [(p, d, v, first_address.setdefault((p, d, v), a)) for p, d, v, a in views]
    total = 0
    with app.app_context():
        start = 0
        while start < len(views):
            size = rng.randint(1, 40)
            total += pageviews.write(views[start : start + size])
            start += size
        stored = db.session.scalar(db.select(db.func.count(ProductView.id)))
    assert total == stored == _reference(views)


def test_old_queue_entries_without_an_address_still_count(app, make_user):
    product_id = create_product(app, make_user)
    connection = app.extensions["redis"]
    connection.rpush(pageviews.REDIS_KEY, f"{product_id}:2026-12-01:legacy")
    assert _views(app, product_id) == 1
