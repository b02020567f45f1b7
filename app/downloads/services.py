"""Downloads: the file a licence opens, entitlement and limits checked at the click, the log
and counters, and short-lived links (S3 presigned, or app-signed for one account)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from flask import url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select, update

from app.accounts.models import User
from app.assets.models import ProductVersion
from app.catalog.models import Product
from app.errors import Conflict, NotFound, PermissionDenied
from app.extensions import db
from app.licensing.models import Licence
from app.licensing.services import get_own_licence, require_usable
from app.outbox.services import record_event
from app.storage import (
    MAX_DOWNLOAD_SECONDS,
    DownloadLinkExpired,
    DownloadLinkInvalid,
    DownloadSigner,
    LocalStorage,
    Storage,
    check_key,
    get_storage,
)

from .models import DownloadLog


@dataclass
class Download:
    handle: BinaryIO
    filename: str
    size: int


class DownloadableFile(NamedTuple):
    key: str  # storage key
    filename: str  # the name the buyer's browser saves it under
    size: int  # bytes, as recorded on the version row
    version_label: str
    changelog: str = ""  # the version's changelog (Markdown source, shown as plain text)


class DownloadNotPermitted(PermissionDenied):
    message = "That licence does not include downloads."


class DownloadLimitReached(Conflict):
    message = "That licence has used all of its downloads."


class NothingToDownload(NotFound):
    message = (
        "No file is available for that product yet: its vendor has not published a checked version."
    )


class DownloadLinkNotYours(NotFound):
    message = (
        "This download link was made for another account. Open your library to download "
        "your own copy."
    )


def open_download(token: str, secret_key: str) -> Download:
    """The stored file an app-signed link names, opened for streaming.

    Raises DownloadLinkInvalid (bad or altered token), DownloadLinkExpired and
    StoredFileMissing. Who may download is decided before the link is made, not here.
    """
    key, filename = DownloadSigner(secret_key).verify(token)
    return _open(key, filename)


def _open(key: str, filename: str) -> Download:
    storage = get_storage()
    size = storage.size(key)
    return Download(storage.open(key), filename, size)


def _file_of(version: ProductVersion) -> DownloadableFile:
    return DownloadableFile(
        version.storage_key, version.filename, version.size, version.label, version.changelog_md
    )


def _is_downloadable(version: ProductVersion | None) -> bool:
    return version is not None and version.is_clean and not version.is_yanked


def downloadable_file(product: Product) -> DownloadableFile | None:
    """The file a licence for ``product`` downloads now: its current clean version, not
    withdrawn (storage key, original filename, recorded size, label); None when there is none
    yet. Nothing else stands in for it (never the listing's preview)."""
    if product.current_version_id is None:
        return None
    version = db.session.get(ProductVersion, product.current_version_id)
    return _file_of(version) if _is_downloadable(version) else None


def downloadable_files(products: Iterable[Product]) -> dict[int, DownloadableFile]:
    """downloadable_file for many products in one query, by product id (absent: no file).
    Sizes are those recorded on the version rows: no storage call per product."""
    current = {p.id: p.current_version_id for p in products if p.current_version_id is not None}
    if not current:
        return {}
    versions = db.session.scalars(
        select(ProductVersion).where(ProductVersion.id.in_(set(current.values())))
    )
    by_id = {v.id: v for v in versions if _is_downloadable(v)}
    return {
        product_id: _file_of(by_id[version_id])
        for product_id, version_id in current.items()
        if version_id in by_id
    }


class LicensedLinkSigner:
    """App-signed links for one account: key, filename, user and expiry, signed with the
    secret key (a different salt from storage's bearer links, so neither passes for the
    other)."""

    def __init__(self, secret_key: str):
        self._serializer = URLSafeSerializer(secret_key, salt="downloads.licensed")

    def sign(
        self, key: str, filename: str, user_id: int, expires_in: int, now: float | None = None
    ) -> str:
        if not 0 < expires_in <= MAX_DOWNLOAD_SECONDS:
            raise ValueError(f"a download link lasts 1 to {MAX_DOWNLOAD_SECONDS} seconds")
        expires = int((time.time() if now is None else now) + expires_in)
        return self._serializer.dumps(
            {"k": check_key(key), "f": filename, "u": user_id, "e": expires}
        )

    def verify(self, token: str, user_id: int, now: float | None = None) -> tuple[str, str]:
        """(key, filename) of a valid token made for ``user_id``; raise DownloadLinkInvalid,
        DownloadLinkExpired or DownloadLinkNotYours."""
        try:
            payload = self._serializer.loads(token)
        except BadSignature as exc:
            raise DownloadLinkInvalid() from exc
        if not isinstance(payload, dict) or not {"k", "f", "u", "e"} <= payload.keys():
            raise DownloadLinkInvalid()
        if (time.time() if now is None else now) > payload["e"]:
            raise DownloadLinkExpired()
        if payload["u"] != user_id:
            raise DownloadLinkNotYours()
        return payload["k"], payload["f"]


def open_licensed_download(token: str, user: User, secret_key: str) -> Download:
    """The file a link from start_download names, for the account it was made for.

    Raises DownloadLinkInvalid, DownloadLinkExpired, DownloadLinkNotYours and
    StoredFileMissing.
    """
    key, filename = LicensedLinkSigner(secret_key).verify(token, user.id)
    return _open(key, filename)


def _link(storage: Storage, file: DownloadableFile, user: User, secret_key: str) -> str:
    if isinstance(storage, LocalStorage):
        token = LicensedLinkSigner(secret_key).sign(
            file.key, file.filename, user.id, MAX_DOWNLOAD_SECONDS
        )
        return url_for("downloads.licensed_GET", token=token)
    # S3: a presigned GET with attachment disposition, valid MAX_DOWNLOAD_SECONDS.
    return storage.download_url(file.key, file.filename, MAX_DOWNLOAD_SECONDS)


def record_download(user: User, licence_id: int) -> DownloadableFile:
    """Check ``user``'s licence at the click and count one download of its file; the file.

    The licence must be the user's (else NotFound), usable (LicenceNotUsable: disabled,
    revoked, expired), include downloads (DownloadNotPermitted) and have downloads
    left (DownloadLimitReached, counted atomically so two clicks racing for the last one
    cannot both get it); the product must have a file (NothingToDownload). Writes a
    DownloadLog row, counts the download on the licence and the product, and records the
    outbox event download.initiated, all in the caller's transaction.
    """
    licence = get_own_licence(user, licence_id)
    require_usable(licence)
    if not licence.can_download:
        raise DownloadNotPermitted()
    product = licence.product
    file = downloadable_file(product)
    if file is None:
        raise NothingToDownload()
    counted = db.session.execute(
        update(Licence)
        .where(
            Licence.id == licence.id,
            or_(Licence.max_downloads.is_(None), Licence.download_count < Licence.max_downloads),
        )
        .values(download_count=Licence.download_count + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:
        raise DownloadLimitReached(
            f"That licence has used all of its {licence.max_downloads} downloads."
        )
    # A download is a statistic, not an edit: the product's updated_at stays as it was.
    db.session.execute(
        update(Product)
        .where(Product.id == product.id)
        .values(download_count=Product.download_count + 1, updated_at=Product.updated_at)
        .execution_options(synchronize_session=False)
    )
    log = DownloadLog(
        user_id=user.id,
        licence_id=licence.id,
        product_id=product.id,
        version_label=file.version_label[:40],
        storage_key=file.key,
        bytes=file.size,
    )
    db.session.add(log)
    db.session.flush()
    record_event(
        "download.initiated",
        download_id=log.id,
        licence_id=licence.id,
        product_id=product.id,
        user_id=user.id,
        version_label=log.version_label,
        bytes=file.size,
    )
    return file


def start_download(user: User, licence_id: int, secret_key: str) -> str:
    """record_download, then a short-lived link to the file (raises what it raises)."""
    file = record_download(user, licence_id)
    return _link(get_storage(), file, user, secret_key)
