"""Review pages: write or edit a review, the vendor's reply, reports, the author's own reviews,
and the admin's moderation queue under /admin/reviews (in the admin panel's layout, searchable and
sortable with its shared controls)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required

from app.accounts.permissions import Permission, permission_required
from app.admin import services as admin
from app.extensions import db
from app.forms import page_number
from app.htmx import redirect_to, render
from app.reviews import services
from app.reviews.forms import ModerationForm, ReplyForm, ReportForm, ReviewForm
from app.reviews.models import Review

bp = Blueprint("reviews", __name__)

INVALID = 422

MODERATED = {
    "approve": "Approved: the review is published.",
    "hide": "Hidden: the author sees your reason.",
    "restore": "Restored: the review is published again.",
    "delete": "Deleted: the author sees your reason.",
    "dismiss": "Reports dismissed: the review stays as it is.",
}


def _product_url(product: Any, anchor: str = "reviews") -> str:
    return url_for("catalog.product_GET", slug=product.slug, _anchor=anchor)


# --- writing and editing ----------------------------------------------------------------------


def _review_page(product: Any, review: Review | None, form: ReviewForm, status: int = 200):
    return render(
        "reviews/write.html",
        "review_form",
        status=status,
        product=product,
        review=review,
        form=form,
        spam_labels=services.SPAM_LABELS,
    )


@bp.get("/products/<id:product_id>/review")
@permission_required(Permission.REVIEW)
def review_GET(product_id: int):
    product, review = services.review_form(current_user, product_id)
    return _review_page(product, review, ReviewForm(obj=review))


@bp.post("/products/<id:product_id>/review")
@permission_required(Permission.REVIEW)
def review_POST(product_id: int):
    product, review = services.review_form(current_user, product_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _review_page(product, review, form, INVALID)
    try:
        saved, created = services.save_review(
            current_user,
            product_id,
            form.stars.data,
            form.title.data,
            form.body.data,
            form.body_format.data,
        )
    except services.InvalidReview as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _review_page(product, review, form, INVALID)
    status = saved.status
    db.session.commit()
    if status == "published":
        flash(
            "Thanks: your review is published." if created else "Your review is updated.", "success"
        )
    else:
        flash("Thanks: your review waits for a moderator and appears once it is approved.", "info")
    # No #anchor: htmx's HX-Redirect to the same page with only a new anchor would not reload.
    return redirect_to(url_for("catalog.product_GET", slug=product.slug))


@bp.get("/reviews/mine")
@login_required
def mine_GET():
    return render(
        "reviews/mine.html",
        reviews=services.my_reviews(current_user),
        spam_labels=services.SPAM_LABELS,
    )


# --- the vendor's reply -----------------------------------------------------------------------


def _reply_page(review: Review, form: ReplyForm, status: int = 200):
    return render("reviews/reply.html", "reply_form", status=status, review=review, form=form)


@bp.get("/reviews/<id:review_id>/reply")
@permission_required(Permission.SELL)
def reply_GET(review_id: int):
    review = services.reviewable_by_vendor(current_user, review_id)
    return _reply_page(review, ReplyForm())


@bp.post("/reviews/<id:review_id>/reply")
@permission_required(Permission.SELL)
def reply_POST(review_id: int):
    review = services.reviewable_by_vendor(current_user, review_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _reply_page(review, form, INVALID)
    try:
        services.reply_to_review(current_user, review_id, form.body.data)
    except services.InvalidReview as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _reply_page(review, form, INVALID)
    product = review.product
    db.session.commit()
    flash("Your reply is published under the review.", "success")
    return redirect_to(_product_url(product, f"review-{review_id}"))


@bp.get("/vendor/reviews")
@permission_required(Permission.SELL)
def vendor_reviews_GET():
    unanswered = request.args.get("show") == "unanswered"
    return render(
        "reviews/vendor.html",
        "vendor_reviews",
        unanswered=unanswered,
        page=services.vendor_reviews(current_user, unanswered, page_number(request.args)),
    )


# --- reports ----------------------------------------------------------------------------------


def _report_page(review: Review, form: ReportForm, status: int = 200):
    return render("reviews/report.html", "report_form", status=status, review=review, form=form)


@bp.get("/reviews/<id:review_id>/report")
@login_required
def report_GET(review_id: int):
    return _report_page(services.reportable_review(review_id), ReportForm())


@bp.post("/reviews/<id:review_id>/report")
@login_required
def report_POST(review_id: int):
    review = services.reportable_review(review_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return _report_page(review, form, INVALID)
    try:
        services.report_review(current_user, review_id, form.reason.data)
    except services.InvalidReview as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _report_page(review, form, INVALID)
    product = review.product
    db.session.commit()
    flash("Thanks: a moderator will look at this review.", "success")
    return redirect_to(_product_url(product, f"review-{review_id}"))


# --- moderation (admins) ----------------------------------------------------------------------


@bp.get("/admin/reviews")
@permission_required(Permission.MODERATE)
def admin_queue_GET():
    args = admin.list_args(request.args, default_filter=request.args.get("queue", "pending"))
    queue = args.filter if args.filter in services.QUEUES else "pending"
    page = services.moderation_queue(
        current_user, queue, args.page, args.q, args.sort, args.descending
    )
    return render(
        "reviews/admin_queue.html",
        "queue",
        queue=queue,
        queues=services.QUEUES,
        args=dataclasses.replace(args, filter=queue),
        sorts=services.REVIEW_SORTS,
        counts=services.queue_counts(current_user),
        page=page,
        reports=services.open_report_counts([review.id for review in page.items]),
        spam_labels=services.SPAM_LABELS,
    )


def _admin_review_page(review_id: int, form: ModerationForm, status: int = 200):
    review = services.review_for_admin(current_user, review_id)
    return render(
        "reviews/admin_review.html",
        "moderation",
        status=status,
        review=review,
        form=form,
        actions=[
            action
            for action, (applies_to, _, _) in services.MODERATION.items()
            if review.status in applies_to
            and (action != "dismiss" or any(r.resolved_at is None for r in review.reports))
        ],
        spam_labels=services.SPAM_LABELS,
    )


@bp.get("/admin/reviews/<id:review_id>")
@permission_required(Permission.MODERATE)
def admin_review_GET(review_id: int):
    return _admin_review_page(review_id, ModerationForm())


@bp.post("/admin/reviews/<id:review_id>/<action>")
@permission_required(Permission.MODERATE)
def admin_moderate_POST(review_id: int, action: str):
    if action not in services.MODERATION:
        abort(404)
    form = ModerationForm()
    if not form.validate_on_submit():
        return _admin_review_page(review_id, form, INVALID)
    try:
        admin.audited(
            current_user,
            f"review.{action}",
            "review",
            lambda review: review.id,
            lambda: services.moderate_review(
                current_user, review_id, action, form.reason.data or ""
            ),
            reason=form.reason.data or "",
            ip=request.remote_addr or "",
            after=lambda review: {"status": review.status, "product_id": review.product_id},
        )
    except (services.InvalidReview, services.ModerationNotAllowed) as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _admin_review_page(review_id, form, INVALID)
    db.session.commit()
    flash(MODERATED[action], "success")
    return redirect_to(url_for("reviews.admin_review_GET", review_id=review_id))


@bp.record_once
def _template_globals(state: Any) -> None:
    # The product page's panel offers the form to an eligible buyer.
    state.app.jinja_env.globals["review_form"] = ReviewForm
