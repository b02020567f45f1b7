"""One storage interface for files: a local folder by default, S3 when configured."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    has_request_context,
    make_response,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.utils import secure_filename

from app.config import ConfigError
from app.errors import DomainError, NotFound

_KEY = re.compile(r"^[a-z0-9][a-z0-9/_.-]{0,250}$")
# Files move in pieces of this size: a product file is never held whole in memory.
CHUNK_SIZE = 64 * 1024
# A download link works for at most this long (S3 presigned or app-signed).
MAX_DOWNLOAD_SECONDS = 300
# Characters that never reach a Content-Disposition filename: quotes and separators, plus
# (by Unicode category) controls, format characters such as U+202E RIGHT-TO-LEFT OVERRIDE
# that make "txt.exe" read "exe.txt", and line or paragraph separators.
_UNSAFE_NAME = re.compile(r'["\\/]')
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MAX_NAME = 150


class StorageError(DomainError):
    status = 503
    message = (
        "File storage is not available right now, so nothing was saved. "
        "Please try again in a few minutes."
    )


class StoredFileMissing(NotFound):
    message = "That file is no longer in storage."


class DownloadLinkInvalid(NotFound):
    message = "This download link is not valid. Go back and ask for a new one."


class DownloadLinkExpired(DomainError):
    status = 410
    message = "This download link has expired. Go back and ask for a new one."


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    """What both backends do; keys are made by the app (see check_key)."""

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        """Write ``source`` (read in chunks) under ``key``; raise StorageError on failure."""

    def put_path(self, key: str, path: str | Path, content_type: str) -> None:
        """Write the file at ``path`` (an upload's temporary file) under ``key``."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write small ``data`` (images, previews) under ``key``."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary file to read in chunks; raise StoredFileMissing."""

    def read(self, key: str) -> bytes:
        """The whole file: only for small files (images, previews)."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes; raise StoredFileMissing."""

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is not there."""

    def download_url(self, key: str, filename: str, expires_in: int = MAX_DOWNLOAD_SECONDS) -> str:
        """A link that downloads ``key`` as ``filename`` for ``expires_in`` seconds."""

    def list_keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        """(key, last modified as a POSIX time) of every file whose key starts ``prefix/``."""


def check_key(key: str) -> str:
    """Keys are made by the app (content hashes), never taken from users; refuse anything odd."""
    if not _KEY.match(key) or ".." in key or "//" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def content_key(prefix: str, data: bytes, suffix: str) -> str:
    return hashed_key(prefix, hashlib.sha256(data).hexdigest(), suffix)


def hashed_key(prefix: str, sha256: str, suffix: str = "") -> str:
    """The key of content whose SHA-256 (hex) is ``sha256``."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return check_key(f"{prefix}/{sha256}{suffix}")


def store_stream(
    prefix: str,
    source: BinaryIO,
    content_type: str,
    suffix: str = "",
    storage: Storage | None = None,
) -> StoredFile:
    """Stream ``source`` into storage under its content hash; return where it went.

    The body is spooled to a temporary file while hashing (the key needs the hash before
    the upload starts), then written once; content already stored is not written again.
    """
    storage = storage or get_storage()
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(prefix="store-") as spool:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        spool.flush()
        key = hashed_key(prefix, digest.hexdigest(), suffix)
        if not storage.exists(key):
            storage.put_path(key, spool.name, content_type)
    return StoredFile(key, size, digest.hexdigest())


def safe_filename(filename: str, fallback: str = "download") -> str:
    """``filename`` without directories, control characters, quotes or separators."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    name = _UNSAFE_NAME.sub("", name).strip().lstrip(".").strip()
    if len(name) > _MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 16 else ""
        name = name[: _MAX_NAME - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name or fallback


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition header (RFC 6266) with an ASCII fallback and RFC 5987 filename*."""
    if disposition not in ("attachment", "inline"):
        raise ValueError("disposition must be attachment or inline")
    name = safe_filename(filename)
    ascii_name = secure_filename(name) or "download"
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def _check_expiry(expires_in: int) -> int:
    if not 0 < expires_in <= MAX_DOWNLOAD_SECONDS:
        raise ValueError(f"a download link lasts 1 to {MAX_DOWNLOAD_SECONDS} seconds")
    return expires_in


class DownloadSigner:
    """App-signed download tokens: key, filename and expiry, signed with the secret key."""

    def __init__(self, secret_key: str):
        self._serializer = URLSafeSerializer(secret_key, salt="storage.download")

    def sign(self, key: str, filename: str, expires_in: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + _check_expiry(expires_in))
        return self._serializer.dumps({"k": check_key(key), "f": filename, "e": expires})

    def verify(self, token: str, now: float | None = None) -> tuple[str, str]:
        """(key, filename) of a valid token; raise DownloadLinkInvalid or DownloadLinkExpired."""
        try:
            payload = self._serializer.loads(token)
        except BadSignature as exc:
            raise DownloadLinkInvalid() from exc
        if not isinstance(payload, dict) or not {"k", "f", "e"} <= payload.keys():
            raise DownloadLinkInvalid()
        if (time.time() if now is None else now) > payload["e"]:
            raise DownloadLinkExpired()
        return payload["k"], payload["f"]


class LocalStorage:
    """Files under one folder; writes are atomic (temp file then rename)."""

    def __init__(self, root: str | Path, secret_key: str):
        self.root = Path(root)
        self.signer = DownloadSigner(secret_key)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        target = self.path(key)
        tmp: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as handle:
                while chunk := source.read(CHUNK_SIZE):
                    handle.write(chunk)
            os.replace(tmp, target)
        except OSError as exc:
            raise StorageError() from exc
        finally:
            if tmp is not None:  # gone after the rename; left over after a failure
                Path(tmp).unlink(missing_ok=True)

    def put_path(self, key: str, path: str | Path, content_type: str) -> None:
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed below; OSError maps to StorageError
        except OSError as exc:
            raise StorageError() from exc
        with source:
            self.put_file(key, source, content_type)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.put_file(key, io.BytesIO(data), content_type)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StoredFileMissing() from exc

    def read(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as exc:
            raise StoredFileMissing() from exc

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def list_keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        folder = self.path(prefix)
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):  # "." : a write under way
                yield path.relative_to(self.root).as_posix(), path.stat().st_mtime

    def download_url(self, key: str, filename: str, expires_in: int = MAX_DOWNLOAD_SECONDS) -> str:
        token = self.signer.sign(key, filename, expires_in)
        if has_request_context():
            return url_for("downloads.file_GET", token=token, _external=True)
        # A job has no request to take the host from: BASE_URL is the public address.
        base_url = current_app.config["APP_CONFIG"].base_url
        with current_app.test_request_context(base_url=base_url):
            return url_for("downloads.file_GET", token=token, _external=True)


class S3Storage:
    """Objects in one S3 (or S3-compatible) bucket; downloads through presigned GETs."""

    def __init__(self, bucket: str, client: Any):
        # boto3 takes about a third of a second and 10 MB to import: only S3 set-ups pay.
        from boto3.exceptions import S3UploadFailedError
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.client = client
        self._failures = (BotoCoreError, ClientError, S3UploadFailedError, OSError)
        # Large files go up in 16 MiB parts, a few at a time, each read from the disk as it
        # is sent.
        self.transfer = TransferConfig(
            multipart_threshold=16 * 1024 * 1024,
            multipart_chunksize=16 * 1024 * 1024,
            max_concurrency=4,
        )

    @classmethod
    def connect(cls, bucket: str, endpoint_url: str | None, region: str | None) -> S3Storage:
        """A client from boto3's own chain (AWS_* variables, shared files, instance roles)."""
        import boto3
        from botocore.config import Config as BotoConfig

        config = BotoConfig(
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
            # S3-compatible servers (MinIO, moto, Ceph) answer on one host, not per bucket.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        session = boto3.session.Session()
        client = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        return cls(bucket, client)

    def _missing(self, error: ClientError) -> bool:
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        # s3transfer reads each multipart part of a stream into memory (it can only seek a
        # file it opens itself), so a stream goes to disk first and up from there.
        with tempfile.NamedTemporaryFile(prefix="s3-") as spool:
            while chunk := source.read(CHUNK_SIZE):
                spool.write(chunk)
            spool.flush()
            self.put_path(key, spool.name, content_type)

    def put_path(self, key: str, path: str | Path, content_type: str) -> None:
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                check_key(key),
                ExtraArgs={"ContentType": content_type},
                Config=self.transfer,
            )
        except self._failures as exc:
            raise StorageError() from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.put_file(key, io.BytesIO(data), content_type)

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise StoredFileMissing() from exc
            raise StorageError() from exc
        except BotoCoreError as exc:
            raise StorageError() from exc
        return response["Body"]

    def read(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise StorageError() from exc
        except BotoCoreError as exc:
            raise StorageError() from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StoredFileMissing()
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError() from exc

    def list_keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=check_key(prefix) + "/"):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"].timestamp()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError() from exc

    def download_url(self, key: str, filename: str, expires_in: int = MAX_DOWNLOAD_SECONDS) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": check_key(key),
                "ResponseContentDisposition": content_disposition(filename),
                "ResponseContentType": "application/octet-stream",
            },
            ExpiresIn=_check_expiry(expires_in),
        )


def init_app(app: Flask) -> None:
    """Pick the backend from the settings once, at start-up: S3 when S3_BUCKET is set."""
    config = app.config["APP_CONFIG"]
    if config.s3_endpoint_url and not config.s3_bucket:
        raise ConfigError("S3_ENDPOINT_URL is set but S3_BUCKET is not: name the bucket too.")
    storage: Storage
    if config.s3_bucket:
        storage = S3Storage.connect(config.s3_bucket, config.s3_endpoint_url, config.s3_region)
    else:
        storage = LocalStorage(config.storage_dir, app.config["SECRET_KEY"])
    app.extensions["storage"] = storage


def get_storage() -> Storage:
    return current_app.extensions["storage"]


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
