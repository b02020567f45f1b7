"""Licence pages: the buyer's library and activations, the vendor's issued keys."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.downloads.services import downloadable_file, downloadable_files
from app.extensions import db
from app.forms import page_number
from app.htmx import redirect_to, render
from app.licensing import services
from app.licensing.forms import LicenceStatusForm

bp = Blueprint("licensing", __name__)


# --- the buyer's library ----------------------------------------------------------------------


@bp.get("/library")
@login_required
def library_GET():
    entries = services.library_for(current_user, downloadable_files)
    return render("licensing/library.html", entries=entries, confirm=ConfirmForm())


@bp.get("/library/<id:licence_id>")
@login_required
def licence_GET(licence_id: int):
    licence = services.get_own_licence(current_user, licence_id)
    return render(
        "licensing/licence.html",
        "activations",
        licence=licence,
        state=licence.state(),
        file=downloadable_file(licence.product),
        confirm=ConfirmForm(),
    )


@bp.post("/library/<id:licence_id>/activations/<id:activation_id>/free")
@login_required
def free_POST(licence_id: int, activation_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    activation = services.free_activation(current_user, licence_id, activation_id)
    db.session.commit()
    flash(f"Activation on {activation.instance_id} freed.", "success")
    return redirect_to(url_for("licensing.licence_GET", licence_id=licence_id))


# --- the vendor's keys ------------------------------------------------------------------------


def _vendor_page(status: int = 200, form_for: int | None = None, form=None):
    q = request.args.get("q", "")
    found = services.vendor_licences(current_user, q, page_number(request.args))
    return render(
        "licensing/vendor.html",
        "licences",
        status=status,
        found=found,
        q=q.strip()[:100],
        form_for=form_for,
        form=form or LicenceStatusForm(formdata=None),
    )


@bp.get("/vendor/licences")
@permission_required(Permission.SELL)
def vendor_GET():
    return _vendor_page()


@bp.post("/vendor/licences/<id:licence_id>/<any(disable, enable):action>")
@permission_required(Permission.SELL)
def vendor_status_POST(licence_id: int, action: str):
    services.get_vendor_licence(current_user, licence_id)  # another store's key: 404 first
    form = LicenceStatusForm()
    if not form.validate_on_submit():
        return _vendor_page(422, licence_id, form)
    licence = services.set_licence_disabled(
        current_user, licence_id, action == "disable", form.reason.data
    )
    db.session.commit()
    flash(
        f"Licence {licence.key} {'disabled' if action == 'disable' else 're-enabled'}.", "success"
    )
    return redirect_to(url_for("licensing.vendor_GET", q=request.args.get("q", "")))
