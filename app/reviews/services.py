"""Review services: who may review, writing and editing (spam rules route to the moderation
queue), the vendor's reply, reports, moderation, and the ratings they keep current.

Every service takes the acting user explicitly and raises DomainError subclasses; the view
commits. A change to what is published recomputes the product's rating_avg/rating_count in
the same transaction and records an event that reindexes the product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.accounts.models import User
from app.accounts.permissions import Permission, has_permission
from app.cache import cached
from app.catalog.models import Product, ProductStatus
from app.commerce.models import OrderLine
from app.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.licensing.models import Licence, LicenceStatus
from app.notifications.services import notify_later, site_path
from app.outbox.services import record_event
from app.pagination import Page, paginate
from app.reviews.content import render_body
from app.reviews.models import BodyFormat, Review, ReviewEdit, ReviewReply, ReviewReport
from app.reviews.models import ReviewStatus as S
from app.reviews.spam import has_links, is_near_duplicate, review_rules
from app.search.documents import bayesian_rating
from app.timeutil import as_utc, utcnow
from app.vendors.models import VendorProfile

TITLE_MIN, TITLE_MAX = 3, 120
BODY_MIN, BODY_MAX = 10, 5_000
REPLY_MAX = 2_000
REASON_MIN, REASON_MAX = 5, 500
REVIEWS_PER_PAGE = 10
# The near-duplicate rule compares a review with this many recent reviews of other products.
DUPLICATE_WINDOW = 500

SPAM_LABELS = {
    "new_account": "the account is new",
    "links": "the text has links",
    "duplicate": "the text nearly repeats a review of another product",
    "burst": "many reviews from one account in a short time",
}


# --- errors -----------------------------------------------------------------------------------


class NotABuyer(PermissionDenied):
    message = "Only buyers can review a product: buy it first, then share what you think."


class PurchaseRefunded(PermissionDenied):
    message = "Your purchase of this product was refunded, so you can no longer review it."


class LicenceEnded(PermissionDenied):
    message = "Your licence for this product has ended, so you can no longer review it."


class OwnProduct(PermissionDenied):
    message = "You cannot review your own product."


class AlreadyReviewed(Conflict):
    message = "You have already reviewed this product: edit your review instead."


class ReviewRemoved(Conflict):
    message = "A moderator removed your review of this product, so it cannot be written again."


class AlreadyReplied(Conflict):
    message = "This review already has your reply: a review gets one reply."


class AlreadyReported(Conflict):
    message = "You have already reported this review; a moderator will look at it."


class OwnReview(Conflict):
    message = "You cannot report your own review."


class ModerationNotAllowed(Conflict):
    message = "That action does not apply to this review as it is now."


class InvalidReview(DomainError):
    status = 422
    message = "Please check the review."


# --- reading ----------------------------------------------------------------------------------


def public_product(product_id: int) -> Product:
    """The approved product ``product_id``; raises NotFound for any other."""
    product = db.session.get(Product, product_id)
    if product is None or product.status != ProductStatus.APPROVED:
        raise NotFound()
    return product


def review_of(user: Any, product_id: int) -> Review | None:
    """``user``'s review of the product, in any status; None for none or anonymous."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Review).where(Review.product_id == product_id, Review.author_id == user.id)
    )


def _is_products_vendor(user: Any, product: Product) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    vendor = db.session.get(VendorProfile, product.vendor_id)
    return vendor is not None and vendor.user_id == user.id


def check_can_review(user: User, product: Product) -> None:
    """Raise why ``user`` may not review ``product``: OwnProduct, NotABuyer, PurchaseRefunded,
    LicenceEnded. Holding a licence is what counts: a licence the vendor disabled (which they
    may enable again) still counts, so a vendor cannot keep a buyer from reviewing."""
    if _is_products_vendor(user, product):
        raise OwnProduct()
    rows = db.session.execute(
        select(Licence.status, OrderLine.refunded_at)
        .join(OrderLine, OrderLine.id == Licence.order_line_id)
        .where(Licence.user_id == user.id, Licence.product_id == product.id)
    ).all()
    if not rows:
        raise NotABuyer()
    if any(status != LicenceStatus.REVOKED for status, _ in rows):
        return
    if any(refunded_at is not None for _, refunded_at in rows):
        raise PurchaseRefunded()
    raise LicenceEnded()


