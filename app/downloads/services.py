"""Opening a signed download: the link's signature and expiry are the only checks (for now)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from app.storage import DownloadSigner, get_storage


@dataclass
class Download:
    handle: BinaryIO
    filename: str
    size: int


def open_download(token: str, secret_key: str) -> Download:
    """The stored file an app-signed link names, opened for streaming.

    Raises DownloadLinkInvalid (bad or altered token), DownloadLinkExpired and
    StoredFileMissing. Who may download is decided before the link is made, not here.
    """
    key, filename = DownloadSigner(secret_key).verify(token)
    storage = get_storage()
    size = storage.size(key)
    return Download(storage.open(key), filename, size)
