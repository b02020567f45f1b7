"""Upload intake: the body streamed under a limit and hashed, the type told by content."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from app.assets.intake import (
    ALL_KINDS,
    CHUNK_SIZE,
    FileKind,
    UnsupportedFileType,
    UploadRejected,
    UploadTooLarge,
    download_name,
    receive_upload,
    save_upload,
)
from app.n8n import Limits
from app.storage import LocalStorage
from tests.assets.samples import (
    bundle,
    exe_bytes,
    office_bytes,
    pdf_bytes,
    workflow_bytes,
    zip_bytes,
)


class Endless(io.RawIOBase):
    """A body that never ends, counting every byte handed out."""

    def __init__(self) -> None:
        self.handed_out = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size > 0, "a read without a size would never return"
        self.handed_out += size
        return b"a" * size


def receive(data: bytes, filename: str, max_bytes: int = 10**6, **kwargs):
    return receive_upload(io.BytesIO(data), filename, max_bytes, **kwargs)


@pytest.fixture
def tmp_dir(tmp_path):
    """A private temporary folder, to check that nothing is left behind in it."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    yield folder
    assert list(folder.iterdir()) == [], "an upload's temporary file was left behind"


def test_body_is_cut_off_one_byte_past_the_limit(tmp_dir):
    source = Endless()
    receiving = receive_upload(source, "big.json", 3 * CHUNK_SIZE + 5, tmp_dir=tmp_dir)
    with pytest.raises(UploadTooLarge) as caught, receiving:
        pass
    assert source.handed_out == 3 * CHUNK_SIZE + 6
    assert caught.value.status == 413
    assert "192 kB" in caught.value.message


def test_a_body_of_exactly_the_limit_is_accepted(tmp_dir):
    data = b"# Notes\n" + b"x" * 992
    with receive(data, "notes.md", max_bytes=len(data), tmp_dir=tmp_dir) as upload:
        assert upload.size == len(data)


def test_hash_size_and_temporary_file(tmp_dir):
    data = bundle()
    with receive(data, "bundle.zip", tmp_dir=tmp_dir) as upload:
        assert upload.kind is FileKind.ZIP
        assert upload.size == len(data)
        assert upload.sha256 == hashlib.sha256(data).hexdigest()
        assert upload.path.parent == tmp_dir and upload.path.read_bytes() == data
        with upload.open() as handle:
            assert handle.read() == data
    assert not upload.path.exists()


def test_the_temporary_file_goes_when_the_block_fails(tmp_dir):
    seen = []
    with pytest.raises(RuntimeError), receive(pdf_bytes(), "guide.pdf", tmp_dir=tmp_dir) as upload:
        seen.append(upload.path)
        raise RuntimeError("the database refused the row")
    assert seen and not seen[0].exists()


def test_a_werkzeug_file_storage_stream(tmp_dir):
    storage = FileStorage(io.BytesIO(workflow_bytes()), filename="flow.json")
    with receive_upload(storage.stream, storage.filename, 10**6, tmp_dir=tmp_dir) as upload:
        assert upload.kind is FileKind.WORKFLOW
        assert upload.content_type == "application/json"


