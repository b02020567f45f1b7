"""Storage: one suite run against the local folder and against S3 (moto's server on loopback).

Each backend sits behind an app of its own, picked by configuration as in production, and
served over HTTP so that download links are fetched by a real client.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from flask import Flask
from werkzeug.http import parse_options_header

from app import create_app
from app.config import ConfigError
from app.storage import (
    CHUNK_SIZE,
    MAX_DOWNLOAD_SECONDS,
    DownloadLinkExpired,
    DownloadLinkInvalid,
    DownloadSigner,
    LocalStorage,
    S3Storage,
    StorageError,
    StoredFileMissing,
    content_disposition,
    hashed_key,
    safe_filename,
    store_stream,
)
from tests.conftest import local_env
from tests.support.services import MotoServer, live_server


@dataclass
class Backend:
    name: str
    app: Flask
    base_url: str

    @property
    def storage(self):
        return self.app.extensions["storage"]


@pytest.fixture(scope="module", params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Backend]:
    tmp = tmp_path_factory.mktemp(f"storage-{request.param}")
    overrides: dict[str, str] = {}
    if request.param == "s3":
        server: MotoServer = request.getfixturevalue("s3_server")
        bucket = f"test-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket=bucket)
        overrides = {"S3_BUCKET": bucket, "S3_ENDPOINT_URL": server.url}
    app = create_app(env=local_env(tmp, **overrides))
    with live_server(app) as base_url:
        yield Backend(request.param, app, base_url)


@pytest.fixture
def storage(backend: Backend):
    with backend.app.test_request_context(base_url=backend.base_url):
        yield backend.storage


def unique(size: int = 1000) -> bytes:
    """Content no other test stores (keys are content hashes)."""
    return (uuid.uuid4().hex.encode() * (size // 32 + 1))[:size]


class CountingReader(io.RawIOBase):
    """A file object that records how much each read asked for."""

    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)
        self.requests: list[int] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.requests.append(len(buffer))
        chunk = self.inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def read(self, size: int = -1) -> bytes:
        self.requests.append(size)
        return self.inner.read(size)


def test_backend_is_picked_by_configuration(backend):
    expected = S3Storage if backend.name == "s3" else LocalStorage
    assert type(backend.storage) is expected


def test_put_open_exists_size_delete(storage):
    data = unique(3 * CHUNK_SIZE + 17)
    key = f"files/{hashlib.sha256(data).hexdigest()}"
    assert not storage.exists(key)
    storage.put_file(key, io.BytesIO(data), "application/zip")
    assert storage.exists(key)
    assert storage.size(key) == len(data)
    with storage.open(key) as handle:
        chunks = list(iter(lambda: handle.read(CHUNK_SIZE), b""))
    assert b"".join(chunks) == data
    assert len(chunks) == 4 and max(map(len, chunks)) <= CHUNK_SIZE
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting what is gone is no error
    with pytest.raises(StoredFileMissing):
        storage.open(key)
    with pytest.raises(StoredFileMissing):
        storage.size(key)


def test_list_keys_names_every_file_under_a_prefix_with_its_age(storage):
    prefix = f"versions/list-{uuid.uuid4().hex[:8]}"
    keys = [f"{prefix}/files/{hashlib.sha256(str(n).encode()).hexdigest()}" for n in range(3)]
    for key in keys:
        storage.put(key, b"x", "application/octet-stream")
    storage.put(f"{prefix}x/other", b"y", "application/octet-stream")  # a sibling prefix
    listed = dict(storage.list_keys(prefix))
    assert sorted(listed) == sorted(keys)
    assert all(abs(modified - time.time()) < 120 for modified in listed.values())
    assert list(storage.list_keys(f"{prefix}/none")) == []


def test_store_stream_keys_by_content_hash(storage):
    data = unique(200_000)
    stored = store_stream("files", io.BytesIO(data), "application/pdf", storage=storage)
    digest = hashlib.sha256(data).hexdigest()
    assert stored.key == f"files/{digest}" == hashed_key("files", digest)
    assert (stored.size, stored.sha256) == (len(data), digest)
    assert storage.read(stored.key) == data
    # The same content again lands on the same key.
    assert store_stream("files", io.BytesIO(data), "application/pdf", storage=storage) == stored


def test_put_reads_the_source_in_chunks(storage, backend):
    data = unique(5 * CHUNK_SIZE)
    source = CountingReader(data)
    stored = store_stream("files", source, "application/zip", storage=storage)
    assert storage.size(stored.key) == len(data)
    assert all(0 < size <= CHUNK_SIZE for size in source.requests)


def _large_file(path, size: int) -> str:
    block = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
            digest.update(block)
    return digest.hexdigest()


def _peak(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("how", ["path", "stream"])
def test_a_large_file_never_sits_in_memory(storage, tmp_path, how):
    """40 MiB in (multipart on S3) and back out, the Python heap staying small."""
    size = 40 * 1024 * 1024
    digest = _large_file(tmp_path / "big", size)
    key = hashed_key("files", digest)

    def put() -> None:
        if how == "path":
            storage.put_path(key, tmp_path / "big", "application/zip")
        else:
            with open(tmp_path / "big", "rb") as source:
                storage.put_file(key, source, "application/zip")

    read_back = hashlib.sha256()

    def read() -> None:
        with storage.open(key) as handle:
            while chunk := handle.read(CHUNK_SIZE):
                read_back.update(chunk)

    put_peak, read_peak = _peak(put), _peak(read)
    assert read_back.hexdigest() == digest
    assert put_peak < 8e6, f"put: peak {put_peak / 1e6:.1f} MB for 40 MiB"
    assert read_peak < 2e6, f"read: peak {read_peak / 1e6:.1f} MB for 40 MiB"
    storage.delete(key)


def test_download_url_serves_the_bytes_as_an_attachment(storage, backend):
    data = unique(150_000)
    stored = store_stream("files", io.BytesIO(data), "application/json", storage=storage)
    url = storage.download_url(stored.key, 'Résumé "final"\r\nX-Evil: 1.json')
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == data
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "X-Evil:" not in header.split(";")[0]
    value, params = parse_options_header(header)
    assert value == "attachment"
    # werkzeug reads filename* (RFC 5987) over the ASCII fallback.
    assert params["filename"] == "Résumé finalX-Evil: 1.json"
    assert 'filename="Resume_finalX-Evil_1.json"' in header
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert "X-Evil" not in response.headers


def test_download_url_lasts_at_most_five_minutes(storage, backend):
    stored = store_stream("files", io.BytesIO(unique()), "text/plain", storage=storage)
    with pytest.raises(ValueError):
        storage.download_url(stored.key, "a.txt", expires_in=MAX_DOWNLOAD_SECONDS + 1)
    with pytest.raises(ValueError):
        storage.download_url(stored.key, "a.txt", expires_in=0)
    url = storage.download_url(stored.key, "a.txt", expires_in=60)
    if backend.name == "s3":
        assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["60"]
    else:
        token = urlsplit(url).path.rsplit("/", 1)[1]
        signer = DownloadSigner(backend.app.config["SECRET_KEY"])
        assert signer.verify(token, now=time.time() + 59) == (stored.key, "a.txt")
        with pytest.raises(DownloadLinkExpired):
            signer.verify(token, now=time.time() + 61)


def test_a_write_that_fails_raises_and_leaves_nothing(backend, tmp_path):
    data = unique()
    key = hashed_key("files", hashlib.sha256(data).hexdigest())
    if backend.name == "s3":
        broken = S3Storage(f"missing-{uuid.uuid4().hex[:10]}", backend.storage.client)
    else:
        root = tmp_path / "root"
        root.write_text("a file where the folder should be")
        broken = LocalStorage(root, "k" * 40)
    with pytest.raises(StorageError) as caught:
        broken.put_file(key, io.BytesIO(data), "application/zip")
    assert caught.value.status == 503
    assert "nothing was saved" in caught.value.message
    assert not backend.storage.exists(key)


def test_local_write_failure_midway_leaves_no_temporary_file(tmp_path):
    storage = LocalStorage(tmp_path, "k" * 40)

    class Failing(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk went away")
            return b"x" * size

    with pytest.raises(StorageError):
        storage.put_file("files/" + "a" * 64, Failing(), "application/zip")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_media_routes_serve_from_the_configured_backend(backend):
    from PIL import Image

    from app.images import store_image

    out = io.BytesIO()
    Image.new("RGB", (80, 60), tuple(os.urandom(3))).save(out, format="PNG")
    with backend.app.app_context():
        key = store_image("products", out.getvalue(), 5 * 1024 * 1024, (64, 64))
    response = requests.get(f"{backend.base_url}/media/{key}", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_s3_settings_refuse_an_endpoint_without_a_bucket(tmp_path):
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        create_app(env=local_env(tmp_path, S3_ENDPOINT_URL="http://127.0.0.1:9"))


# The local backend's signed links, through the route that serves them.


def test_signed_link_route_checks_the_signature(tmp_path):
    app = create_app(env=local_env(tmp_path))
    client = app.test_client()
    data = unique(3 * CHUNK_SIZE)
    with app.test_request_context():
        stored = store_stream("files", io.BytesIO(data), "application/zip")
        url = app.extensions["storage"].download_url(stored.key, "bundle.zip")
    path = urlsplit(url).path
    response = client.get(path)
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers
    # One character changed in the signature: not a link we made. Not the last character:
    # its low bits are base64 padding, so some changes there decode to the same bytes.
    tampered = path[:-2] + ("A" if path[-2] != "A" else "B") + path[-1]
    response = client.get(tampered)
    assert response.status_code == 404
    assert DownloadLinkInvalid.message in response.get_data(as_text=True)
    # Signed with another key.
    other = DownloadSigner("z" * 40).sign(stored.key, "bundle.zip", 60)
    assert client.get(f"/downloads/{other}").status_code == 404


def test_signed_link_route_refuses_an_expired_link_and_a_missing_file(tmp_path):
    app = create_app(env=local_env(tmp_path))
    client = app.test_client()
    signer = DownloadSigner(app.config["SECRET_KEY"])
    expired = signer.sign("files/" + "b" * 64, "x.zip", 60, now=time.time() - 120)
    response = client.get(f"/downloads/{expired}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    missing = signer.sign("files/" + "c" * 64, "x.zip", 60)
    assert client.get(f"/downloads/{missing}").status_code == 404


# Content-Disposition on its own.


@pytest.mark.parametrize(
    ("name", "ascii_name", "full"),
    [
        ("bundle.zip", "bundle.zip", "bundle.zip"),
        ("../../etc/passwd", "passwd", "passwd"),
        ("C:\\Users\\me\\evil.json", "evil.json", "evil.json"),
        ('a"b.pdf', "ab.pdf", "ab.pdf"),
        ("line\r\nSet-Cookie: x=1.txt", "lineSet-Cookie_x1.txt", "lineSet-Cookie: x=1.txt"),
        ("résumé 2024.pdf", "resume_2024.pdf", "résumé 2024.pdf"),
        ("日本語.json", "json", "日本語.json"),
        ("😀", "download", "😀"),
        ("..", "download", "download"),
        ("", "download", "download"),
        (".htaccess", "htaccess", "htaccess"),
        ("a\u202ereversed.txt", "areversed.txt", "areversed.txt"),
    ],
)
def test_content_disposition_is_safe(name, ascii_name, full):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header
    assert header.isascii()
    value, params = parse_options_header(header)
    assert value == "attachment"
    assert params["filename"] == full
    assert f'filename="{ascii_name}"' in header
    assert '"' not in header.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in full and "\\" not in full


def test_long_names_are_cut_keeping_the_extension():
    name = safe_filename("x" * 400 + ".json")
    assert len(name) <= 150 and name.endswith(".json")


def test_content_disposition_refuses_other_dispositions():
    with pytest.raises(ValueError):
        content_disposition("a.txt", "attachment; evil")
