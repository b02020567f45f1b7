"""Notification pages: the list, the header bell, mark read, preferences, one-click unsubscribe."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.accounts.views import safe_next
from app.extensions import csrf, db
from app.forms import page_number
from app.htmx import is_fragment_request, redirect_to, render
from app.notifications import services
from app.notifications.forms import PreferencesForm

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def list_GET():
    unread_only = request.args.get("show") == "unread"
    return render(
        "notifications/list.html",
        "notification_list",
        page=services.list_notifications(current_user, page_number(request.args), unread_only),
        unread_only=unread_only,
        unread=services.unread_count(current_user),
        confirm=ConfirmForm(),
    )


@bp.get("/notifications/unread")
def bell_GET():
    """The header bell, polled by htmx; 286 stops the polling once the session has ended."""
    if not current_user.is_authenticated:
        return make_response("", 286 if is_fragment_request() else 204)
    return render("notifications/_bell.html", unread=services.unread_count(current_user))


@bp.post("/notifications/<id:notification_id>/read")
@login_required
def read_POST(notification_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notification = services.mark_read(current_user, notification_id)
    db.session.commit()
    if request.form.get("open") and notification.link:
        return redirect_to(safe_next(notification.link, url_for("notifications.list_GET")))
    return redirect_to(url_for("notifications.list_GET", show=request.args.get("show") or None))


@bp.post("/notifications/read-all")
@login_required
def read_all_POST():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user)
    db.session.commit()
    flash(f"Marked {count} notifications read." if count else "Nothing was unread.", "success")
    return redirect_to(url_for("notifications.list_GET"))


# --- preferences -----------------------------------------------------------------------------


def _preferences_page(form: PreferencesForm, status: int = 200):
    return render(
        "notifications/preferences.html",
        "preferences_form",
        status=status,
        form=form,
        kinds=services.KINDS,
    )


@bp.get("/account/notifications")
@login_required
def preferences_GET():
    form = PreferencesForm(formdata=None)
    form.fill(services.preferences(current_user))
    return _preferences_page(form)


@bp.post("/account/notifications")
@login_required
def preferences_POST():
    form = PreferencesForm()
    if not form.validate_on_submit():
        return _preferences_page(form, 422)
    services.set_preferences(current_user, form.choices())
    db.session.commit()
    flash("Your notification choices are saved.", "success")
    return redirect_to(url_for("notifications.preferences_GET"))


# --- one-click unsubscribe (RFC 8058) ------------------------------------------------------


@bp.get("/notifications/unsubscribe/<id:user_id>/<kind>/<token>")
def unsubscribe_GET(user_id: int, kind: str, token: str):
    """A confirm page: mail scanners follow links, so a GET changes nothing."""
    user, spec = services.check_unsubscribe(user_id, kind, token)
    return render("notifications/unsubscribe.html", user=user, kind=spec, done=False)


@bp.post("/notifications/unsubscribe/<id:user_id>/<kind>/<token>")
@csrf.exempt  # RFC 8058: the mail client posts without a session; the signed token decides
def unsubscribe_POST(user_id: int, kind: str, token: str):
    user, spec = services.unsubscribe(user_id, kind, token)
    db.session.commit()
    return render("notifications/unsubscribe.html", user=user, kind=spec, done=True)


@bp.app_context_processor
def bell_count() -> dict:
    """The bell's count, computed only when a page shows the bell."""

    def unread_notifications() -> int:
        return services.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}