def refusal_for(user: Any, product: Product) -> str | None:
    """Why ``user`` may not write a review of ``product`` now, as a sentence; None if they may."""
    if not getattr(user, "is_authenticated", False):
        return "Log in to review this product (buyers only)."
    if not has_permission(user, Permission.REVIEW):
        return "Verify your email address to review products."
    try:
        check_can_review(user, product)
    except DomainError as exc:
        return exc.message
    return None


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float  # the plain mean of the published stars
    score: float  # the Bayesian mean the catalog sorts and search ranks by
    histogram: dict[int, int]  # stars -> published reviews, 5 down to 1

    @property
    def rows(self) -> list[tuple[int, int, int]]:
        """(stars, count, percent of all) from 5 stars down."""
        return [
            (stars, n, round(100 * n / self.count) if self.count else 0)
            for stars, n in self.histogram.items()
        ]


# Built once (every product page reads it): building a select costs more than running this one.
_STAR_COUNTS = (
    select(Review.stars, func.count())
    .where(Review.product_id == bindparam("product_id"), Review.status == S.PUBLISHED)
    .group_by(Review.stars)
)


def rating_summary(product_id: int) -> RatingSummary:
    counts = dict(db.session.execute(_STAR_COUNTS, {"product_id": product_id}).all())
    histogram = {stars: int(counts.get(stars, 0)) for stars in range(5, 0, -1)}
    count = sum(histogram.values())
    average = sum(s * n for s, n in histogram.items()) / count if count else 0.0
    return RatingSummary(count, round(average, 4), bayesian_rating(average, count), histogram)


@dataclass(frozen=True)
class StoreRating:
    count: int  # published reviews over the store's live products
    average: float
    score: float
    products: int  # live products with at least one review


def store_rating(vendor_id: int) -> StoreRating:
    """A store's rating over its live products, from their rating columns (one index walk)."""
    total, count, products = db.session.execute(
        select(
            func.coalesce(func.sum(Product.rating_avg * Product.rating_count), 0.0),
            func.coalesce(func.sum(Product.rating_count), 0),
            func.count(),
        ).where(
            Product.vendor_id == vendor_id,
            Product.status == ProductStatus.APPROVED,
            Product.rating_count > 0,
        )
    ).one()
    count = int(count or 0)
    average = float(total) / count if count else 0.0
    return StoreRating(count, round(average, 4), bayesian_rating(average, count), int(products))


def store_rating_by_slug(slug: str) -> StoreRating | None:
    vendor_id = db.session.scalar(select(VendorProfile.id).where(VendorProfile.slug == slug))
    return store_rating(vendor_id) if vendor_id is not None else None


@dataclass
class ReviewPanel:
    """What a product page shows of its reviews to one viewer."""

    product_id: int
    summary: RatingSummary
    page: Page
    mine: Review | None = None
    refusal: str | None = None  # why the viewer cannot write one (None: they can, or did)
    is_vendor: bool = False  # the viewer sells this product: reply forms
    reported: set[int] = field(default_factory=set)  # reviews the viewer already reported

    @property
    def can_write(self) -> bool:
        return self.mine is None and self.refusal is None

    @property
    def can_edit(self) -> bool:
        return self.mine is not None and self.mine.status != S.DELETED


