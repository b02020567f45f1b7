"""Review services on the real database: eligibility, ratings, spam routing, edits, replies,
reports and moderation, and the events they record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import Product
from app.extensions import db
from app.outbox.models import Event
from app.reviews import services
from app.reviews.content import render_body
from app.reviews.models import Review, ReviewEdit, ReviewReport
from app.search.documents import bayesian_rating
from app.timeutil import utcnow
from tests.catalog.factories import create_product
from tests.reviews.factories import give_licence, insert_review, make_buyer, vendor_of

TEXT = "Set it up in ten minutes and it has sent every invoice reminder since then."


def _user(user) -> User:
    return db.session.get(User, user.id)


def _write(app, user, product_id, stars=5, title="Does the job", body=TEXT, fmt="plain"):
    with app.app_context():
        review, created = services.save_review(_user(user), product_id, stars, title, body, fmt)
        db.session.commit()
        return review.id, review.status, list(review.spam_reasons or []), created


def _events(app, name):
    with app.app_context():
        return [e.payload for e in db.session.scalars(select(Event).where(Event.name == name))]


# --- eligibility ------------------------------------------------------------------------------


def test_a_buyer_with_an_active_licence_reviews_once_and_is_published(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, status, reasons, created = _write(app, buyer, product_id)
    assert (status, reasons, created) == ("published", [], True)
    assert _events(app, "review.submitted") == [
        {"review_id": review_id, "product_id": product_id, "author_id": buyer.id, "held": False}
    ]
    assert _events(app, "review.published") == [{"review_id": review_id, "product_id": product_id}]
    # Once per product: writing again edits the same review.
    again_id, _, _, created = _write(app, buyer, product_id, stars=3, title="Second thoughts")
    assert (again_id, created) == (review_id, False)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Review)) == 1


@pytest.mark.parametrize(
    ("setup", "error", "words"),
    [
        ("none", services.NotABuyer, "Only buyers can review"),
        ("refunded", services.PurchaseRefunded, "was refunded"),
        ("ended", services.LicenceEnded, "has ended"),
        ("vendor", services.OwnProduct, "your own product"),
    ],
)
def test_who_may_not_review_is_told_why(app, make_user, setup, error, words):
    product_id = create_product(app, make_user)
    if setup == "vendor":
        user = vendor_of(app, product_id)
    elif setup == "none":
        user = make_user("customer", created_at=utcnow() - timedelta(days=30))
    else:
        user = make_buyer(
            app, make_user, product_id, refunded=setup == "refunded", status="revoked"
        )
    with app.app_context(), pytest.raises(error) as caught:
        services.save_review(_user(user), product_id, 4, "Trying", TEXT, "plain")
    assert words in caught.value.message
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert services.refusal_for(_user(user), product) == caught.value.message


def test_a_refund_after_buying_twice_still_leaves_one_licence_held(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id, refunded=True)
    give_licence(app, buyer.id, product_id)
    assert _write(app, buyer, product_id)[1] == "published"


def test_a_licence_the_vendor_disabled_still_counts(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id, status="disabled")
    assert _write(app, buyer, product_id)[1] == "published"


def test_unpublished_products_cannot_be_reviewed(app, make_user):
    product_id = create_product(app, make_user, status="suspended")
    buyer = make_buyer(app, make_user, product_id)
    with app.app_context(), pytest.raises(services.NotFound):
        services.save_review(_user(buyer), product_id, 4, "Trying", TEXT, "plain")


def test_a_refunded_buyer_cannot_edit_the_review_they_wrote(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id, refunded=True)
    insert_review(app, buyer.id, product_id)
    with app.app_context(), pytest.raises(services.PurchaseRefunded):
        services.save_review(_user(buyer), product_id, 1, "Changed", TEXT, "plain")


def test_length_limits_and_stars(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    for stars, title, body in [(0, "Fine", TEXT), (6, "Fine", TEXT), (4, "ab", TEXT)]:
        with app.app_context(), pytest.raises(services.InvalidReview):
            services.save_review(_user(buyer), product_id, stars, title, body, "plain")
    for body in ["short", "x" * (services.BODY_MAX + 1)]:
        with app.app_context(), pytest.raises(services.InvalidReview):
            services.save_review(_user(buyer), product_id, 4, "Fine", body, "plain")
    with app.app_context(), pytest.raises(services.InvalidReview):
        services.save_review(_user(buyer), product_id, 4, "Fine", TEXT, "html")


def test_markdown_is_sanitised_and_plain_text_escaped(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    body = "**Great** <script>alert(1)</script>\n\n<img src=x onerror=alert(1)> and _tidy_"
    review_id, *_ = _write(app, buyer, product_id, body=body, fmt="markdown")
    with app.app_context():
        html = db.session.get(Review, review_id).body_html
        assert "<strong>Great</strong>" in html and "<em>tidy</em>" in html
        assert "<script" not in html and "<img" not in html
    assert render_body("a <b>\nline two\n\nnext", "plain") == (
        "<p>a &lt;b&gt;<br>line two</p><p>next</p>"
    )


# --- ratings ----------------------------------------------------------------------------------


def test_publishing_recomputes_the_rating_and_the_bayesian_score(app, make_user):
    product_id = create_product(app, make_user)
    for stars in (5, 5, 4):
        _write(app, make_buyer(app, make_user, product_id), product_id, stars=stars)
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.rating_count, round(product.rating_avg, 4)) == (3, 4.6667)
        summary = services.rating_summary(product_id)
        assert summary.histogram == {5: 2, 4: 1, 3: 0, 2: 0, 1: 0}
        # Ten neutral ratings of 3.5 weigh in: (35 + 14) / 13.
        assert summary.score == pytest.approx(49 / 13, abs=1e-4)
        assert summary.score == bayesian_rating(product.rating_avg, product.rating_count)
        assert summary.rows[0] == (5, 2, 67)


def test_store_rating_is_over_its_live_products(app, make_user):
    first = create_product(app, make_user)
    with app.app_context():
        store = db.session.get(Product, first).vendor
        second = Product(
            vendor_id=store.id,
            slug="second-product",
            status="approved",
            title="Second",
            rating_avg=2.0,
            rating_count=1,
        )
        hidden = Product(
            vendor_id=store.id,
            slug="gone",
            status="suspended",
            title="Gone",
            rating_avg=1.0,
            rating_count=50,
        )
        db.session.add_all([second, hidden])
        db.session.get(Product, first).rating_avg = 5.0
        db.session.get(Product, first).rating_count = 3
        db.session.commit()
        rating = services.store_rating(store.id)
        assert (rating.count, rating.products) == (4, 2)
        assert rating.average == pytest.approx(17 / 4)
        assert rating.score == bayesian_rating(17 / 4, 4)
        assert services.store_rating_by_slug(store.slug) == rating


# --- spam routing -----------------------------------------------------------------------------


def test_a_young_account_goes_to_the_queue(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id, age=timedelta(hours=5))
    review_id, status, reasons, _ = _write(app, buyer, product_id)
    assert (status, reasons) == ("pending", ["new_account"])
    assert _events(app, "review.submitted")[0]["held"] is True
    assert _events(app, "review.published") == []
    with app.app_context():
        assert db.session.get(Product, product_id).rating_count == 0


@pytest.mark.parametrize(
    "body",
    [
        "Great, more at https://cheap.example/deal for you all",
        "Visit www.example-deals.test for the same thing at half price",
        "Buy cheaper elsewhere: bestdeals.shop has it all day long",
        "A [good link](/somewhere) hidden in plain Markdown text here",
    ],
)
def test_links_go_to_the_queue(app, make_user, body):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    assert _write(app, buyer, product_id, body=body)[1:3] == ("pending", ["links"])


def test_a_near_duplicate_of_a_review_of_another_product_goes_to_the_queue(app, make_user):
    first, second = create_product(app, make_user), create_product(app, make_user)
    text = "This agent answered all of our support email overnight and the customers loved it."
    assert _write(app, make_buyer(app, make_user, first), first, body=text)[1] == "published"
    copy = text.replace("overnight", "at night").replace("loved", "really loved")
    held = _write(app, make_buyer(app, make_user, second), second, body=copy)
    assert held[1:3] == ("pending", ["duplicate"])
    # Different words on the same subject are not a duplicate.
    other = "Our support inbox is calmer now; setup took a while but the docs were clear."
    third = create_product(app, make_user)
    assert _write(app, make_buyer(app, make_user, third), third, body=other)[1] == "published"


def test_a_burst_from_one_account_goes_to_the_queue(app, make_user):
    products = [create_product(app, make_user) for _ in range(4)]
    buyer = make_buyer(app, make_user, products[0])
    for product_id in products[1:]:
        give_licence(app, buyer.id, product_id)
    bodies = [
        "Clear instructions and it ran on the first try, no surprises at all.",
        "Saved our team hours each week by sorting the inbox into folders.",
        "Good value; the vendor answered my question about webhooks quickly.",
        "Works with our CRM out of the box, although the setup docs are brief.",
    ]
    statuses = [_write(app, buyer, p, body=b)[1:3] for p, b in zip(products, bodies, strict=True)]
    # The default rule: more than 3 reviews in 60 minutes.
    assert statuses == [("published", [])] * 3 + [("pending", ["burst"])]


def test_settings_are_read_through_review_rules(tmp_path):
    from app import create_app
    from app.config import ConfigError
    from app.reviews.spam import review_rules
    from tests.conftest import local_env

    app = create_app(
        env=local_env(
            tmp_path,
            REVIEW_MIN_ACCOUNT_AGE_DAYS="0",
            REVIEW_BURST_LIMIT="1",
            REVIEW_BURST_MINUTES="5",
            REVIEW_DUPLICATE_PERCENT="90",
        )
    )
    with app.app_context():
        rules = review_rules()
    assert (rules.min_account_age_days, rules.burst_limit, rules.burst_minutes) == (0, 1, 5)
    assert rules.duplicate_percent == 90
    for name, value in [
        ("REVIEW_DUPLICATE_PERCENT", "0"),
        ("REVIEW_DUPLICATE_PERCENT", "101"),
        ("REVIEW_BURST_LIMIT", "0"),
        ("REVIEW_MIN_ACCOUNT_AGE_DAYS", "-1"),
        ("REVIEW_BURST_MINUTES", "soon"),
    ]:
        with pytest.raises(ConfigError, match=name):
            create_app(env=local_env(tmp_path, **{name: value}))


# --- edits ------------------------------------------------------------------------------------


def test_edits_keep_the_history_and_follow_the_rating(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, *_ = _write(app, buyer, product_id, stars=5, title="Love it")
    _write(app, buyer, product_id, stars=2, title="It broke after an update")
    _write(app, buyer, product_id, stars=2, title="It broke after an update")  # unchanged
    with app.app_context():
        review = db.session.get(Review, review_id)
        edits = list(
            db.session.scalars(select(ReviewEdit).where(ReviewEdit.review_id == review_id))
        )
        assert [(e.stars, e.title, e.status) for e in edits] == [(5, "Love it", "published")]
        assert review.edited_at is not None and review.stars == 2
        assert db.session.get(Product, product_id).rating_avg == 2.0
    assert len(_events(app, "review.published")) == 2


def test_an_edit_that_adds_a_link_takes_the_review_off_the_page(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, *_ = _write(app, buyer, product_id)
    status, reasons = _write(app, buyer, product_id, body=TEXT + " See https://spam.example")[1:3]
    assert (status, reasons) == ("pending", ["links"])
    with app.app_context():
        assert db.session.get(Product, product_id).rating_count == 0
    assert _events(app, "review.withdrawn")[0]["review_id"] == review_id


def test_editing_a_hidden_review_sends_it_back_to_a_moderator(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, *_ = _write(app, buyer, product_id)
    admin = make_user("admin")
    with app.app_context():
        services.moderate_review(_user(admin), review_id, "hide", "Personal details in the text")
        db.session.commit()
    assert _write(app, buyer, product_id, body=TEXT + " (details removed)")[1] == "pending"


# --- replies ----------------------------------------------------------------------------------


def test_the_vendor_replies_once_and_no_other_vendor_can(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, *_ = _write(app, buyer, product_id)
    vendor = vendor_of(app, product_id)
    stranger = vendor_of(app, create_product(app, make_user))
    with app.app_context(), pytest.raises(services.NotFound):
        services.reply_to_review(_user(stranger), review_id, "Thanks!")
    with app.app_context():
        reply = services.reply_to_review(_user(vendor), review_id, "Thank you for the kind words.")
        db.session.commit()
        reply_id = reply.id
    with app.app_context(), pytest.raises(services.AlreadyReplied):
        services.reply_to_review(_user(vendor), review_id, "And again.")
    with app.app_context(), pytest.raises(services.InvalidReview):
        other_review = insert_review(app, make_user("customer").id, product_id)
        services.reply_to_review(_user(vendor), other_review, "   ")
    assert _events(app, "review.replied") == [
        {
            "review_id": review_id,
            "reply_id": reply_id,
            "product_id": product_id,
            "review_author_id": buyer.id,
        }
    ]


def test_a_vendor_cannot_reply_to_a_review_that_is_not_published(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id = insert_review(app, buyer.id, product_id, status="pending")
    with app.app_context(), pytest.raises(services.NotFound):
        services.reply_to_review(_user(vendor_of(app, product_id)), review_id, "Hello")


# --- reports and moderation -------------------------------------------------------------------


def test_reports_once_per_person_never_of_ones_own(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, *_ = _write(app, buyer, product_id)
    reporter = make_user("customer")
    with app.app_context():
        services.report_review(_user(reporter), review_id, "This is an advert, not a review.")
        db.session.commit()
    with app.app_context(), pytest.raises(services.AlreadyReported):
        services.report_review(_user(reporter), review_id, "Still an advert.")
    with app.app_context(), pytest.raises(services.OwnReview):
        services.report_review(_user(buyer), review_id, "I regret it now.")
    with app.app_context(), pytest.raises(services.InvalidReview):
        services.report_review(_user(make_user("vendor")), review_id, "bad")
    pending = insert_review(app, make_user("customer").id, product_id, status="pending")
    with app.app_context(), pytest.raises(services.NotFound):
        services.report_review(_user(reporter), pending, "Cannot even see it.")


def test_hide_restore_delete_with_a_reason_the_author_sees(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id)
    review_id, *_ = _write(app, buyer, product_id, stars=1)
    admin = make_user("admin")
    with app.app_context():
        services.report_review(_user(make_user("customer")), review_id, "Abusive language.")
        db.session.commit()
    with app.app_context(), pytest.raises(services.InvalidReview):
        services.moderate_review(_user(admin), review_id, "hide", "")
    with app.app_context(), pytest.raises(services.ModerationNotAllowed):
        services.moderate_review(_user(admin), review_id, "restore", "")
    with app.app_context(), pytest.raises(services.PermissionDenied):
        services.moderate_review(_user(buyer), review_id, "hide", "My own review")

    def act(action, reason=""):
        with app.app_context():
            review = services.moderate_review(_user(admin), review_id, action, reason)
            db.session.commit()
            product = db.session.get(Product, product_id)
            return review.status, review.moderation_reason, product.rating_count

    assert act("hide", "Abusive language towards the vendor") == (
        "hidden",
        "Abusive language towards the vendor",
        0,
    )
    with app.app_context():
        report = db.session.scalar(select(ReviewReport))
        assert report.resolved_at is not None and report.resolved_by_id == admin.id
        panel = services.product_panel(product_id, _user(buyer), 1)
        assert panel.mine.moderation_reason == "Abusive language towards the vendor"
        assert panel.page.items == [] and panel.summary.count == 0
    assert act("restore")[::2] == ("published", 1)
    assert act("delete", "Not about this product at all")[::2] == ("deleted", 0)
    with app.app_context(), pytest.raises(services.ReviewRemoved):
        services.save_review(_user(buyer), product_id, 5, "Once more", TEXT, "plain")
    assert [len(_events(app, n)) for n in ("review.published", "review.withdrawn")] == [2, 2]


def test_approving_a_held_review_publishes_it(app, make_user):
    product_id = create_product(app, make_user)
    buyer = make_buyer(app, make_user, product_id, age=timedelta(minutes=5))
    review_id, status, *_ = _write(app, buyer, product_id, stars=4)
    assert status == "pending"
    admin = make_user("admin")
    with app.app_context():
        assert [r.id for r in services.moderation_queue(_user(admin), "pending", 1).items] == [
            review_id
        ]
        assert services.queue_counts(_user(admin))["pending"] == 1
        services.moderate_review(_user(admin), review_id, "approve", "")
        db.session.commit()
        assert db.session.get(Product, product_id).rating_count == 1
        assert services.moderation_queue(_user(admin), "pending", 1).items == []
        assert services.queue_counts(_user(admin))["published"] == 1


def test_dismissing_reports_leaves_the_review_published(app, make_user):
    product_id = create_product(app, make_user)
    review_id, *_ = _write(app, make_buyer(app, make_user, product_id), product_id)
    admin = make_user("admin")
    with app.app_context():
        services.report_review(_user(make_user("customer")), review_id, "I just disagree.")
        db.session.commit()
        assert [r.id for r in services.moderation_queue(_user(admin), "reported", 1).items] == [
            review_id
        ]
        services.moderate_review(_user(admin), review_id, "dismiss", "")
        db.session.commit()
        assert db.session.get(Review, review_id).status == "published"
        assert services.moderation_queue(_user(admin), "reported", 1).items == []
