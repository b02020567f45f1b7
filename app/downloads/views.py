"""Download routes: the click that checks a licence and hands out a short-lived link, the
account-bound links it makes for local storage, and storage's own app-signed links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flask import Blueprint, Response, abort, current_app, redirect
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.downloads import models as models  # noqa: F401  (the tables, for the app's metadata)
from app.downloads.services import Download, open_download, open_licensed_download, start_download
from app.extensions import db
from app.storage import CHUNK_SIZE, content_disposition

bp = Blueprint("downloads", __name__)


@bp.post("/library/<id:licence_id>/download")
@login_required
def start_POST(licence_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    url = start_download(current_user, licence_id, current_app.config["SECRET_KEY"])
    db.session.commit()
    # A plain redirect even for htmx: the browser follows it to the file, never into a div.
    response = redirect(url, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/library/downloads/<token>")
@login_required
def licensed_GET(token: str):
    return _stream(open_licensed_download(token, current_user, current_app.config["SECRET_KEY"]))


@bp.get("/downloads/<token>")
def file_GET(token: str):
    return _stream(open_download(token, current_app.config["SECRET_KEY"]))


def _stream(download: Download) -> Response:
    response = Response(
        _chunks(download.handle), mimetype="application/octet-stream", direct_passthrough=True
    )
    response.content_length = download.size
    response.headers["Content-Disposition"] = content_disposition(download.filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    # Closed at the end of the file, or by the server's close() when the client goes away.
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
