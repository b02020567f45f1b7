"""Reviews through HTTP: the product page's panel, writing and editing, refusals, replies,
reports, moderation pages, the store's rating, IDOR, and search after the outbox delivers."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.reviews.models import Review, ReviewReply, ReviewReport
from app.search import services as search
from tests.catalog.factories import create_product, slug_of
from tests.conftest import csrf_token, login
from tests.reviews.factories import insert_review, make_buyer, vendor_of

HX = {"HX-Request": "true"}
TEXT = "It chased every overdue invoice for us and the setup guide was easy to follow."


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def _review(client, product_id, slug, stars="5", title="Does what it says", body=TEXT, fmt="plain"):
    return _post(
        client,
        f"/products/{product_id}/review",
        f"/products/{slug}",
        stars=stars,
        title=title,
        body=body,
        body_format=fmt,
    )


def test_a_buyer_writes_a_review_and_sees_it_on_the_page(app, client, make_user):
    product_id = create_product(app, make_user, "Invoice chaser")
    slug = slug_of(app, product_id)
    login(client, make_buyer(app, make_user, product_id, first_name="Ada", last_name="Lovelace"))
    page = _text(client.get(f"/products/{slug}"))
    assert "Write a review" in page and f'action="/products/{product_id}/review"' in page
    response = _review(client, product_id, slug)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/products/{slug}")
    page = _text(client.get(f"/products/{slug}"))
    assert "Thanks: your review is published." in page
    assert "Does what it says" in page and "Ada L." in page
    assert "Lovelace" not in _text(client.application.test_client().get(f"/products/{slug}"))
    assert "Your review" in page and "Edit your review" in page and "Write a review" not in page
    # The score weighs ten neutral ratings in: (35 + 5) / 11.
    assert "3.6</strong> out of 5 · 1 review" in page
    assert '<meter min="0" max="100" value="100">' in page


def test_an_invalid_review_re_renders_the_form_with_422(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    login(client, make_buyer(app, make_user, product_id))
    response = _review(client, product_id, slug, stars="", title="x", body="short")
    assert response.status_code == 422
    body = _text(response)
    assert "Choose 1 to 5 stars." in body and "Field must be between 3 and 120" in body
    fragment = client.post(
        f"/products/{product_id}/review",
        data={"csrf_token": csrf_token(client, f"/products/{slug}"), "stars": "9"},
        headers=HX,
    )
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert fragment.get_data(as_text=True).lstrip().startswith("<form")
    assert "HX-Request" in fragment.headers["Vary"]
    with app.app_context():
        assert db.session.scalar(select(Review)) is None


def test_refusals_are_shown_on_the_page_and_enforced(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    assert "Log in to review this product" in _text(client.get(f"/products/{slug}"))
    cases = [
        (make_user("customer"), "Only buyers can review a product"),
        (make_buyer(app, make_user, product_id, refunded=True), "was refunded"),
        (vendor_of(app, product_id), "You cannot review your own product."),
    ]
    for user, message in cases:
        client.get("/")  # a fresh session per user
        login(client, user)
        page = _text(client.get(f"/products/{slug}"))
        assert message in page and "Write a review" not in page
        refused = _review(client, product_id, slug)
        assert refused.status_code == 403 and message in _text(refused)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    with app.app_context():
        assert db.session.scalar(select(Review)) is None


def test_a_held_review_says_so_to_its_author_only(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    login(client, make_buyer(app, make_user, product_id, age=timedelta(hours=1)))
    response = _review(client, product_id, slug, title="Held back")
    assert response.status_code == 303
    page = _text(client.get(f"/products/{slug}"))
    assert "your review waits for a moderator" in page and "Waiting for moderation" in page
    assert "No reviews yet." in page
    assert "Held back" not in _text(client.application.test_client().get(f"/products/{slug}"))


def test_editing_shows_the_earlier_versions(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    login(client, make_buyer(app, make_user, product_id))
    _review(client, product_id, slug, stars="5", title="First impressions")
    form = _text(client.get(f"/products/{product_id}/review"))
    assert 'value="First impressions"' in form and "Earlier versions" not in form
    assert _review(client, product_id, slug, stars="3", title="After a month").status_code == 303
    assert "Your review is updated." in _text(client.get(f"/products/{slug}"))
    form = _text(client.get(f"/products/{product_id}/review"))
    assert "Earlier versions" in form and "First impressions" in form


def test_the_vendor_replies_once_in_public(app, client, make_user):
    product_id = create_product(app, make_user, store_name="Chaser Co")
    slug = slug_of(app, product_id)
    buyer = make_buyer(app, make_user, product_id)
    review_id = insert_review(app, buyer.id, product_id)
    login(client, vendor_of(app, product_id))
    page = _text(client.get(f"/products/{slug}"))
    assert f'href="/reviews/{review_id}/reply"' in page
    assert client.get(f"/reviews/{review_id}/reply").status_code == 200
    empty = _post(client, f"/reviews/{review_id}/reply", f"/reviews/{review_id}/reply", body="")
    assert empty.status_code == 422
    url = f"/reviews/{review_id}/reply"
    response = _post(client, url, url, body="Thanks! Version 2 adds reminders by SMS.")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/products/{slug}#review-{review_id}")
    public = _text(client.application.test_client().get(f"/products/{slug}"))
    assert "Reply from Chaser Co" in public and "Version 2 adds reminders by SMS." in public
    again = client.post(
        url, data={"csrf_token": csrf_token(client, f"/products/{slug}"), "body": "x"}
    )
    assert again.status_code == 409 and "already has your reply" in _text(again)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReviewReply)) == 1


def test_another_vendor_cannot_reach_the_reply_form(app, client, make_user):
    product_id = create_product(app, make_user)
    review_id = insert_review(app, make_buyer(app, make_user, product_id).id, product_id)
    login(client, vendor_of(app, create_product(app, make_user)))
    assert client.get(f"/reviews/{review_id}/reply").status_code == 404
    url = f"/reviews/{review_id}/reply"
    assert _post(client, url, "/", body="Mine now").status_code == 404


def test_report_then_an_admin_hides_with_a_reason_the_author_sees(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    buyer = make_buyer(app, make_user, product_id)
    review_id = insert_review(app, buyer.id, product_id, title="Rude words")
    login(client, make_user("customer"))
    url = f"/reviews/{review_id}/report"
    assert "Report this review" in _text(client.get(f"/products/{slug}"))
    assert _post(client, url, url, reason="Insults the vendor.").status_code == 303
    assert "You reported this review." in _text(client.get(f"/products/{slug}"))
    again = _post(client, url, f"/products/{slug}", reason="Insults the vendor.")
    assert again.status_code == 409
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, make_user("admin"))
    queue = _text(client.get("/admin/reviews?queue=reported"))
    assert "Rude words" in queue and f'href="/admin/reviews/{review_id}"' in queue
    detail = _text(client.get(f"/admin/reviews/{review_id}"))
    assert "Insults the vendor." in detail and "Hide" in detail and "Dismiss the reports" in detail
    hide = f"/admin/reviews/{review_id}/hide"
    refused = _post(client, hide, f"/admin/reviews/{review_id}", reason="")
    assert refused.status_code == 422 and "Give the author a reason" in _text(refused)
    done = _post(client, hide, f"/admin/reviews/{review_id}", reason="Insults are not reviews")
    assert done.status_code == 303
    assert "Rude words" not in _text(client.get("/admin/reviews?queue=reported"))
    assert "Rude words" in _text(client.get("/admin/reviews?queue=hidden"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert "Rude words" not in _text(client.get(f"/products/{slug}"))
    login(client, buyer)
    page = _text(client.get(f"/products/{slug}"))
    assert "Hidden by a moderator" in page and "Moderator's reason: Insults are not reviews" in page
    mine = _text(client.get("/reviews/mine"))
    assert "Rude words" in mine and "Insults are not reviews" in mine
    with app.app_context():
        report = db.session.scalar(select(ReviewReport))
        assert report.resolved_at is not None


def test_a_pending_review_is_in_the_queue_and_approved(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    login(client, make_buyer(app, make_user, product_id))
    _review(client, product_id, slug, body=TEXT + " Docs at https://docs.example/x")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, make_user("admin"))
    queue = _text(client.get("/admin/reviews"))
    assert "the text has links" in queue and 'Pending <span class="badge">1</span>' in queue
    with app.app_context():
        review_id = db.session.scalar(select(Review.id))
    approve = f"/admin/reviews/{review_id}/approve"
    assert _post(client, approve, f"/admin/reviews/{review_id}").status_code == 303
    assert "Docs at" in _text(client.get(f"/products/{slug}"))
    # Approving twice is refused, on the form.
    assert _post(client, approve, f"/admin/reviews/{review_id}").status_code == 422


def test_reviews_are_paginated_newest_first_with_a_fragment(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    for n in range(12):
        buyer = make_buyer(app, make_user, product_id)
        insert_review(app, buyer.id, product_id, title=f"Review number {n:02d}")
    first = _text(client.get(f"/products/{slug}"))
    assert "Review number 11" in first and "Review number 01" not in first
    assert f"/products/{slug}?reviews=2" in first
    fragment = client.get(f"/products/{slug}?reviews=2", headers=HX)
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="reviews"') and "<html" not in text
    assert "Review number 01" in text and "Review number 11" not in text


def test_store_rating_on_the_storefront(app, client, make_user):
    product_id = create_product(app, make_user)
    for stars in (5, 4):
        buyer = make_buyer(app, make_user, product_id)
        login(client, buyer)
        _review(
            client, product_id, slug_of(app, product_id), stars=str(stars), body=f"{TEXT} {stars}"
        )
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    vendor = vendor_of(app, product_id)
    with app.app_context():
        from app.vendors.models import VendorProfile

        store = db.session.scalar(select(VendorProfile).where(VendorProfile.user_id == vendor.id))
    page = _text(client.get(f"/vendors/{store.slug}"))
    assert re.search(r"★ 4\.5</span> average from 2 reviews over 1 product", page)


def test_a_published_review_reaches_search_once_the_outbox_delivers(
    app, client, make_user, run_jobs
):
    product_id = create_product(app, make_user, "Invoice chaser")
    with app.app_context():
        search.sync_product(product_id)
    slug = slug_of(app, product_id)
    assert "(1)" not in _text(client.get("/search?q=chaser", headers=HX))
    login(client, make_buyer(app, make_user, product_id))
    _review(client, product_id, slug, stars="4")
    run_jobs()
    assert "★ 4.0 (1)" in _text(client.get("/search?q=chaser", headers=HX))


HUGE = "9" * 21


def test_hostile_input_to_the_review_routes(app, client, make_user):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    login(client, make_buyer(app, make_user, product_id))
    token = csrf_token(client, f"/products/{slug}")
    as_json = client.post(
        f"/products/{product_id}/review",
        json={"stars": [5], "title": 1, "body": {"x": 1}},
        headers={"X-CSRFToken": token},
    )
    assert as_json.status_code == 415
    for url in [f"/products/{HUGE}/review", "/products/0/review", f"/reviews/{HUGE}/report"]:
        assert client.get(url).status_code == 404
        # Werkzeug's matcher may answer 405 for an id no converter takes: refused either way.
        assert client.post(url, data={"csrf_token": token}).status_code in (404, 405)
    response = _review(
        client,
        product_id,
        slug,
        title="Nice\r\nBcc: x@example.com \u202etool",
        body="Line one\x00\nline two [x](javascript:alert(1)) and more words here",
        fmt="markdown",
    )
    assert response.status_code == 303
    with app.app_context():
        review = db.session.scalar(select(Review))
        assert review.title == "Nice Bcc: x@example.com tool"
        assert "\x00" not in review.body and "<a" not in review.body_html  # text, not a link
        assert review.status == "pending" and review.spam_reasons == ["links"]


def test_the_vendor_sees_the_reviews_of_its_products_only(app, client, make_user):
    product_id = create_product(app, make_user, "Mine to answer")
    answered = insert_review(
        app, make_buyer(app, make_user, product_id).id, product_id, title="Answered one"
    )
    insert_review(app, make_buyer(app, make_user, product_id).id, product_id, title="Open one")
    insert_review(app, make_user("customer").id, product_id, title="Held one", status="pending")
    other = create_product(app, make_user, "Not mine")
    insert_review(app, make_buyer(app, make_user, other).id, other, title="Someone else's")
    vendor = vendor_of(app, product_id)
    with app.app_context():
        from app.accounts.models import User
        from app.reviews import services

        services.reply_to_review(db.session.get(User, vendor.id), answered, "Thanks!")
        db.session.commit()
    login(client, vendor)
    page = _text(client.get("/vendor/reviews"))
    assert "Answered one" in page and "Open one" in page
    assert "Held one" not in page and "Someone else's" not in page
    unanswered = _text(client.get("/vendor/reviews?show=unanswered"))
    assert "Open one" in unanswered and "Answered one" not in unanswered


def test_anonymous_visitors_share_a_cached_panel_that_follows_every_review_change(
    app, client, make_user
):
    product_id = create_product(app, make_user)
    slug = slug_of(app, product_id)
    buyer = make_buyer(app, make_user, product_id)
    review_id = insert_review(app, buyer.id, product_id, title="First impressions")
    assert "First impressions" in _text(client.get(f"/products/{slug}"))
    # A write that goes round the ORM's session (so bumps nothing) shows the cache at work:
    # anonymous visitors keep the panel they were given; a signed-in viewer's is built anew.
    with app.app_context():
        db.session.execute(
            Review.__table__.update().where(Review.id == review_id).values(title="Second thoughts")
        )
        db.session.commit()
    assert "First impressions" in _text(client.get(f"/products/{slug}"))
    signed_in = app.test_client()
    login(signed_in, make_user("customer"))
    assert "Second thoughts" in _text(signed_in.get(f"/products/{slug}"))

    # Every review change made through the services reaches anonymous visitors at once.
    writer = app.test_client()
    login(writer, make_buyer(app, make_user, product_id))
    assert _review(writer, product_id, slug, title="A later review").status_code == 303
    page = _text(client.get(f"/products/{slug}"))
    assert "A later review" in page and "Second thoughts" in page and "2 reviews" in page

    admin = app.test_client()
    login(admin, make_user("admin"))
    hide = f"/admin/reviews/{review_id}/hide"
    assert _post(admin, hide, f"/admin/reviews/{review_id}", reason="Off topic").status_code == 303
    page = _text(client.get(f"/products/{slug}"))
    assert "Second thoughts" not in page and "1 review" in page

    vendor = app.test_client()
    login(vendor, vendor_of(app, product_id))
    with app.app_context():
        later = db.session.scalar(select(Review.id).where(Review.title == "A later review"))
    reply = f"/reviews/{later}/reply"
    assert _post(vendor, reply, reply, body="Thank you for the kind words.").status_code == 303
    assert "Thank you for the kind words." in _text(client.get(f"/products/{slug}"))
