"""Version pages: the vendor's upload, version list (status polled by htmx), findings, rollback
and yank; the vendor's own file; previews; the admin's scan results and rescans."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from app.accounts.forms import ConfirmForm
from app.accounts.permissions import Permission, permission_required
from app.assets import services
from app.assets.forms import UploadForm, YankForm
from app.assets.models import STATUS_LABELS, ProductVersion, VersionStatus
from app.catalog.models import Product, ProductStatus
from app.errors import DomainError, NotFound
from app.extensions import db
from app.htmx import is_fragment_request, redirect_to, render
from app.storage import CHUNK_SIZE, content_disposition, get_storage

bp = Blueprint("assets", __name__)

INVALID = 422
STOP_POLLING = 286
# A version preview is a document of its own when opened directly: let it run nothing.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# Room for the form's other fields and the multipart framing around the file.
_FORM_OVERHEAD = 256 * 1024


@bp.record_once
def _upload_limit(state: Any) -> None:
    """The upload route takes bodies up to MAX_PRODUCT_FILE_MB (app/forms.py asks this)."""
    app = state.app
    app.extensions.setdefault("body_limits", {})["assets.upload_POST"] = lambda config: (
        config.max_product_file_bytes + _FORM_OVERHEAD
    )
    app.jinja_env.globals["VERSION_STATUS_LABELS"] = STATUS_LABELS


def _versions_page(product: Product, form: UploadForm | None = None, status: int = 200):
    return render(
        "assets/versions.html",
        "upload_form",
        status=status,
        product=product,
        versions=services.versions_of(product),
        current=services.current_version(product),
        form=form or UploadForm(formdata=None),
        confirm=ConfirmForm(),
        is_owner=services.is_owner(current_user, product),
        used=services.storage_used(product.vendor_id),
        quota=current_app.config["APP_CONFIG"].vendor_storage_quota_bytes,
        limit=current_app.config["APP_CONFIG"].max_product_file_bytes,
    )


@bp.get("/vendor/products/<id:product_id>/versions")
@permission_required(Permission.SELL)
def versions_GET(product_id: int):
    return _versions_page(services.get_managed_product(current_user, product_id))


@bp.post("/vendor/products/<id:product_id>/versions")
@permission_required(Permission.SELL)
def upload_POST(product_id: int):
    product = services.get_managed_product(current_user, product_id)
    if not services.is_owner(current_user, product):
        raise NotFound()  # admins see every version; only the vendor uploads
    form = UploadForm()
    if not form.validate_on_submit():
        return _versions_page(product, form, INVALID)
    upload: FileStorage = form.file.data
    try:
        version = services.upload_version(
            current_user,
            product,
            upload.stream,
            upload.filename or "",
            form.label.data or "",
            form.changelog.data or "",
            publish_when_clean=bool(form.publish_when_clean.data),
        )
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        form.file.errors = [*form.file.errors, exc.message]
        return _versions_page(product, form, exc.status if exc.status != 400 else INVALID)
    db.session.commit()
    flash(f"Version {version.label} is uploaded and waits for its scan.", "success")
    return redirect_to(url_for("assets.versions_GET", product_id=product.id))


@bp.get("/vendor/products/<id:product_id>/versions/<id:version_id>")
@permission_required(Permission.SELL)
def version_GET(product_id: int, version_id: int):
    """The version's page; for htmx, its status cell (polled every 2 s, 286 once final)."""
    version = services.get_version(current_user, product_id, version_id)
    response = render(
        "assets/version.html",
        "version_status",
        version=version,
        product=version.product,
        confirm=ConfirmForm(),
        yank_form=YankForm(formdata=None),
        is_owner=services.is_owner(current_user, version.product),
    )
    if is_fragment_request() and version.is_final:
        response.status_code = STOP_POLLING
        # The page reloads once, to show what the scan found (findings, preview).
        response.headers["HX-Refresh"] = "true"
    return response