def product_panel(product_id: int, viewer: Any, page: int) -> ReviewPanel:
    """Page ``page`` of the published reviews of the product ``product_id`` (one its page has
    found public), its rating, and what ``viewer`` (signed in or not) may do there. An
    anonymous page costs two queries: the histogram (which also counts the pages) and, if
    there are reviews, the page of them; a signed-in viewer raises NotFound for a product
    not on sale."""
    summary = rating_summary(product_id)
    pages = max(1, -(-summary.count // REVIEWS_PER_PAGE))
    page = min(max(1, page), pages)
    items: list[Review] = []
    if summary.count:
        items = list(
            db.session.scalars(
                select(Review)
                .where(Review.product_id == product_id, Review.status == S.PUBLISHED)
                .options(joinedload(Review.author), selectinload(Review.reply))
                .order_by(Review.published_at.desc(), Review.id.desc())
                .limit(REVIEWS_PER_PAGE)
                .offset((page - 1) * REVIEWS_PER_PAGE)
            )
        )
    panel = ReviewPanel(product_id, summary, Page(items, page, pages, summary.count))
    if not getattr(viewer, "is_authenticated", False):
        panel.refusal = "Log in to review this product (buyers only)."
        return panel
    product = public_product(product_id)
    panel.mine = review_of(viewer, product_id)
    panel.is_vendor = _is_products_vendor(viewer, product)
    if panel.mine is None:
        panel.refusal = refusal_for(viewer, product)
    if items:
        panel.reported = set(
            db.session.scalars(
                select(ReviewReport.review_id).where(
                    ReviewReport.reporter_id == viewer.id,
                    ReviewReport.review_id.in_([review.id for review in items]),
                )
            )
        )
    return panel


def panel_html(product: Any, store: Any, viewer: Any, page: int) -> Markup:
    """The product page's reviews panel for ``viewer``, rendered: ``product`` and ``store``
    are the page's head and store link (catalog/pages.py). Anonymous viewers all see the
    same panel, so theirs is built once per page of reviews and catalog version (a commit
    that writes a review or a reply bumps the version: catalog/listeners.py); a signed-in
    viewer's is built for them (their own review, their reports, the vendor's reply links)."""

    def build() -> Markup:
        panel = product_panel(product.id, viewer, page)
        html = render_template("reviews/_panel.html", reviews=panel, product=product, store=store)
        return Markup(html)  # noqa: S704 - a rendered template, escaped by Jinja

    if getattr(viewer, "is_authenticated", False):
        return build()
    return cached(f"reviews:{product.id}:{page}", build)


def my_reviews(user: User) -> list[Review]:
    """Every review ``user`` wrote, newest first, with its status and any moderator's reason."""
    return list(
        db.session.scalars(
            select(Review)
            .where(Review.author_id == user.id)
            .options(joinedload(Review.product), selectinload(Review.reply))
            .order_by(Review.created_at.desc(), Review.id.desc())
        )
    )


def vendor_reviews(user: User, unanswered: bool, page: int) -> Page:
    """Page ``page`` of the published reviews of ``user``'s products, newest first (only
    those without a reply when ``unanswered``); empty for an account without a store."""
    query = (
        select(Review)
        .join(Product, Product.id == Review.product_id)
        .join(VendorProfile, VendorProfile.id == Product.vendor_id)
        .where(VendorProfile.user_id == user.id, Review.status == S.PUBLISHED)
        .options(joinedload(Review.author), joinedload(Review.product), selectinload(Review.reply))
        .order_by(Review.published_at.desc(), Review.id.desc())
    )
    if unanswered:
        query = query.where(
            ~select(ReviewReply.id).where(ReviewReply.review_id == Review.id).exists()
        )
    return paginate(query, page, REVIEWS_PER_PAGE)


# --- writing ----------------------------------------------------------------------------------


def _validate(stars: int, title: str, body: str, body_format: str) -> tuple[int, str, str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if stars not in range(1, 6):
        raise InvalidReview("Choose 1 to 5 stars.")
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidReview(f"The title takes {TITLE_MIN} to {TITLE_MAX} characters.")
    if not BODY_MIN <= len(body) <= BODY_MAX:
        raise InvalidReview(f"The review takes {BODY_MIN} to {BODY_MAX} characters.")
    if body_format not in set(BodyFormat):
        raise InvalidReview("Choose plain text or Markdown.")
    return stars, title, body, body_format


def spam_reasons(user: User, review: Review, count_burst: bool = True) -> list[str]:
    """The spam rules ``review`` (written by ``user``, not yet flushed or already saved)
    matches, as keys of SPAM_LABELS; empty when it may be published at once."""
    rules = review_rules()
    now = utcnow()
    reasons = []
    if as_utc(user.created_at) > now - timedelta(days=rules.min_account_age_days):
        reasons.append("new_account")
    if has_links(f"{review.title}\n{review.body}"):
        reasons.append("links")
    others = db.session.execute(
        select(Review.title, Review.body)
        .where(Review.product_id != review.product_id)
        .order_by(Review.created_at.desc())
        .limit(DUPLICATE_WINDOW)
    ).all()
    text = f"{review.title}\n{review.body}"
    if is_near_duplicate(text, (f"{t}\n{b}" for t, b in others), rules.duplicate_percent):
        reasons.append("duplicate")
    if count_burst:
        recent = db.session.scalar(
            select(func.count())
            .select_from(Review)
            .where(
                Review.author_id == user.id,
                Review.created_at >= now - timedelta(minutes=rules.burst_minutes),
            )
        )
        if (recent or 0) >= rules.burst_limit:  # this one would be one more than the limit
            reasons.append("burst")
    return reasons


def save_review(
    user: User, product_id: int, stars: int, title: str, body: str, body_format: str
) -> tuple[Review, bool]:
    """Write ``user``'s review of the approved product ``product_id``, or edit the one they
    wrote; returns (review, created). A review matching a spam rule waits (pending) in the
    moderation queue. Raises NotFound, OwnProduct, NotABuyer, PurchaseRefunded, LicenceEnded,
    ReviewRemoved, InvalidReview."""
    product = public_product(product_id)
    existing = review_of(user, product_id)
    if existing is not None:
        return edit_review(user, existing, stars, title, body, body_format), False
    check_can_review(user, product)
    stars, title, body, body_format = _validate(stars, title, body, body_format)
    review = Review(
        product_id=product.id,
        author_id=user.id,
        stars=stars,
        title=title,
        body=body,
        body_format=body_format,
        body_html=render_body(body, body_format),
        status=S.PENDING.value,
    )
    reasons = spam_reasons(user, review)
    db.session.add(review)
    db.session.flush()
    record_event(
        "review.submitted",
        review_id=review.id,
        product_id=product.id,
        author_id=user.id,
        held=bool(reasons),
    )
    if reasons:
        review.spam_reasons = reasons
    else:
        _publish(review)
    return review, True


def edit_review(
    user: User, review: Review, stars: int, title: str, body: str, body_format: str
) -> Review:
    """Edit ``user``'s own ``review``, keeping the earlier version in its history. The spam
    rules run again (except the burst rule); a hidden review goes back to the moderation
    queue. Raises NotFound (not theirs), ReviewRemoved, the eligibility errors, InvalidReview."""
    if review.author_id != user.id:
        raise NotFound()
    if review.status == S.DELETED:
        raise ReviewRemoved()
    check_can_review(user, review.product)
    stars, title, body, body_format = _validate(stars, title, body, body_format)
    if (stars, title, body, body_format) == (
        review.stars,
        review.title,
        review.body,
        review.body_format,
    ):
        return review  # nothing changed: no history row, no second look
    db.session.add(
        ReviewEdit(
            review=review,
            stars=review.stars,
            title=review.title,
            body=review.body,
            body_format=review.body_format,
            status=review.status,
            written_at=review.edited_at or review.created_at,
        )
    )
    was_published = review.is_published
    review.stars, review.title, review.body, review.body_format = stars, title, body, body_format
    review.body_html = render_body(body, body_format)
    review.edited_at = utcnow()
    reasons = spam_reasons(user, review, count_burst=False)
    if review.status == S.HIDDEN or (was_published and reasons):
        review.status = S.PENDING.value
        review.spam_reasons = reasons
    elif review.status == S.PENDING:
        review.spam_reasons = sorted(set(review.spam_reasons or []) | set(reasons))
    if was_published and review.is_published:
        _refresh_rating(review.product_id)
        record_event("review.published", review_id=review.id, product_id=review.product_id)
    elif was_published:
        _withdraw(review)
    return review


def _refresh_rating(product_id: int) -> None:
    """Recompute the product's rating columns from its published reviews (this transaction)."""
    db.session.flush()
    summary = rating_summary(product_id)
    product = db.session.get(Product, product_id)
    product.rating_avg = summary.average
    product.rating_count = summary.count


def _publish(review: Review) -> None:
    first_time = review.published_at is None
    review.status = S.PUBLISHED.value
    review.published_at = review.published_at or utcnow()
    _refresh_rating(review.product_id)
    record_event("review.published", review_id=review.id, product_id=review.product_id)
    if first_time:  # a review restored after a hide was announced when it first came out
        product = review.product
        notify_later(
            product.vendor.user_id,
            "review_received",
            f"{review.stars}-star review of “{product.title}”",
            review.title,
            site_path("reviews.vendor_reviews_GET"),
        )


def _withdraw(review: Review) -> None:
    """After a published review left the page: the rating and the index follow."""
    _refresh_rating(review.product_id)
    record_event(
        "review.withdrawn", review_id=review.id, product_id=review.product_id, status=review.status
    )


# --- replies and reports ----------------------------------------------------------------------


def reviewable_by_vendor(user: User, review_id: int) -> Review:
    """The published review ``review_id`` of one of ``user``'s products; NotFound otherwise
    (another store's review is not theirs to see here)."""
    review = db.session.get(Review, review_id)
    if review is None or not review.is_published or not _is_products_vendor(user, review.product):
        raise NotFound()
    return review


def reply_to_review(user: User, review_id: int, body: str) -> ReviewReply:
    """The product's vendor replies, once and in public, to a published review. Raises
    NotFound (not their product's), AlreadyReplied, InvalidReview."""
    review = reviewable_by_vendor(user, review_id)
    if review.reply is not None:
        raise AlreadyReplied()
    body = (body or "").strip()
    if not 1 <= len(body) <= REPLY_MAX:
        raise InvalidReview(f"The reply takes 1 to {REPLY_MAX} characters.")
    reply = ReviewReply(
        review=review, vendor_id=review.product.vendor_id, author_id=user.id, body=body
    )
    db.session.add(reply)
    db.session.flush()
    record_event(
        "review.replied",
        review_id=review.id,
        reply_id=reply.id,
        product_id=review.product_id,
        review_author_id=review.author_id,
    )
    product = review.product
    notify_later(
        review.author_id,
        "review_reply",
        f"{product.vendor.store_name} replied to your review of “{product.title}”",
        body[:500],
        site_path("catalog.product_GET", slug=product.slug, _anchor=f"review-{review.id}"),
    )
    return reply


def reportable_review(review_id: int) -> Review:
    """A published review anyone may see (and report); NotFound otherwise."""
    review = db.session.get(Review, review_id)
    if review is None or not review.is_published:
        raise NotFound()
    return review


def report_review(user: User, review_id: int, reason: str) -> ReviewReport:
    """``user`` (anyone signed in) reports a published review with a reason. Raises NotFound,
    OwnReview, AlreadyReported, InvalidReview."""
    review = reportable_review(review_id)
    if review.author_id == user.id:
        raise OwnReview()
    reason = (reason or "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidReview(f"The reason takes {REASON_MIN} to {REASON_MAX} characters.")
    exists = db.session.scalar(
        select(ReviewReport.id).where(
            ReviewReport.review_id == review.id, ReviewReport.reporter_id == user.id
        )
    )
    if exists is not None:
        raise AlreadyReported()
    report = ReviewReport(review=review, reporter_id=user.id, reason=reason)
    db.session.add(report)
    db.session.flush()
    return report


# --- moderation -------------------------------------------------------------------------------

# action -> (statuses it applies to, status it leaves, whether a reason is required)
MODERATION: dict[str, tuple[frozenset[str], str | None, bool]] = {
    "approve": (frozenset({S.PENDING}), S.PUBLISHED, False),
    "hide": (frozenset({S.PUBLISHED, S.PENDING}), S.HIDDEN, True),
    "restore": (frozenset({S.HIDDEN, S.DELETED}), S.PUBLISHED, False),
    "delete": (frozenset({S.PUBLISHED, S.PENDING, S.HIDDEN}), S.DELETED, True),
    "dismiss": (frozenset(S), None, False),  # the reports were unfounded; nothing changes
}
QUEUES = ("pending", "reported", "hidden", "deleted", "published")


def _require_moderator(user: User) -> None:
    if not has_permission(user, Permission.MODERATE):
        raise PermissionDenied()


def review_for_admin(admin: User, review_id: int) -> Review:
    _require_moderator(admin)
    review = db.session.get(
        Review,
        review_id,
        options=[
            joinedload(Review.author),
            joinedload(Review.product),
            selectinload(Review.edits),
            selectinload(Review.reports).joinedload(ReviewReport.reporter),
        ],
    )
    if review is None:
        raise NotFound()
    return review


def moderate_review(admin: User, review_id: int, action: str, reason: str) -> Review:
    """Approve, hide, restore or delete a review, or dismiss its reports; a hide or delete
    needs a reason, which the author sees. Resolves the review's open reports. Raises
    PermissionDenied, NotFound, ModerationNotAllowed, InvalidReview."""
    review = review_for_admin(admin, review_id)
    if action not in MODERATION:
        raise NotFound()
    applies_to, target, needs_reason = MODERATION[action]
    if review.status not in applies_to:
        raise ModerationNotAllowed()
    reason = (reason or "").strip()
    if needs_reason and len(reason) < REASON_MIN:
        raise InvalidReview(f"Give the author a reason ({REASON_MIN} characters or more).")
    if len(reason) > REASON_MAX:
        raise InvalidReview(f"The reason takes at most {REASON_MAX} characters.")
    now = utcnow()
    for report in review.reports:
        if report.resolved_at is None:
            report.resolved_at, report.resolved_by_id = now, admin.id
    if target is None:
        return review
    was_published = review.is_published
    review.status = target
    review.moderation_reason = reason
    review.moderated_by_id, review.moderated_at = admin.id, now
    if review.is_published:
        _publish(review)
    elif was_published:
        _withdraw(review)
    return review


REVIEW_SORTS = {"created": Review.created_at, "updated": Review.updated_at, "stars": Review.stars}


def moderation_queue(
    admin: User,
    queue: str,
    page: int,
    q: str = "",
    sort: str = "",
    descending: bool = True,
) -> Page:
    """Page ``page`` of one queue: "pending" (held by the spam rules), "reported" (open
    reports, any status), or the reviews in one status; oldest waiting first for the first two,
    unless ``sort`` (a REVIEW_SORTS key) orders it. ``q`` searches the title, the text, the
    author's email and the product's title."""
    _require_moderator(admin)
    open_reports = (
        select(func.count())
        .where(ReviewReport.review_id == Review.id, ReviewReport.resolved_at.is_(None))
        .correlate(Review)
        .scalar_subquery()
    )
    query = select(Review).options(joinedload(Review.author), joinedload(Review.product))
    if queue == "reported":
        query = query.where(open_reports > 0).order_by(Review.created_at, Review.id)
    elif queue == "pending":
        query = query.where(Review.status == S.PENDING).order_by(Review.created_at, Review.id)
    elif queue in QUEUES:
        query = query.where(Review.status == queue).order_by(
            Review.updated_at.desc(), Review.id.desc()
        )
    else:
        raise NotFound()
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        author, product = aliased(User), aliased(Product)
        query = (
            query.join(author, author.id == Review.author_id)
            .join(product, product.id == Review.product_id)
            .where(
                or_(
                    func.lower(Review.title).like(pattern, escape="\\"),
                    func.lower(Review.body).like(pattern, escape="\\"),
                    func.lower(author.email).like(pattern, escape="\\"),
                    func.lower(product.title).like(pattern, escape="\\"),
                )
            )
        )
    if sort in REVIEW_SORTS:
        column = REVIEW_SORTS[sort]
        query = query.order_by(None).order_by(
            column.desc() if descending else column.asc(), Review.id.desc()
        )
    return paginate(query, page)


def queue_counts(admin: User) -> dict[str, int]:
    _require_moderator(admin)
    counts = dict(
        db.session.execute(select(Review.status, func.count()).group_by(Review.status)).all()
    )
    reported = db.session.scalar(
        select(func.count(func.distinct(ReviewReport.review_id))).where(
            ReviewReport.resolved_at.is_(None)
        )
    )
    return {
        "pending": int(counts.get(S.PENDING, 0)),
        "reported": int(reported or 0),
        "hidden": int(counts.get(S.HIDDEN, 0)),
        "deleted": int(counts.get(S.DELETED, 0)),
        "published": int(counts.get(S.PUBLISHED, 0)),
    }


def open_report_counts(review_ids: list[int]) -> dict[int, int]:
    if not review_ids:
        return {}
    return dict(
        db.session.execute(
            select(ReviewReport.review_id, func.count())
            .where(ReviewReport.review_id.in_(review_ids), ReviewReport.resolved_at.is_(None))
            .group_by(ReviewReport.review_id)
        ).all()
    )


def review_form(user: User, product_id: int) -> tuple[Product, Review | None]:
    """The approved product and ``user``'s review of it (None: they may write one). Raises
    NotFound, ReviewRemoved and the eligibility errors, so a refused buyer is told why."""
    product = public_product(product_id)
    review = review_of(user, product_id)
    if review is not None and review.status == S.DELETED:
        raise ReviewRemoved()
    check_can_review(user, product)
    return product, review
