"""Who hears about reviews: the vendor when a review of theirs is first published (at once, or
once a moderator approves a held one), the reviewer when the vendor replies; through the
outbox and a real worker, by email as each chose."""

from __future__ import annotations

from datetime import timedelta

from app.accounts.models import User
from app.catalog.models import Product
from app.extensions import db
from app.notifications.models import EmailState
from app.outbox.services import dispatch_committed
from app.reviews import services
from tests.catalog.factories import create_product
from tests.notifications.factories import choose, notices, subject_of
from tests.reviews.factories import make_buyer, vendor_of
from tests.support.services import body_text

TEXT = "Set it up in ten minutes and it has sent every invoice reminder since then."


def _as(user) -> User:
    return db.session.get(User, user.id)


def _write(app, user, product_id, stars=5, title="Does the job", body=TEXT):
    with app.app_context():
        review, _ = services.save_review(_as(user), product_id, stars, title, body, "plain")
        db.session.commit()
        dispatch_committed()
        return review.id


def _moderate(app, admin, review_id, action, reason=""):
    with app.app_context():
        services.moderate_review(_as(admin), review_id, action, reason)
        db.session.commit()
        dispatch_committed()


def test_the_vendor_hears_of_a_published_review_once(app, make_user, run_jobs, mailbox):
    product_id = create_product(app, make_user, "Invoice chaser")
    vendor = vendor_of(app, product_id)
    buyer = make_buyer(app, make_user, product_id)
    review_id = _write(app, buyer, product_id, stars=5)
    run_jobs()
    [notice] = notices(app, vendor.id)
    assert (notice.kind, notice.title) == ("review_received", "5-star review of “Invoice chaser”")
    assert notice.body == "Does the job" and notice.link == "/vendor/reviews"
    [mail] = mailbox.to(vendor.email)
    assert subject_of(mail) == notice.title and "Does the job" in body_text(mail)

    # An edit, a hide and a restore are not new reviews: nothing more.
    _write(app, buyer, product_id, stars=4, body=TEXT + " Still going.")
    admin = make_user("admin")
    _moderate(app, admin, review_id, "hide", "Personal details in the text")
    _moderate(app, admin, review_id, "restore")
    run_jobs()
    assert len(notices(app, vendor.id)) == 1 and len(mailbox.to(vendor.email)) == 1


def test_a_held_review_is_announced_when_a_moderator_approves_it(app, make_user, run_jobs, mailbox):
    product_id = create_product(app, make_user, "Held")
    vendor = vendor_of(app, product_id)
    choose(app, vendor.id, "review_received", email=True, daily_digest=True)
    buyer = make_buyer(app, make_user, product_id, age=timedelta(minutes=5))
    review_id = _write(app, buyer, product_id, stars=2)
    run_jobs()
    assert notices(app, vendor.id) == []  # held by the spam rules: not public, not news yet
    _moderate(app, make_user("admin"), review_id, "approve")
    run_jobs()
    [notice] = notices(app, vendor.id)
    assert notice.title == "2-star review of “Held”"
    assert notice.email_state == EmailState.QUEUED  # the vendor takes reviews as a digest
    assert mailbox.to(vendor.email) == []


def test_the_reviewer_hears_of_the_vendors_reply(app, make_user, run_jobs, mailbox):
    product_id = create_product(app, make_user, "Replied")
    vendor = vendor_of(app, product_id)
    buyer = make_buyer(app, make_user, product_id)
    review_id = _write(app, buyer, product_id)
    run_jobs()
    with app.app_context():
        services.reply_to_review(_as(vendor), review_id, "Thank you, glad it helps!")
        db.session.commit()
        dispatch_committed()
        slug = db.session.get(Product, product_id).slug
        store = db.session.get(Product, product_id).vendor.store_name
    run_jobs()
    [notice] = notices(app, buyer.id)
    assert notice.kind == "review_reply"
    assert notice.title == f"{store} replied to your review of “Replied”"
    assert notice.body == "Thank you, glad it helps!"
    assert notice.link == f"/products/{slug}#review-{review_id}"
    [mail] = mailbox.to(buyer.email)
    assert subject_of(mail) == notice.title
    assert f"http://localhost/products/{slug}#review-{review_id}" in body_text(mail)


def test_a_reviewer_who_switched_replies_off_gets_no_email(app, make_user, run_jobs, mailbox):
    product_id = create_product(app, make_user, "Quiet")
    vendor = vendor_of(app, product_id)
    buyer = make_buyer(app, make_user, product_id)
    choose(app, buyer.id, "review_reply", email=False)
    review_id = _write(app, buyer, product_id)
    with app.app_context():
        services.reply_to_review(_as(vendor), review_id, "Thanks.")
        db.session.commit()
        dispatch_committed()
    run_jobs()
    [notice] = notices(app, buyer.id)
    assert notice.email_state == EmailState.NONE
    assert mailbox.to(buyer.email) == []
