"""Support pages: a buyer starts a thread from an order line, the buyer's threads, the vendor's
inbox and response-time promise, a thread page for both sides (and for admins once it is
escalated), image attachments, and the admin's list of escalations under /admin/support."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, make_response, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.admin.services import ListArgs
from app.extensions import db
from app.forms import page_number
from app.htmx import redirect_to, render
from app.images import InvalidImage
from app.storage import content_disposition, get_storage
from app.support import services
from app.support.forms import (
    EscalateForm,
    MessageForm,
    ResolveForm,
    ResponseTimeForm,
    ThreadForm,
)
from app.support.models import ThreadStatus

bp = Blueprint("support", __name__)

INVALID = 422


def _uploads(form: MessageForm) -> list[services.Upload]:
    # One byte past the limit is enough for the service to refuse a file as too large.
    return [
        services.Upload(upload.filename or "", upload.read(services.ATTACHMENT_MAX_BYTES + 1))
        for upload in form.images.data or []
    ]


# --- the buyer --------------------------------------------------------------------------------


def _new_page(line_id: int, form: ThreadForm, status: int = 200) -> Response:
    line = services.supportable_line(current_user, line_id)
    return render(
        "support/new.html",
        "thread_form",
        status=status,
        line=line,
        form=form,
        promise=services.response_promise(line.vendor.support_response_hours),
    )


@bp.get("/support/new/<id:line_id>")
@login_required
def new_GET(line_id: int):
    return _new_page(line_id, ThreadForm())


@bp.post("/support/new/<id:line_id>")
@login_required
def new_POST(line_id: int):
    form = ThreadForm()
    if not form.validate_on_submit():
        return _new_page(line_id, form, INVALID)
    try:
        thread = services.start_thread(
            current_user, line_id, form.subject.data, form.body.data, _uploads(form)
        )
    except (services.InvalidMessage, InvalidImage) as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _new_page(line_id, form, INVALID)
    thread_id = thread.id
    db.session.commit()
    flash("Your message is sent to the vendor. You will be notified of the answer.", "success")
    return redirect_to(url_for("support.thread_GET", thread_id=thread_id))


@bp.get("/support")
@login_required
def mine_GET():
    return render(
        "support/mine.html",
        page=services.buyer_threads(current_user, page_number(request.args)),
    )


# --- the thread -------------------------------------------------------------------------------


def _thread_page(
    thread_id: int,
    form: MessageForm | None = None,
    escalate_form: EscalateForm | None = None,
    resolve_form: ResolveForm | None = None,
    status: int = 200,
    block: str | None = None,
) -> Response:
    thread, side = services.thread_for(current_user, thread_id)
    return render(
        "support/thread.html",
        block,
        status=status,
        thread=thread,
        side=side,
        form=form or MessageForm(formdata=None),
        escalate_form=escalate_form or EscalateForm(formdata=None),
        resolve_form=resolve_form or ResolveForm(formdata=None),
        promise=services.response_promise(thread.vendor.support_response_hours),
    )


@bp.get("/support/<id:thread_id>")
@login_required
def thread_GET(thread_id: int):
    return _thread_page(thread_id)


@bp.post("/support/<id:thread_id>/messages")
@login_required
def message_POST(thread_id: int):
    form = MessageForm()
    if not form.validate_on_submit():
        return _thread_page(thread_id, form=form, status=INVALID, block="reply_form")
    try:
        services.post_message(current_user, thread_id, form.body.data, _uploads(form))
    except (services.InvalidMessage, InvalidImage) as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _thread_page(thread_id, form=form, status=INVALID, block="reply_form")
    db.session.commit()
    flash("Your message is sent.", "success")
    return redirect_to(url_for("support.thread_GET", thread_id=thread_id))


@bp.post("/support/<id:thread_id>/close")
@login_required
def close_POST(thread_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.close_thread(current_user, thread_id)
    db.session.commit()
    flash("The thread is closed.", "success")
    return redirect_to(url_for("support.thread_GET", thread_id=thread_id))


@bp.post("/support/<id:thread_id>/escalate")
@login_required
def escalate_POST(thread_id: int):
    form = EscalateForm()
    if not form.validate_on_submit():
        return _thread_page(thread_id, escalate_form=form, status=INVALID, block="escalate_form")
    try:
        services.escalate_thread(current_user, thread_id, form.reason.data)
    except services.InvalidMessage as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _thread_page(thread_id, escalate_form=form, status=INVALID, block="escalate_form")
    db.session.commit()
    flash("An admin will look at this thread and answer here.", "success")
    return redirect_to(url_for("support.thread_GET", thread_id=thread_id))


@bp.get("/support/attachments/<id:attachment_id>")
@login_required
def attachment_GET(attachment_id: int):
    """An image of a thread, to its two sides and admins only (never a public media URL)."""
    attachment = services.attachment_for(current_user, attachment_id)
    response = make_response(get_storage().read(attachment.storage_key))
    response.headers["Content-Type"] = "image/png"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = content_disposition(
        attachment.filename, disposition="inline"
    )
    # Opened on its own, the image is a document that may run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the vendor -------------------------------------------------------------------------------


@bp.get("/vendor/support")
@permission_required(Permission.SELL)
def inbox_GET():
    status = request.args.get("status", "")
    if status not in set(ThreadStatus):
        status = ""
    store = services.store_of(current_user)
    return render(
        "support/inbox.html",
        "inbox",
        shown=status,
        statuses=list(ThreadStatus),
        counts=services.inbox_counts(current_user),
        page=services.vendor_inbox(current_user, status or None, page_number(request.args)),
        promise=services.response_promise(store.support_response_hours) if store else None,
    )


def _settings_page(form: ResponseTimeForm, status: int = 200) -> Response:
    store = services.own_store(current_user)
    return render("support/settings.html", "settings_form", status=status, store=store, form=form)


@bp.get("/vendor/support/settings")
@permission_required(Permission.SELL)
def settings_GET():
    hours = services.own_store(current_user).support_response_hours
    return _settings_page(ResponseTimeForm(hours=hours or 0))


@bp.post("/vendor/support/settings")
@permission_required(Permission.SELL)
def settings_POST():
    form = ResponseTimeForm()
    if not form.validate_on_submit():
        return _settings_page(form, INVALID)
    try:
        services.set_response_time(current_user, form.hours.data or None)
    except services.InvalidMessage as exc:
        db.session.rollback()
        form.hours.errors = [*form.hours.errors, exc.message]
        return _settings_page(form, INVALID)
    db.session.commit()
    flash("Your response-time promise is saved: buyers see it when they ask for help.", "success")
    return redirect_to(url_for("support.inbox_GET"))


# --- admins -----------------------------------------------------------------------------------


def _list_args() -> ListArgs:
    args = request.args
    return ListArgs(
        q=(args.get("q") or "").strip()[:100],
        filter=(args.get("filter") or "").strip()[:32],
        sort=(args.get("sort") or "").strip()[:32],
        descending=args.get("dir", "desc") != "asc",
        page=page_number(args),
    )


@bp.get("/admin/support")
@permission_required(Permission.MODERATE)
def admin_escalations_GET():
    args = _list_args()
    return render(
        "support/admin_escalations.html",
        "results",
        page=services.escalations(current_user, args),
        args=args,
        filters=services.ESCALATION_FILTERS,
        sorts=services.ESCALATION_SORTS,
    )


@bp.post("/admin/support/escalations/<id:escalation_id>/resolve")
@permission_required(Permission.MODERATE)
def admin_resolve_POST(escalation_id: int):
    form = ResolveForm()
    escalation = services.escalation_for(current_user, escalation_id)
    thread_id = escalation.thread_id
    if not form.validate_on_submit():
        return _thread_page(thread_id, resolve_form=form, status=INVALID, block="resolve_form")
    try:
        services.resolve_escalation(
            current_user, escalation_id, form.note.data, ip=request.remote_addr or ""
        )
    except services.InvalidMessage as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _thread_page(thread_id, resolve_form=form, status=INVALID, block="resolve_form")
    db.session.commit()
    flash("The escalation is resolved: both sides are told.", "success")
    return redirect_to(url_for("support.thread_GET", thread_id=thread_id))
