"""One storage interface for files: a local folder by default, S3 when configured."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Response, abort, current_app, make_response, url_for

_KEY = re.compile(r"^[a-z0-9][a-z0-9/_.-]{0,250}$")


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


def check_key(key: str) -> str:
    """Keys are made by the app (content hashes), never taken from users; refuse anything odd."""
    if not _KEY.match(key) or ".." in key or "//" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def content_key(prefix: str, data: bytes, suffix: str) -> str:
    return check_key(f"{prefix}/{hashlib.sha256(data).hexdigest()}{suffix}")


class LocalStorage:
    """Files under one folder; writes are atomic (temp file then rename)."""

    def __init__(self, root: str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def get_storage() -> Storage:
    storage = current_app.extensions.get("storage")
    if storage is None:
        storage = LocalStorage(current_app.config["APP_CONFIG"].storage_dir)
        current_app.extensions["storage"] = storage
    return storage


def send_stored(prefix: str, name: str, content_type: str) -> Response:
    """Serve an app-made file (content-hash name, so cacheable forever); 404 for anything else."""
    try:
        key = check_key(f"{prefix}/{name}")
    except ValueError:
        abort(404)
    storage = get_storage()
    if "/" in name or not storage.exists(key):
        abort(404)
    response = make_response(storage.read(key))
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    # Opened directly, a stored file is a document of its own: let it run nothing.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    return response


# Which route serves the files under each key prefix.
MEDIA_ENDPOINTS = {
    "avatars": "accounts.avatar_GET",
    "products": "catalog.media_GET",
    "previews": "catalog.preview_GET",
}


def media_url(key: str, external: bool = False) -> str:
    """The URL that serves stored file ``key`` ("products/<hash>.png" -> /media/products/...)."""
    prefix, name = key.split("/", 1)
    return url_for(MEDIA_ENDPOINTS[prefix], name=name, _external=external)
