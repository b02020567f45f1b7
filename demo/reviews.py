"""Demo reviews (demo/reviews.toml): a few reviewers, their licences and reviews, a vendor's
reply, a report, and one review the spam rules hold for moderation.

Call ``seed_reviews()`` after the catalog's seed (and after any seed of orders: a reviewer's
existing licence is used, a demo order is made only when there is none). Idempotent.
"""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.permissions import Role
from app.accounts.services import find_user_by_email, hash_password
from app.catalog.models import Product, ProductStatus
from app.extensions import db
from app.licensing.models import Licence, LicenceStatus
from app.reviews import services
from app.reviews.models import ReviewReport
from app.timeutil import as_utc, utcnow
from demo.commerce import buy

HERE = Path(__file__).resolve().parent


def _load() -> dict[str, Any]:
    return tomllib.loads((HERE / "reviews.toml").read_text())


def _ensure_reviewers(specs: list[dict[str, Any]]) -> dict[str, User]:
    """The reviewer accounts (customers that cannot log in: their password is random), by key;
    an existing account (the demo customer) is used as it is."""
    reviewers: dict[str, User] = {}
    locked_hash = ""
    for spec in specs:
        user = find_user_by_email(spec["email"])
        if user is None and "first_name" in spec:
            locked_hash = locked_hash or hash_password(secrets.token_urlsafe(32))
            now = utcnow()
            user = User(
                email=spec["email"],
                password_hash=locked_hash,
                role=Role.CUSTOMER.value,
                first_name=spec["first_name"],
                last_name=spec["last_name"],
                email_verified_at=now,
                created_at=now - timedelta(days=spec.get("days_old", 0), hours=1),
            )
            db.session.add(user)
        elif user is not None and user.email.endswith("@demo.autopilot.monster"):
            # The demo customer was created by this seed run: a shopper of some standing.
            since = utcnow() - timedelta(days=spec.get("days_old", 0))
            if as_utc(user.created_at) > since:
                user.created_at = since
        if user is not None:
            reviewers[spec["key"]] = user
    db.session.flush()
    return reviewers


def _ensure_licence(user: User, product: Product) -> None:
    """A licence for ``product`` held by ``user``: theirs if they have one, else bought through
    the shop like any purchase (demo reviews are of one-time and free products)."""
    held = db.session.scalar(
        select(Licence.id).where(
            Licence.user_id == user.id,
            Licence.product_id == product.id,
            Licence.status != LicenceStatus.REVOKED,
        )
    )
    if held is None:
        buy(user, product)


def seed_reviews() -> Iterator[str]:
    """Create the demo reviews that are missing, through the review services; commit once."""
    data = _load()
    reviewers = _ensure_reviewers(data["reviewer"])
    slugs = {spec["product"] for spec in data["review"]}
    products = {
        p.slug: p
        for p in db.session.scalars(
            select(Product).where(Product.slug.in_(slugs), Product.status == ProductStatus.APPROVED)
        )
    }
    made = held = replied = reported = 0
    now = utcnow()
    for spec in data["review"]:
        product, user = products.get(spec["product"]), reviewers.get(spec["reviewer"])
        if product is None or user is None or services.review_of(user, product.id) is not None:
            continue
        _ensure_licence(user, product)
        review, _ = services.save_review(
            user, product.id, spec["stars"], spec["title"], spec["body"], "markdown"
        )
        written = now - timedelta(days=spec.get("ago", 0), hours=2)
        review.created_at = written
        if review.published_at is not None:
            review.published_at = written
        made += 1
        held += not review.is_published
        if spec.get("reply") and review.is_published:
            services.reply_to_review(product.vendor.user, review.id, spec["reply"])
            replied += 1
    for spec in data.get("report", []):
        product = products.get(spec["product"])
        author, reporter = reviewers.get(spec["author"]), reviewers.get(spec["reporter"])
        if product is None or author is None or reporter is None:
            continue
        review = services.review_of(author, product.id)
        if review is None or not review.is_published:
            continue
        exists = db.session.scalar(
            select(ReviewReport.id).where(
                ReviewReport.review_id == review.id, ReviewReport.reporter_id == reporter.id
            )
        )
        if exists is None:
            services.report_review(reporter, review.id, spec["reason"])
            reported += 1
    db.session.commit()
    yield (
        f"reviews: {made} created ({held} waiting for moderation), {replied} replies, "
        f"{reported} reports"
    )
