"""The admin lists served by other domains (orders, payouts, uploaded versions) search, filter,
sort and paginate with the panel's shared controls; the orders list totals what it shows."""

from __future__ import annotations

from datetime import timedelta

from app.assets.models import ProductVersion
from app.extensions import db
from app.timeutil import utcnow
from app.vendors.models import Payout
from tests.assets.access_rules import _version
from tests.catalog.factories import create_product
from tests.reviews.factories import insert_review, make_buyer
from tests.vendors.access_rules import _payout
from tests.vendors.factories import create_sale, refund_line


def test_orders_search_filter_sort_paginate_and_total(app, client, login_as, make_user):
    login_as("admin")
    product = create_product(app, make_user, "Sold often")
    alice = make_user(email="alice@example.com")
    bob = make_user(email="bob@example.com")
    now = utcnow()
    for n in range(27):
        create_sale(app, alice.id, product, now - timedelta(hours=n), 1000 + n)
    refunded = create_sale(app, bob.id, product, now - timedelta(days=3), 5000)
    refund_line(app, refunded, now - timedelta(days=2))
    create_sale(app, bob.id, product, now - timedelta(days=4), 900, currency="EUR")

    page = client.get("/admin/orders?q=alice&sort=total&dir=asc").text
    assert "Page 1 of 2" in page and "$10.00" in page and "$10.26" not in page
    assert "bob@example.com" not in page
    second = client.get("/admin/orders?q=alice&sort=total&dir=asc&page=2").text
    assert "$10.26" in second and "$10.00" not in second
    # The totals are of every order listed, not only this page: 27 orders, 10.00 + ... + 10.26.
    assert "<td>27</td>" in page and f"${sum(1000 + n for n in range(27)) / 100:,.2f}" in page

    refunds = client.get("/admin/orders?filter=refunded").text
    assert "bob@example.com" in refunds and "alice@example.com" not in refunds
    assert "$50.00" in refunds and "$0.00" in refunds  # 50.00 paid, 50.00 back, 0.00 kept
    bobs = client.get("/admin/orders?q=BOB@").text
    assert "EUR" in bobs and "€9.00" in bobs
    fragment = client.get("/admin/orders?q=bob", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="results">')


def test_payouts_filter_by_status_and_method_and_search(app, client, login_as, make_user):
    login_as("admin")
    pending, sent = _payout(app, make_user), _payout(app, make_user)
    with app.app_context():
        payout = db.session.get(Payout, sent)
        payout.status, payout.provider_ref, payout.sent_at = "sent", "BARC-778", utcnow()
        db.session.commit()
    # The page opens on the payouts waiting to be sent.
    assert f"#{pending} ·" in client.get("/admin/payouts").text
    assert f"#{sent} ·" not in client.get("/admin/payouts").text
    shown = client.get("/admin/payouts?filter=sent").text
    assert f"#{sent} ·" in shown and f"#{pending} ·" not in shown
    assert f"#{sent} ·" in client.get("/admin/payouts?status=sent").text  # the old links
    everything = client.get("/admin/payouts?filter=by_bank&sort=amount").text
    assert f"#{sent} ·" in everything and f"#{pending} ·" in everything
    found = client.get("/admin/payouts?filter=&q=barc-778").text
    assert f"#{sent} ·" in found and f"#{pending} ·" not in found


def test_versions_filter_and_search(app, client, login_as, make_user):
    login_as("admin")
    _, draft = _version(app, make_user)
    _, scanned = _version(app, make_user, scan=True)
    with app.app_context():
        draft_status = db.session.get(ProductVersion, draft).status
        scanned_status = db.session.get(ProductVersion, scanned).status
        digest = db.session.get(ProductVersion, scanned).sha256
    assert draft_status != scanned_status
    page = client.get(f"/admin/versions?filter={scanned_status}").text
    assert f'/versions/{scanned}"' in page and f'/versions/{draft}"' not in page
    assert f'/versions/{draft}"' in client.get(f"/admin/versions?status={draft_status}").text
    assert "No versions match." in client.get("/admin/versions?q=no-such-file").text
    # Both uploads are the same file: the hash finds both.
    by_hash = client.get(f"/admin/versions?q={digest[:12]}").text
    assert f'/versions/{scanned}"' in by_hash and f'/versions/{draft}"' in by_hash


def test_reviews_queue_searches_and_sorts(app, client, login_as, make_user):
    login_as("admin")
    product_id = create_product(app, make_user, "Reviewed twice")
    low = insert_review(
        app,
        make_buyer(app, make_user, product_id).id,
        product_id,
        stars=1,
        status="pending",
        title="Broken on import",
        created_at=utcnow() - timedelta(days=2),
    )
    high = insert_review(
        app,
        make_buyer(app, make_user, product_id).id,
        product_id,
        stars=5,
        status="pending",
        title="Works a treat",
        created_at=utcnow() - timedelta(days=1),
    )
    page = client.get("/admin/reviews").text
    # The queue's own order (oldest waiting first) unless sorted otherwise.
    assert page.index("Broken on import") < page.index("Works a treat")
    by_stars = client.get("/admin/reviews?queue=pending&sort=stars").text
    assert by_stars.index("Works a treat") < by_stars.index("Broken on import")
    found = client.get("/admin/reviews?filter=pending&q=TREAT").text
    assert f'/admin/reviews/{high}"' in found and f'/admin/reviews/{low}"' not in found
    assert "Nothing here." in client.get("/admin/reviews?filter=published&q=treat").text
    fragment = client.get("/admin/reviews?q=broken", headers={"HX-Request": "true"})
    assert (
        fragment.text.lstrip().startswith('<div id="queue">')
        and "Broken on import" in fragment.text
    )
