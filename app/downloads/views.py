"""The route behind app-signed download links (the local storage backend's presigned URLs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flask import Blueprint, Response, current_app

from app.downloads.services import open_download
from app.storage import CHUNK_SIZE, content_disposition

bp = Blueprint("downloads", __name__)


@bp.get("/downloads/<token>")
def file_GET(token: str):
    download = open_download(token, current_app.config["SECRET_KEY"])
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