@pytest.mark.parametrize(
    ("data", "filename", "kind", "download"),
    [
        (workflow_bytes(), "flow.json", FileKind.WORKFLOW, "flow.json"),
        (b"\xef\xbb\xbf" + workflow_bytes(), "flow.json", FileKind.WORKFLOW, "flow.json"),
        # By content: a workflow named .txt is a workflow, and downloads as JSON.
        (workflow_bytes(), "flow.txt", FileKind.WORKFLOW, "flow.txt.json"),
        (b"[" + workflow_bytes() + b"]", "export", FileKind.WORKFLOW, "export.json"),
        (bundle(), "agent.zip", FileKind.ZIP, "agent.zip"),
        (bundle(), "agent.json", FileKind.ZIP, "agent.json.zip"),
        (pdf_bytes(), "guide.pdf", FileKind.PDF, "guide.pdf"),
        (pdf_bytes(), "guide.json", FileKind.PDF, "guide.json.pdf"),
        (office_bytes("word/document.xml"), "manual.docx", FileKind.DOCX, "manual.docx"),
        (b"# Guide\n\nSteps: *one*, two.\n", "README.md", FileKind.TEXT, "README.md"),
        (
            b"[![badge](https://x.test/b.svg)](https://x.test)\n",
            "README",
            FileKind.TEXT,
            "README.txt",
        ),
        ("Ünïcödé notes, tabs\tand\r\nCRLF\n".encode(), "notes.txt", FileKind.TEXT, "notes.txt"),
        (b"@echo off\r\necho hi\r\n", "run.bat", FileKind.TEXT, "run.bat.txt"),
        (b"plain", "../../etc/passwd", FileKind.TEXT, "passwd.txt"),
    ],
)
def test_kinds_are_told_by_content(tmp_dir, data, filename, kind, download):
    with receive(data, filename, tmp_dir=tmp_dir) as upload:
        assert upload.kind is kind
        assert upload.filename == download


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (exe_bytes(), "workflow.json", "Windows program"),
        (exe_bytes(), "guide.pdf", "Windows program"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "tool.json", "Linux program"),
        (b"\xcf\xfa\xed\xfe" + b"\x00" * 60, "tool.zip", "macOS program"),
        (b"#!/bin/sh\nrm -rf ~\n", "install.md", "script"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "bundle.zip", "gzip archive"),
        (b"Rar!\x1a\x07\x00" + b"\x00" * 40, "bundle.zip", "RAR archive"),
        (b"\x00" * 257 + b"ustar\x0000" + b"\x00" * 250, "bundle.zip", "tar archive"),
        (office_bytes("xl/workbook.xml"), "prices.xlsx", "Word documents"),
        (office_bytes("word/document.xml", "word/vbaProject.bin"), "m.docx", "macros"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "shot.png", "not accepted"),
        ("UTF-16 text".encode("utf-16"), "notes.txt", "UTF-8"),
        (b"text with a \x00 NUL", "notes.txt", "not accepted"),
        (b"latin-1 caf\xe9", "notes.txt", "not accepted"),
        (b"bell \x07 rings", "notes.txt", "not accepted"),
    ],
)
def test_programs_archives_and_binary_data_are_refused(tmp_dir, data, filename, says):
    with pytest.raises(UnsupportedFileType) as caught, receive(data, filename, tmp_dir=tmp_dir):
        pass
    assert caught.value.status == 415
    assert says in caught.value.message


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (b"", "empty.json", "empty"),
        (b'{"name": "no nodes"}', "flow.json", "not an n8n workflow"),
        (b"[1, 2, 3]", "numbers", "not an n8n workflow"),
        (workflow_bytes() + b"garbage", "flow.json", "not an n8n workflow"),
        (b"not json at all", "flow.json", "not an n8n workflow"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", "cut.pdf", "incomplete"),
        (b"PK\x03\x04" + b"\x00" * 60, "broken.zip", "damaged"),
        (b"PK\x05\x06" + b"\x00" * 18, "empty.zip", "empty"),
    ],
)
def test_damaged_or_misleading_content_is_rejected(tmp_dir, data, filename, says):
    with pytest.raises(UploadRejected) as caught, receive(data, filename, tmp_dir=tmp_dir):
        pass
    assert caught.value.status == 422
    assert says in caught.value.message


def test_a_workflow_error_says_where(tmp_dir):
    document = json.loads(workflow_bytes())
    document["nodes"] = {"not": "a list"}
    receiving = receive(json.dumps(document).encode(), "flow.json", tmp_dir=tmp_dir)
    with pytest.raises(UploadRejected, match="JSON pointer /nodes"), receiving:
        pass


def test_a_workflow_past_the_engine_limit_is_too_large(tmp_dir):
    limits = Limits(max_bytes=1000)
    receiving = receive(workflow_bytes(), "flow.json", workflow_limits=limits, tmp_dir=tmp_dir)
    with pytest.raises(UploadTooLarge, match="n8n workflow may be at most"), receiving:
        pass


def test_only_allowed_kinds_pass(tmp_dir):
    with (
        pytest.raises(UnsupportedFileType, match="A PDF is not accepted here"),
        receive(pdf_bytes(), "guide.pdf", allowed=frozenset({FileKind.WORKFLOW}), tmp_dir=tmp_dir),
    ):
        pass
    with receive(pdf_bytes(), "guide.pdf", allowed=ALL_KINDS, tmp_dir=tmp_dir) as upload:
        assert upload.kind is FileKind.PDF


def test_download_names_end_in_the_kind_extension():
    assert download_name("Flow.JSON", FileKind.WORKFLOW) == "Flow.JSON"
    assert download_name("", FileKind.ZIP) == "product.zip"
    assert download_name("a\u202egpj.exe", FileKind.PDF) == "agpj.exe.pdf"
    assert download_name("notes.markdown", FileKind.TEXT) == "notes.markdown"


def test_save_upload_stores_under_the_content_hash(tmp_path, tmp_dir):
    storage = LocalStorage(tmp_path / "storage", "k" * 40)
    data = bundle()
    with receive(data, "agent.zip", tmp_dir=tmp_dir) as upload:
        key = save_upload(upload, storage)
        assert save_upload(upload, storage) == key
    assert key == f"files/{hashlib.sha256(data).hexdigest()}"
    assert storage.read(key) == data


def test_default_temporary_folder_is_the_systems():
    with receive(pdf_bytes(), "guide.pdf") as upload:
        assert Path(tempfile.gettempdir()) == upload.path.parent


def test_zip_kind_does_not_inspect_entries(tmp_dir):
    """A hostile bundle is still a zip at intake; app.assets.archive judges its entries."""
    data = zip_bytes([("../../escape.sh", b"echo gotcha\n")])
    with receive(data, "bundle.zip", tmp_dir=tmp_dir) as upload:
        assert upload.kind is FileKind.ZIP
