"""Catalog, vendor and moderation pages through HTTP, with real Redis, RQ workers and SMTP."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from app.accounts.models import User
from app.catalog import pageviews
from app.catalog.models import Product, ProductTransition, ProductView
from app.extensions import db
from app.vendors.models import VendorProfile
from tests.assets.factories import give_clean_version
from tests.catalog.factories import create_category, create_product, slug_of
from tests.conftest import csrf_token, login
from tests.support.services import body_text

HX = {"HX-Request": "true"}


def _png(size=(800, 600), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _form(client, category, **overrides):
    data = {
        "csrf_token": csrf_token(client, "/vendor/products/new"),
        "title": "Invoice chaser",
        "short_description": "Chases unpaid invoices politely.",
        "description_md": "Sends **reminders**.\n\n<img src=x onerror=alert(1)>",
        "type": "n8n_workflow",
        "category_id": str(category),
        "tags": "finance, invoices",
        "price_type": "one_time",
        "currency": "USD",
        "price": "19.50",
        "complexity": "beginner",
        "setup_minutes": "15",
        "licence_commercial": "y",
    }
    data.update(overrides)
    return data


def _product(app, title="Invoice chaser") -> Product:
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.title == title))
        db.session.expunge(product)
        return product


def _create(client, category_id, **overrides) -> int:
    response = client.post("/vendor/products/new", data=_form(client, category_id, **overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    product_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    give_clean_version(client.application, product_id)  # review needs a clean file
    return product_id


def _switch(client, login_as, role, user=None):
    """Log out whoever is in, then log in as a new ``role`` user (or ``user``)."""
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    if user is None:
        return login_as(role)
    assert login(client, user).status_code == 303
    return user


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **data})


def test_vendor_creates_a_listing_with_media(app, client, login_as):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    data = _form(client, category_id)
    data["thumbnail"] = (io.BytesIO(_png()), "thumb.png")
    data["screenshots"] = [(io.BytesIO(_png(colour=(0, 90, 200))), "one.png")]
    data["video_url"] = "https://youtu.be/dQw4w9WgXcQ"
    response = client.post("/vendor/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    product = _product(app)
    assert (product.status, product.price_cents, product.setup_minutes) == ("draft", 1950, 15)
    assert product.video_provider == "youtube" and product.video_id == "dQw4w9WgXcQ"
    assert "<img" not in product.description_html  # raw HTML is shown as text, never markup
    thumb = client.get("/media/products/" + product.thumbnail_key.rsplit("/", 1)[-1])
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert Image.open(io.BytesIO(thumb.data)).size == (640, 400)
    assert len(product.screenshot_keys) == 1
    page = client.get(f"/vendor/products/{product.id}").get_data(as_text=True)
    assert "Submit for review" in page and "Draft" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"price": "-3"}, "Number must be"),
        ({"price": "abc"}, "Enter an amount like 19 or 19.99."),
        ({"price_type": "one_time", "price": ""}, "more than zero"),
        ({"video_url": "https://evil.example/v.mp4"}, "YouTube or Vimeo"),
        ({"category_id": "999999"}, "Not a valid choice."),
        ({"n8n_version": "latest"}, "Like 1.42"),
        ({"description_md": "x" * 20_001}, "Field cannot be longer"),
    ],
)
def test_bad_listing_input_is_explained(app, client, login_as, overrides, message):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    response = client.post("/vendor/products/new", data=_form(client, category_id, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Product.id))) == 0


def test_a_fake_image_is_refused_and_nothing_is_saved(app, client, login_as):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    data = _form(client, category_id)
    data["thumbnail"] = (io.BytesIO(b"<svg onload=alert(1)>"), "thumb.png")
    response = client.post(
        "/vendor/products/new", data=data, content_type="multipart/form-data", headers=HX
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "not an image we can use" in body
    assert "<html" not in body and 'id="listing_form"' in body  # the htmx partial
    with app.app_context():
        assert db.session.scalar(select(func.count(Product.id))) == 0


def test_submit_needs_csrf(app, client, login_as):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    product_id = _create(client, category_id)
    response = client.post(f"/vendor/products/{product_id}/submit", data={})
    assert response.status_code == 400
    assert _product(app).status == "draft"


def test_review_round_trip_emails_the_vendor(app, client, login_as, run_jobs, mailbox):
    category_id = create_category(app, "Finance")
    vendor = login_as("vendor")
    product_id = _create(client, category_id)
    assert _post(client, f"/vendor/products/{product_id}/submit").status_code == 303
    assert client.get("/products/invoice-chaser").status_code == 404  # not public yet

    _switch(client, login_as, "admin")
    queue = client.get("/admin/moderation").get_data(as_text=True)
    assert "Invoice chaser" in queue and "New listing" in queue
    review = client.get(f"/admin/moderation/{product_id}").get_data(as_text=True)
    assert "19.50" in review and "Finance" in review
    response = _post(
        client,
        f"/admin/products/{product_id}/request_changes",
        reason_codes=["media"],
        note="Add a screenshot of the result.",
    )
    assert response.status_code == 303
    run_jobs()
    [message] = mailbox.to(vendor.email)
    assert message["Subject"] == "Changes requested: Invoice chaser"
    assert "Add a screenshot of the result." in body_text(message)

    _switch(client, login_as, "vendor", vendor)  # the vendor reads the feedback
    page = client.get(f"/vendor/products/{product_id}").get_data(as_text=True)
    assert "Add a screenshot of the result." in page and "screenshots" in page
    assert _post(client, f"/vendor/products/{product_id}/submit").status_code == 303

    _switch(client, login_as, "admin")
    assert _post(client, f"/admin/products/{product_id}/approve").status_code == 303
    run_jobs()
    assert mailbox.to(vendor.email)[-1]["Subject"] == "Approved: Invoice chaser"
    page = client.get("/products/invoice-chaser")
    assert page.status_code == 200 and "$19.50" in page.get_data(as_text=True)


def test_edit_of_a_live_listing_waits_for_review(app, client, login_as):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    product_id = _create(client, category_id)
    with app.app_context():
        db.session.get(Product, product_id).status = "approved"
        db.session.commit()
    response = client.post(
        f"/vendor/products/{product_id}/edit",
        data=_form(client, category_id, title="Invoice chaser PRO", price="39"),
    )
    assert response.status_code == 303
    public = client.get("/products/invoice-chaser").get_data(as_text=True)
    assert "Invoice chaser PRO" not in public and "$19.50" in public
    form = client.get(f"/vendor/products/{product_id}/edit").get_data(as_text=True)
    assert 'value="Invoice chaser PRO"' in form  # the vendor keeps editing their edit
    _post(client, f"/vendor/products/{product_id}/submit")
    assert client.get(f"/vendor/products/{product_id}/edit").status_code == 200
    again = client.post(f"/vendor/products/{product_id}/edit", data=_form(client, category_id))
    assert again.status_code == 409
    assert "waiting for review" in again.get_data(as_text=True)

    _switch(client, login_as, "admin")
    review = client.get(f"/admin/moderation/{product_id}").get_data(as_text=True)
    assert "Changes against the live version" in review and "Invoice chaser PRO" in review
    _post(client, f"/admin/products/{product_id}/approve")
    assert "Invoice chaser PRO" in client.get("/products/invoice-chaser").get_data(as_text=True)


def test_product_page_seo_and_view_counting(app, client, make_user):
    product_id = create_product(
        app, make_user, "Churn predictor", description_md="", short_description="Spots churn."
    )
    slug = slug_of(app, product_id)
    page = client.get(f"/products/{slug}").get_data(as_text=True)
    assert f'<link rel="canonical" href="http://localhost/products/{slug}">' in page
    assert '<meta property="og:title" content="Churn predictor">' in page
    assert '<meta name="description" content="Spots churn.">' in page
    client.get(f"/products/{slug}")
    client.get(f"/products/{slug}", headers={"User-Agent": "Googlebot/2.1"})
    with app.app_context():
        assert pageviews.flush() == 1
        assert db.session.get(Product, product_id).view_count == 1
        assert db.session.scalar(select(func.count(ProductView.id))) == 1


def test_a_first_product_page_reads_the_versions_and_reviews_once(app, client, make_user):
    product_id = create_product(app, make_user, "Churn predictor")
    give_clean_version(app, product_id)
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        page = client.get(f"/products/{slug_of(app, product_id)}")
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<dt>Version</dt><dd>1.0 " in text and '1.0 <span class="badge">current</span>' in text
    # The current version comes with the history; without reviews, no page of them is read.
    assert len([s for s in statements if "FROM product_versions" in s]) == 1
    assert len([s for s in statements if "FROM reviews" in s]) == 1
    assert "No reviews yet" in text


def test_product_page_lists_its_tags_in_order_as_search_links(app, client, make_user):
    tagged = create_product(app, make_user, "Tagged", tags=["slack", "CRM", "alerts"])
    page = client.get(f"/products/{slug_of(app, tagged)}").get_data(as_text=True)
    links = re.findall(r'<a href="/search\?q=([^"]+)">([^<]+)</a>', page)
    assert links == [("alerts", "alerts"), ("CRM", "CRM"), ("slack", "slack")]
    untagged = create_product(app, make_user, "Untagged")
    page = client.get(f"/products/{slug_of(app, untagged)}").get_data(as_text=True)
    assert "<dt>Tags</dt>" not in page


def test_drafts_and_suspended_products_are_not_public(app, client, make_user):
    for status in ("draft", "pending", "rejected", "suspended", "changes_requested"):
        product_id = create_product(app, make_user, f"Hidden {status}", status=status)
        assert client.get(f"/products/{slug_of(app, product_id)}").status_code == 404


def test_category_pages_list_the_subtree_with_sorting_and_htmx(app, client, make_user):
    create_category(app, "Marketing")
    create_category(app, "Email", parent_slug="marketing")
    create_product(app, make_user, "Cheap email", category_slug="email", price_cents=500)
    create_product(app, make_user, "Dear email", category_slug="email", price_cents=9000)
    create_product(app, make_user, "Draft email", category_slug="email", status="draft")
    page = client.get("/categories/marketing?sort=price_desc").get_data(as_text=True)
    assert page.index("Dear email") < page.index("Cheap email")
    assert "Draft email" not in page and "2 products" in page
    fragment = client.get("/categories/marketing?sort=price_asc", headers=HX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.index("Cheap email") < body.index("Dear email")
    assert fragment.headers["Vary"].count("HX-Request") == 1
    assert client.get("/categories/marketing?sort=%27;drop&page=-5").status_code == 200


def test_storefront_sitemap_and_robots(app, client, make_user):
    product_id = create_product(app, make_user, "Listed", store_name="Acme Bots")
    create_product(app, make_user, "Unlisted", status="draft")
    with app.app_context():
        product = db.session.get(Product, product_id)
        vendor_slug, slug = product.vendor.slug, product.slug
    store = client.get(f"/vendors/{vendor_slug}").get_data(as_text=True)
    assert "Acme Bots" in store and "Listed" in store and "Unlisted" not in store
    sitemap = client.get("/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    assert f"http://localhost/products/{slug}" in sitemap.get_data(as_text=True)
    assert "Unlisted" not in sitemap.get_data(as_text=True)
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots and "Disallow: /admin/" in robots


def test_apply_to_sell_and_approval(app, client, login_as, run_jobs, mailbox):
    applicant = login_as("customer")
    response = _post(
        client,
        "/sell",
        store_name="Robo Shop",
        slug="robo-shop",
        bio="We build bots.",
        support_email="help@robo.example",
        country="DE",
    )
    assert response.status_code == 303
    assert "waiting for review" in client.get("/sell").get_data(as_text=True)
    again = _post(
        client, "/sell", store_name="Xy", slug="robo-2", support_email="a@b.example", country="DE"
    )
    assert again.status_code == 409

    _switch(client, login_as, "admin")
    assert "Robo Shop" in client.get("/admin/vendors").get_data(as_text=True)
    with app.app_context():
        profile = db.session.scalar(select(VendorProfile).where(VendorProfile.slug == "robo-shop"))
    assert _post(client, f"/admin/vendors/{profile.id}/approve").status_code == 303
    assert _post(client, f"/admin/vendors/{profile.id}/approve").status_code == 409
    run_jobs()
    assert mailbox.to(applicant.email)[-1]["Subject"] == "Your store is approved"
    with app.app_context():
        assert db.session.get(User, applicant.id).role == "vendor"
    assert client.get("/vendors/robo-shop").status_code == 200


@pytest.mark.parametrize(
    ("slug", "message"),
    [("admin", "reserved"), ("a", "Field must be between"), ("UPPER case", "lowercase")],
)
def test_bad_store_addresses(app, client, login_as, slug, message):
    login_as("customer")
    response = _post(
        client, "/sell", store_name="Shop", slug=slug, support_email="a@b.example", country="FR"
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(VendorProfile.id))) == 0


def test_declining_needs_a_reason(app, client, login_as, make_user):
    user = make_user("customer")
    with app.app_context():
        profile = VendorProfile(
            user_id=user.id,
            store_name="S",
            slug="s-shop",
            support_email="s@x.example",
            country="US",
        )
        db.session.add(profile)
        db.session.commit()
        profile_id = profile.id
    login_as("admin")
    _post(client, f"/admin/vendors/{profile_id}/decline", reason="")
    with app.app_context():
        assert db.session.get(VendorProfile, profile_id).status == "pending"
    _post(client, f"/admin/vendors/{profile_id}/decline", reason="Add a real bio.")
    with app.app_context():
        assert db.session.get(VendorProfile, profile_id).status == "declined"


def test_admin_manages_categories(app, client, login_as):
    login_as("admin")
    assert _post(client, "/admin/categories", name="Support", parent_id="0").status_code == 303
    fragment = client.post(
        "/admin/categories",
        data={"csrf_token": csrf_token(client, "/"), "name": "", "parent_id": "0"},
        headers=HX,
    )
    assert fragment.status_code == 422 and "<html" not in fragment.get_data(as_text=True)
    assert client.get("/categories/support").status_code == 200


def test_no_markup_from_vendors_reaches_pages(app, client, make_user):
    product_id = create_product(
        app,
        make_user,
        '<script>alert("t")</script>',
        short_description='"><img src=x onerror=alert(1)>',
        description_html="<p>safe</p>",
    )
    page = client.get(f"/products/{slug_of(app, product_id)}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert re.search(r"&lt;script&gt;alert\(&#34;t&#34;\)", page)


def test_cached_fragments_follow_catalog_changes_not_page_views(app, client, make_user):
    from app.cache import catalog_version

    create_category(app, "Ops")
    first = create_product(app, make_user, "First bot", category_slug="ops")
    assert "First bot" in client.get("/categories/ops").get_data(as_text=True)
    assert "First bot" in client.get("/").get_data(as_text=True)
    with app.app_context():
        version = catalog_version()
    client.get(f"/products/{slug_of(app, first)}")  # a counted view changes only stats
    with app.app_context():
        assert catalog_version() == version
    create_product(app, make_user, "Second bot", category_slug="ops")
    assert "Second bot" in client.get("/categories/ops").get_data(as_text=True)
    assert "Second bot" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Product, first).status = "suspended"
        db.session.commit()
    assert "First bot" not in client.get("/categories/ops").get_data(as_text=True)


def test_product_page_follows_its_store_and_category(app, client, make_user):
    from app.catalog.models import Category

    parent = create_category(app, "Ops")
    product_id = create_product(
        app, make_user, "Pager bot", category_slug="alerting", store_name="Night Shift"
    )
    with app.app_context():
        db.session.scalar(select(Category).where(Category.slug == "alerting")).parent_id = parent
        db.session.commit()
    url = f"/products/{slug_of(app, product_id)}"
    page = client.get(url).get_data(as_text=True)
    assert "<title>Pager bot · Night Shift · Autopilot Monster</title>" in page
    assert "✓ Verified" in page
    assert re.search(r'› <a href="/categories/ops">Ops</a> › <a href="/categories/alerting">', page)
    with app.app_context():
        product = db.session.get(Product, product_id)
        vendor = db.session.get(VendorProfile, product.vendor_id)
        vendor.store_name, vendor.is_verified = "Day Shift", False
        db.session.get(Category, parent).name = "Operations"
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "<title>Pager bot · Day Shift · Autopilot Monster</title>" in page
    assert ">Day Shift</a>" in page and "✓ Verified" not in page
    assert '<a href="/categories/ops">Operations</a>' in page


def test_category_head_is_cached_but_follows_renames(app, client, make_user):
    from app.catalog.models import Category

    create_category(app, "Ops")
    child = create_category(app, "Paging", parent_slug="ops")
    create_product(app, make_user, "Pager bot", category_slug="paging")
    page = client.get("/categories/ops").get_data(as_text=True)
    assert '<li><a href="/categories/paging">Paging</a></li>' in page
    partial = client.get("/categories/ops?sort=newest", headers=HX).get_data(as_text=True)
    assert "Pager bot" in partial and "breadcrumbs" not in partial
    with app.app_context():
        db.session.get(Category, child).name = "On-call"
        db.session.commit()
    page = client.get("/categories/ops").get_data(as_text=True)
    assert '<li><a href="/categories/paging">On-call</a></li>' in page
    child_page = client.get("/categories/paging").get_data(as_text=True)
    trail = '› <a href="/categories/ops">Ops</a> › <a href="/categories/paging">'
    assert trail in child_page


def test_pages_render_while_the_cache_is_down(app, client, make_user, redis_server):
    """Redis holds fragments, the catalog version and noted page views: none may cost a page."""
    create_category(app, "Ops")
    product_id = create_product(app, make_user, "Outage bot", category_slug="ops")
    slug = slug_of(app, product_id)
    redis_server.stop()
    try:
        for url in ("/", "/categories/ops", f"/products/{slug}"):
            response = client.get(url)
            assert response.status_code == 200 and "Outage bot" in response.get_data(as_text=True)
    finally:
        redis_server.start()


def test_price_sorts_use_the_price_shoppers_see(app, client, make_user):
    create_category(app, "Ops")
    create_product(app, make_user, "Ten once", category_slug="ops", price_cents=1000)
    create_product(
        app,
        make_user,
        "Twenty monthly",
        category_slug="ops",
        price_type="subscription",
        price_cents=0,
        monthly_price_cents=2000,
    )
    create_product(
        app, make_user, "Free one", category_slug="ops", price_type="free", price_cents=0
    )
    body = client.get("/categories/ops?sort=price_desc").get_data(as_text=True)
    assert body.index("Twenty monthly") < body.index("Ten once") < body.index("Free one")


def test_renaming_a_category_reindexes_its_listings(app, client, login_as, make_user, run_jobs):
    from app.search.backend import search_backend

    with app.app_context():
        search_backend().rebuild([])
    category_id = create_category(app, "Ops")
    create_product(app, make_user, "Pager bot", category_slug="ops")
    login_as("admin")
    response = _post(client, f"/admin/categories/{category_id}", name="Incident response")
    assert response.status_code == 303
    assert run_jobs() == 1
    body = client.get("/search?q=pager").get_data(as_text=True)
    assert "Incident response" in body and "Pager bot" in body


# --- issue 13: the catalog's rough edges ------------------------------------------------------


def test_submitting_an_incomplete_draft_shows_the_listing_with_what_is_missing(
    app, client, login_as
):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    product_id = _create(client, category_id, description_md="", short_description="")
    for headers in ({}, HX):
        response = _post(client, f"/vendor/products/{product_id}/submit", headers=headers)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert "Invoice chaser" in body and "History" in body  # the listing's own page
        assert "<li>Short description</li>" in body and "<li>Description</li>" in body
        assert "Submit for review" in body
    assert _product(app).status == "draft"


def test_a_rejected_listing_says_why_and_can_be_copied_into_a_new_draft(
    app, client, login_as, make_user
):
    category_id = create_category(app, "Finance")
    vendor = login_as("vendor")
    data = _form(client, category_id)
    data["thumbnail"] = (io.BytesIO(_png()), "thumb.png")
    response = client.post("/vendor/products/new", data=data, content_type="multipart/form-data")
    product_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    give_clean_version(app, product_id)
    _post(client, f"/vendor/products/{product_id}/submit")
    _switch(client, login_as, "admin")
    _post(client, f"/admin/products/{product_id}/reject", reason_codes=["policy"], note="Nope.")
    _switch(client, login_as, "vendor", vendor)

    page = client.get(f"/vendor/products/{product_id}").get_data(as_text=True)
    assert "Why it was rejected" in page and "Nope." in page
    assert "content or licence policy" in page and "Copy into a new draft" in page
    assert client.post(f"/vendor/products/{product_id}/duplicate").status_code == 400  # CSRF
    response = _post(client, f"/vendor/products/{product_id}/duplicate")
    assert response.status_code == 303
    copy_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert copy_id != product_id
    with app.app_context():
        original, copy = db.session.get(Product, product_id), db.session.get(Product, copy_id)
        assert (original.status, copy.status) == ("rejected", "draft")
        assert copy.slug != original.slug and copy.title == original.title
        assert copy.thumbnail_key == original.thumbnail_key is not None
        assert [t.name for t in copy.tags] == [t.name for t in original.tags]
        history = db.session.scalars(
            select(ProductTransition).where(ProductTransition.product_id == copy_id)
        ).all()
        assert [(t.from_status, t.to_status, t.note) for t in history] == [("", "draft", "")]
    copied = client.get(f"/vendor/products/{copy_id}").get_data(as_text=True)
    assert "Nope." not in copied and "Submit for review" in copied
    # Only a rejected listing, and only the vendor's own.
    assert _post(client, f"/vendor/products/{copy_id}/duplicate").status_code == 409
    _switch(client, login_as, "vendor")
    assert _post(client, f"/vendor/products/{product_id}/duplicate").status_code == 404


def test_prices_read_the_same_everywhere(app, client, make_user):
    create_category(app, "Ops")
    yearly = create_product(
        app,
        make_user,
        "Yearly only",
        category_slug="ops",
        price_type="subscription",
        price_cents=0,
        yearly_price_cents=39000,
    )
    both = create_product(
        app,
        make_user,
        "Both periods",
        category_slug="ops",
        price_type="subscription",
        price_cents=0,
        monthly_price_cents=3900,
        yearly_price_cents=39000,
    )
    pages = [
        client.get(f"/products/{slug_of(app, yearly)}").get_data(as_text=True),
        client.get("/categories/ops").get_data(as_text=True),
        client.get("/").get_data(as_text=True),
    ]
    for page in pages:
        assert "$390.00/year" in page and "$390.00/month" not in page
        assert "$39.00/month or $390.00/year" in page or slug_of(app, both) not in page
    with app.test_request_context():
        from flask import render_template_string

        rendered = render_template_string(
            "{{ 1500|money }} {{ 1500|money('EUR') }} {{ 1500|money('CHF') }}"
        )
    assert rendered == "$15.00 €15.00 15.00 CHF"


def test_moderators_read_labels_money_and_thumbnails_in_the_diff(app, client, login_as):
    category_id = create_category(app, "Finance")
    login_as("vendor")
    data = _form(client, category_id, complexity="advanced", price="1234.50", currency="EUR")
    data["thumbnail"] = (io.BytesIO(_png()), "thumb.png")
    data["node_types"] = "n8n-nodes-base.httpRequest, @n8n/n8n-nodes-langchain.lmChatOpenAi"
    response = client.post("/vendor/products/new", data=data, content_type="multipart/form-data")
    product_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    _post(client, f"/vendor/products/{product_id}/submit")
    key = _product(app).thumbnail_key
    _switch(client, login_as, "admin")
    review = client.get(f"/admin/moderation/{product_id}").get_data(as_text=True)
    cells = " ".join(re.findall(r'<td class="diff-new pre-line">(.*?)</td>', review, re.S))
    for label in ("n8n workflow", "One-time", "Advanced", "€1,234.50", "HTTP Request"):
        assert label in cells, label
    assert "OpenAI Chat Model" in cells
    for raw in ("one_time", "n8n_workflow", "advanced", "1234.50", "lmChatOpenAi", key):
        assert f">{raw}<" not in review and f"{raw}</td>" not in review, raw
    assert f'<img class="diff-thumb" src="/media/products/{key.rsplit("/", 1)[-1]}"' in review


def test_a_product_appears_once_on_the_home_page(app, client, make_user):
    for n in range(3):
        create_product(app, make_user, f"Star product {n}", is_featured=True, popularity=100 - n)
    create_product(app, make_user, "Plain product", popularity=1)
    home = client.get("/").get_data(as_text=True)
    for title in ("Star product 0", "Star product 1", "Star product 2", "Plain product"):
        assert home.count(f'<h3 class="product-card-title">{title}</h3>') == 1, title
    assert home.index('id="h-featured"') < home.index("Star product 0") < home.index('id="h-new"')


def test_node_types_show_by_their_display_names(app, client, make_user):
    long_type = "@acme-automation/n8n-nodes-enterprise.veryLongVendorSpecificNodeForSalesforceSync"
    product_id = create_product(
        app,
        make_user,
        "Noded",
        node_types=["n8n-nodes-base.httpRequest", "@n8n/n8n-nodes-langchain.agent", long_type],
    )
    page = client.get(f"/products/{slug_of(app, product_id)}").get_data(as_text=True)
    names = "HTTP Request, AI Agent, Very Long Vendor Specific Node For Salesforce Sync"
    assert f"<dt>Nodes</dt><dd>{names}</dd>" in page
    assert "n8n-nodes-base.httpRequest" not in page and long_type not in page
