"""Catalog services without HTTP: the review flow, its permissions and the edit-while-live rule."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.catalog import categories, content, errors, listings, review
from app.catalog.models import Product, ProductRevision, ProductTransition
from app.errors import NotFound, PermissionDenied
from app.extensions import db
from app.outbox.models import Event
from tests.assets.factories import clean_version_here
from tests.catalog.factories import create_category

VALUES = {
    "title": "Lead router",
    "short_description": "Routes inbound leads to the right rep.",
    "description_md": "# Lead router\n\nIt **routes** leads. <script>alert(1)</script>",
    "type": "n8n_workflow",
    "tags": ["sales", "crm", "Sales"],
    "price_type": "one_time",
    "currency": "USD",
    "price_cents": 2900,
    "complexity": "intermediate",
    "licence_commercial": True,
}


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def category_id(app):
    return create_category(app, "Sales")


def _user(user: User) -> User:
    return db.session.get(User, user.id)


def _listing(vendor: User, category_id: int, **extra) -> Product:
    """A draft with a clean current version of its file, so it may be submitted."""
    product = listings.create_listing(vendor, {**VALUES, "category_id": category_id, **extra})
    db.session.commit()
    clean_version_here(product.id)
    return product


def _events() -> list[str]:
    return [e.name for e in db.session.scalars(select(Event).order_by(Event.created_at))]


def test_create_listing_sanitises_and_normalises(ctx, make_user, category_id):
    vendor = _user(make_user("vendor"))
    product = _listing(vendor, category_id)
    assert product.status == "draft" and product.slug == "lead-router"
    assert "<script>" not in product.description_html
    assert "<strong>routes</strong>" in product.description_html
    assert "<h1>" not in product.description_html  # the page owns the only <h1>
    assert [t.name for t in product.tags] == ["crm", "sales"]
    assert _listing(vendor, category_id).slug == "lead-router-2"
    assert "product.created" in _events()


def test_only_approved_vendors_create_listings(ctx, make_user, category_id):
    customer = _user(make_user("customer"))
    with pytest.raises(errors.NotAVendor):
        listings.create_listing(customer, {**VALUES, "category_id": category_id})
    storeless = _user(make_user("vendor", store=False))
    with pytest.raises(errors.NotAVendor):
        listings.create_listing(storeless, {**VALUES, "category_id": category_id})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"price_type": "one_time", "price_cents": 0}, "more than zero"),
        ({"price_type": "subscription", "price_cents": 0}, "monthly or a yearly"),
        ({"price_type": "barter"}, "free, one-time or subscription"),
        ({"currency": "XXX"}, "currency"),
        ({"category_id": 999_999}, "category"),
    ],
)
def test_pricing_and_category_rules(ctx, make_user, category_id, extra, message):
    vendor = _user(make_user("vendor"))
    with pytest.raises(errors.ListingError, match=message):
        listings.create_listing(vendor, {**VALUES, "category_id": category_id, **extra})


def test_free_listing_drops_prices(ctx, make_user, category_id):
    vendor = _user(make_user("vendor"))
    product = _listing(vendor, category_id, price_type="free", monthly_price_cents=500)
    assert (product.price_cents, product.monthly_price_cents, product.display_price_cents) == (
        0,
        None,
        0,
    )


def test_the_whole_review_flow_is_recorded(ctx, make_user, category_id):
    vendor, admin = _user(make_user("vendor")), _user(make_user("admin"))
    product = _listing(vendor, category_id)
    review.transition(vendor, product, "submit")
    assert product.status == "pending"
    review.transition(admin, product, "request_changes", ["description"], "Say what it needs.")
    assert product.status == "changes_requested"
    listings.update_listing(vendor, product, {**VALUES, "category_id": category_id, "title": "X2"})
    assert product.title == "X2"  # not live yet: edits apply in place
    review.transition(vendor, product, "submit")
    review.transition(admin, product, "approve")
    assert product.status == "approved" and product.published_at is not None
    review.transition(admin, product, "suspend", note="Reported as broken.")
    review.transition(admin, product, "reinstate")
    db.session.commit()
    rows = db.session.scalars(
        select(ProductTransition)
        .where(ProductTransition.product_id == product.id)
        .order_by(ProductTransition.id)
    ).all()
    assert [(r.from_status, r.to_status) for r in rows] == [
        ("", "draft"),
        ("draft", "pending"),
        ("pending", "changes_requested"),
        ("changes_requested", "pending"),
        ("pending", "approved"),
        ("approved", "suspended"),
        ("suspended", "approved"),
    ]
    assert rows[2].actor_id == admin.id and rows[2].reason_codes == ["description"]
    assert rows[2].note == "Say what it needs."
    assert _events()[-6:] == [
        "product.submitted",
        "product.changes_requested",
        "product.submitted",
        "product.approved",
        "product.suspended",
        "product.reinstated",
    ]


def test_rejected_is_final(ctx, make_user, category_id):
    vendor, admin = _user(make_user("vendor")), _user(make_user("admin"))
    product = _listing(vendor, category_id)
    review.transition(vendor, product, "submit")
    review.transition(admin, product, "reject", ["policy"])
    for actor, action in [(vendor, "submit"), (admin, "approve"), (admin, "suspend")]:
        with pytest.raises(errors.TransitionNotAllowed):
            review.transition(actor, product, action)
    with pytest.raises(errors.ListingNotEditable):
        listings.update_listing(vendor, product, {**VALUES, "category_id": category_id})


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "approve"),
        ("draft", "withdraw"),
        ("approved", "submit"),
        ("pending", "submit"),
        ("pending", "reinstate"),
        ("suspended", "suspend"),
    ],
)
def test_transitions_outside_the_table_are_refused(ctx, make_user, category_id, status, action):
    vendor, admin = _user(make_user("vendor")), _user(make_user("admin"))
    product = _listing(vendor, category_id)
    product.status = status
    actor = vendor if action in review.VENDOR_ACTIONS else admin
    with pytest.raises(errors.TransitionNotAllowed):
        review.transition(actor, product, action)


def test_who_may_do_what(ctx, make_user, category_id):
    vendor, other = _user(make_user("vendor")), _user(make_user("vendor"))
    admin = _user(make_user("admin"))
    product = _listing(vendor, category_id)
    with pytest.raises(NotFound):  # another vendor's draft does not exist for them
        review.transition(other, product, "submit")
    with pytest.raises(NotFound):
        listings.update_listing(other, product, {**VALUES, "category_id": category_id})
    with pytest.raises(NotFound):
        listings.get_own_product(other, product.id)
    review.transition(vendor, product, "submit")
    with pytest.raises(PermissionDenied):  # vendors cannot approve, not even their own
        review.transition(vendor, product, "approve")
    with pytest.raises(errors.ListingError, match="reason"):
        review.transition(admin, product, "request_changes")
    with pytest.raises(errors.ListingError, match="Unknown reason"):
        review.transition(admin, product, "reject", ["made-up"])


def test_submitting_needs_a_complete_listing(ctx, make_user):
    vendor = _user(make_user("vendor"))
    product = listings.create_listing(vendor, {**VALUES, "category_id": None, "description_md": ""})
    with pytest.raises(errors.ListingError, match="Description, Category"):
        review.transition(vendor, product, "submit")
    assert product.status == "draft"


def test_a_live_listing_stays_live_while_its_edit_waits(ctx, make_user, category_id):
    vendor, admin = _user(make_user("vendor")), _user(make_user("admin"))
    product = _listing(vendor, category_id)
    review.transition(vendor, product, "submit")
    review.transition(admin, product, "approve")
    db.session.commit()

    edited = {**VALUES, "category_id": category_id, "title": "Lead router PRO", "price_cents": 4900}
    revision = listings.update_listing(vendor, product, edited)
    db.session.commit()
    assert isinstance(revision, ProductRevision) and revision.state == "draft"
    assert (product.status, product.title, product.price_cents) == ("approved", "Lead router", 2900)
    assert listings.working_values(product)["title"] == "Lead router PRO"

    review.transition(vendor, product, "submit")
    assert revision.state == "pending" and product.status == "approved"
    with pytest.raises(errors.ListingNotEditable, match="waiting for review"):
        listings.update_listing(vendor, product, edited)
    [item] = review.moderation_queue()
    assert item.is_edit and item.revision is revision
    changes = {c.field: (c.before, c.after) for c in review.listing_diff(product, revision)}
    assert changes == {
        "title": ("Lead router", "Lead router PRO"),
        "price_cents": ("$29.00", "$49.00"),
    }

    review.transition(admin, product, "request_changes", ["pricing"])
    assert revision.state == "changes_requested" and product.title == "Lead router"
    review.transition(vendor, product, "submit")
    review.transition(admin, product, "approve")
    assert revision.state == "approved" and revision.decided_at is not None
    assert (product.status, product.title, product.price_cents) == (
        "approved",
        "Lead router PRO",
        4900,
    )
    assert product.open_revision is None and review.moderation_queue() == []


def test_a_rejected_edit_leaves_the_live_listing_alone(ctx, make_user, category_id):
    vendor, admin = _user(make_user("vendor")), _user(make_user("admin"))
    product = _listing(vendor, category_id)
    review.transition(vendor, product, "submit")
    review.transition(admin, product, "approve")
    listings.update_listing(vendor, product, {**VALUES, "category_id": category_id, "title": "Y"})
    review.transition(vendor, product, "submit")
    review.transition(admin, product, "reject", ["quality"])
    assert (product.status, product.title) == ("approved", "Lead router")
    assert product.open_revision is None  # the next edit starts afresh


def test_queue_is_oldest_first(ctx, make_user, category_id):
    vendor = _user(make_user("vendor"))
    first = _listing(vendor, category_id, title="First")
    second = _listing(vendor, category_id, title="Second")
    review.transition(vendor, second, "submit")
    db.session.commit()
    review.transition(vendor, first, "submit")
    db.session.commit()
    assert [i.product.title for i in review.moderation_queue()] == ["Second", "First"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", ("youtube", "dQw4w9WgXcQ")),
        ("https://youtu.be/dQw4w9WgXcQ", ("youtube", "dQw4w9WgXcQ")),
        ("https://vimeo.com/123456", ("vimeo", "123456")),
        ("", None),
    ],
)
def test_video_links_are_allow_listed(url, expected):
    assert content.parse_video_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://evil.example/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=<script>",
        "https://vimeo.com/abc",
        "ftp://youtu.be/dQw4w9WgXcQ",
    ],
)
def test_other_video_links_are_refused(url):
    with pytest.raises(errors.ListingError):
        content.parse_video_url(url)


def test_category_tree_refuses_cycles(ctx, make_user):
    admin, vendor = _user(make_user("admin")), _user(make_user("vendor"))
    parent = categories.save_category(admin, "Marketing", None)
    db.session.flush()
    child = categories.save_category(admin, "Email", parent.id)
    db.session.flush()
    assert [c.name for c in child.path] == ["Marketing", "Email"]
    with pytest.raises(errors.ListingError, match="inside itself"):
        categories.save_category(admin, "Marketing", child.id, category=parent)
    with pytest.raises(PermissionDenied):
        categories.save_category(vendor, "Nope", None)


def test_vendor_actions_follow_the_flow(ctx, make_user, category_id):
    vendor, admin = _user(make_user("vendor")), _user(make_user("admin"))
    product = _listing(vendor, category_id)
    edit = {**VALUES, "category_id": category_id, "title": "Edited"}
    steps = [
        (lambda: None, {"edit", "submit"}),
        (lambda: review.transition(vendor, product, "submit"), {"withdraw"}),
        (lambda: review.transition(admin, product, "approve"), {"edit"}),
        (lambda: listings.update_listing(vendor, product, edit), {"edit", "submit", "discard"}),
        (lambda: review.transition(vendor, product, "submit"), {"withdraw"}),
        (lambda: review.transition(admin, product, "reject", ["quality"]), {"edit"}),
        (lambda: review.transition(admin, product, "suspend"), set()),
    ]
    for step, expected in steps:
        step()
        assert review.vendor_actions(product) == expected, product.status


def test_clean_list_folds_control_whitespace_in_tag_names():
    from app.catalog.content import clean_list
    from app.catalog.queries import TAG_SEPARATOR

    cleaned = clean_list([f"data{TAG_SEPARATOR}sync", "  slack\t bot ", "SLACK  BOT"], 10, 40)
    assert cleaned == ["data sync", "slack bot"]


def test_list_sorts_are_the_one_definition():
    from app.catalog.queries import SORTS
    from app.sorting import LIST_SORTS

    assert set(SORTS) == set(LIST_SORTS)  # each sort a menu shows has its ORDER BY