def _version_action(product_id: int, version_id: int, act, message: str):
    version = services.get_version(current_user, product_id, version_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    act(version)
    db.session.commit()
    flash(message.format(label=version.label), "success")
    return redirect_to(url_for("assets.versions_GET", product_id=product_id))


@bp.post("/vendor/products/<id:product_id>/versions/<id:version_id>/publish")
@permission_required(Permission.SELL)
def publish_POST(product_id: int, version_id: int):
    return _version_action(
        product_id,
        version_id,
        lambda version: services.publish_version(current_user, version),
        "Version {label} is now the current version.",
    )


@bp.post("/vendor/products/<id:product_id>/versions/<id:version_id>/acknowledge")
@permission_required(Permission.SELL)
def acknowledge_POST(product_id: int, version_id: int):
    return _version_action(
        product_id,
        version_id,
        lambda version: services.acknowledge_findings(current_user, version),
        "The findings of version {label} are acknowledged.",
    )


@bp.post("/vendor/products/<id:product_id>/versions/<id:version_id>/yank")
@permission_required(Permission.SELL)
def yank_POST(product_id: int, version_id: int):
    version = services.get_version(current_user, product_id, version_id)
    form = YankForm()
    if not form.validate_on_submit():
        return render(
            "assets/version.html",
            "yank_form",
            status=INVALID,
            version=version,
            product=version.product,
            confirm=ConfirmForm(),
            yank_form=form,
            is_owner=services.is_owner(current_user, version.product),
        )
    services.yank_version(current_user, version, form.reason.data or "")
    db.session.commit()
    flash(f"Version {version.label} is withdrawn.", "success")
    return redirect_to(url_for("assets.versions_GET", product_id=product_id))


@bp.post("/vendor/products/<id:product_id>/versions/<id:version_id>/delete")
@permission_required(Permission.SELL)
def delete_POST(product_id: int, version_id: int):
    version = services.get_version(current_user, product_id, version_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    label = version.label
    services.delete_version(current_user, version, ip=request.remote_addr or "")
    db.session.commit()
    flash(f"Version {label} is deleted; its file no longer counts against your storage.", "success")
    return redirect_to(url_for("assets.versions_GET", product_id=product_id))


def _stream(key: str) -> Any:
    handle = get_storage().open(key)

    def chunks():
        with handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk

    return stream_with_context(chunks())


@bp.get("/vendor/products/<id:product_id>/versions/<id:version_id>/file")
@permission_required(Permission.SELL)
def file_GET(product_id: int, version_id: int):
    """The vendor's (or an admin's) own file, as an attachment under its safe name; only
    once its scan is clean (a quarantined or infected file reaches nobody)."""
    version = services.get_version(current_user, product_id, version_id)
    if not version.is_clean:
        raise NotFound("This file can be downloaded once its scan has found it clean.")
    response = Response(_stream(version.storage_key), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = content_disposition(version.filename)
    response.headers["Content-Length"] = str(version.size)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _svg(key: str, cache: str) -> Response:
    response = make_response(get_storage().read(key))
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/vendor/products/<id:product_id>/versions/<id:version_id>/preview.svg")
@permission_required(Permission.SELL)
def version_preview_GET(product_id: int, version_id: int):
    version = services.get_version(current_user, product_id, version_id)
    if not version.preview_key:
        abort(404)
    return _svg(version.preview_key, "private, no-store")


@bp.get("/products/<slug>/preview.svg")
def preview_GET(slug: str):
    """The public preview: the current clean version of a live product, nothing else."""
    product = db.session.scalar(
        db.select(Product).where(Product.slug == slug, Product.status == ProductStatus.APPROVED)
    )
    version = services.current_version(product) if product is not None else None
    if version is None or not version.preview_key:
        abort(404)
    return _svg(version.preview_key, "public, max-age=60")


# --- admin ----------------------------------------------------------------------------------


@bp.get("/admin/versions")
@permission_required(Permission.MODERATE)
def admin_versions_GET():
    status = request.args.get("status", "")
    if status not in {s.value for s in VersionStatus}:
        status = ""
    return render(
        "assets/admin.html",
        filter_status=status,
        versions=services.admin_versions(status or None),
        statuses=list(VersionStatus),
        confirm=ConfirmForm(),
    )


@bp.post("/admin/versions/<id:version_id>/rescan")
@permission_required(Permission.MODERATE)
def admin_rescan_POST(version_id: int):
    version = db.session.get(ProductVersion, version_id)
    if version is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.rescan_version(current_user, version)
    db.session.commit()
    flash(f"Version {version.label} of {version.product.title} will be scanned again.", "success")
    return redirect_to(url_for("assets.admin_versions_GET"))


@bp.post("/admin/versions/rescan")
@permission_required(Permission.MODERATE)
def admin_rescan_all_POST():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = services.rescan_all(current_user)
    db.session.commit()
    flash(f"{count} version(s) will be scanned again.", "success")
    return redirect_to(url_for("assets.admin_versions_GET"))
