"""Upload intake: a body streamed to a temporary file under a byte limit, hashed while it is
read, and typed by its content, never by its name.

Accepted kinds (the file's name plays no part in the decision):

* n8n workflow JSON: UTF-8 JSON that app.n8n.parse_workflow accepts (nodes and connections);
* zip bundle: a zip whose directory reads (its entries are checked by app.assets.archive);
* PDF: starts with ``%PDF-`` and has an ``%%EOF`` marker in its last kilobyte;
* Word document (.docx): a zip holding ``[Content_Types].xml`` and ``word/document.xml``,
  without macros (``vbaProject.bin``). Other Office files (.xlsx, .pptx) are refused: a
  shopper's spreadsheet app runs what a workbook asks for; export them to PDF;
* Markdown or plain text: valid UTF-8 without NUL or other control characters.

Programs (Windows ``MZ``, Linux ELF, macOS Mach-O, ``#!`` scripts) and other archives are
refused at once with a sentence saying what the file is. Code belongs in a zip bundle.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from app.errors import DomainError
from app.n8n import DEFAULT_LIMITS, Limits, WorkflowError, parse_workflow
from app.storage import Storage, hashed_key, safe_filename

CHUNK_SIZE = 64 * 1024
_HEAD = 8 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
# C0 controls a text document may hold: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = frozenset(b"\t\n\x0c\r")
_BINARY = frozenset(range(32)) - _TEXT_CONTROLS | {0x7F}
_PROGRAMS = (
    (b"MZ", "a Windows program (it starts with an MZ header)"),
    (b"\x7fELF", "a Linux program (ELF)"),
    (b"\xfe\xed\xfa\xce", "a macOS program (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "a macOS program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "a macOS program (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "a macOS program (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"#!", "a script (it starts with #!)"),
)
_OTHER_ARCHIVES = (
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"BZh", "a bzip2 archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"\xfd7zXZ\x00", "an xz archive"),
    (0, b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (257, b"ustar", "a tar archive"),
)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
ACCEPTED = (
    "an n8n workflow (.json), a zip bundle, a PDF, a Word document (.docx) or a Markdown or "
    "text file"
)


class UploadTooLarge(DomainError):
    status = 413
    message = "That file is larger than we accept."


class UnsupportedFileType(DomainError):
    status = 415
    message = f"That type of file is not accepted. Upload {ACCEPTED}."


class UploadRejected(DomainError):
    status = 422
    message = "That file could not be accepted."


class FileKind(StrEnum):
    WORKFLOW = "n8n_workflow"
    ZIP = "zip"
    PDF = "pdf"
    DOCX = "docx"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class KindInfo:
    label: str
    content_type: str
    # The first is added to a download name whose extension is not one of these.
    extensions: tuple[str, ...]


KINDS = {
    FileKind.WORKFLOW: KindInfo("n8n workflow", "application/json", (".json",)),
    FileKind.ZIP: KindInfo("zip bundle", "application/zip", (".zip",)),
    FileKind.PDF: KindInfo("PDF", "application/pdf", (".pdf",)),
    FileKind.DOCX: KindInfo(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    FileKind.TEXT: KindInfo(
        "text document", "text/plain; charset=utf-8", (".txt", ".md", ".markdown")
    ),
}
ALL_KINDS = frozenset(FileKind)


@dataclass(frozen=True, slots=True)
class Upload:
    """A received file, alive inside receive_upload's ``with`` block."""

    path: Path
    size: int
    sha256: str
    kind: FileKind
    # The name to download it as: the vendor's name made safe, ending in the kind's extension.
    filename: str

    @property
    def content_type(self) -> str:
        return KINDS[self.kind].content_type

    def open(self) -> BinaryIO:
        return self.path.open("rb")


def human_bytes(size: int) -> str:
    for unit, step in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= step:
            return f"{size / step:.3g} {unit}"
    return f"{size} bytes"


@contextmanager
def receive_upload(
    source: BinaryIO,
    filename: str,
    max_bytes: int,
    *,
    allowed: frozenset[FileKind] = ALL_KINDS,
    workflow_limits: Limits = DEFAULT_LIMITS,
    tmp_dir: str | Path | None = None,
) -> Iterator[Upload]:
    """Stream ``source`` to a temporary file and yield it as an Upload; the file is removed
    when the block ends, whatever happens.

    At most ``max_bytes + 1`` bytes are ever read: one byte past the limit proves the body
    too large, and the rest is never read. ``filename`` is kept only to name the download.
    Raises UploadTooLarge (413), UnsupportedFileType (415: a program, another archive,
    binary data, a kind not in ``allowed``) and UploadRejected (422: empty, a damaged zip or
    PDF, JSON that is not an n8n workflow).
    """
    fd, name = tempfile.mkstemp(prefix="upload-", dir=tmp_dir)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as sink:
            size, sha256 = _copy(source, sink, max_bytes)
        kind = detect_kind(path, size, filename, workflow_limits)
        if kind not in allowed:
            raise UnsupportedFileType(
                f"A {KINDS[kind].label} is not accepted here. Upload "
                + " or ".join(KINDS[k].label for k in FileKind if k in allowed)
                + "."
            )
        yield Upload(path, size, sha256, kind, download_name(filename, kind))
    finally:
        path.unlink(missing_ok=True)


def _copy(source: BinaryIO, sink: BinaryIO, max_bytes: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while size <= max_bytes:
        chunk = source.read(min(CHUNK_SIZE, max_bytes + 1 - size))
        if not chunk:
            break
        digest.update(chunk)
        sink.write(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise UploadTooLarge(f"That file is larger than the {human_bytes(max_bytes)} we accept.")
    if size == 0:
        raise UploadRejected("That file is empty.")
    return size, digest.hexdigest()


def download_name(filename: str, kind: FileKind) -> str:
    """The vendor's name made safe, with the kind's extension added when it has another one
    (so "notes.bat" that holds text downloads as "notes.bat.txt", never as a batch file)."""
    extensions = KINDS[kind].extensions
    name = safe_filename(filename, fallback="product")
    if not name.lower().endswith(extensions):
        name = safe_filename(name + extensions[0])
    return name


def detect_kind(
    path: Path, size: int, filename: str = "", workflow_limits: Limits = DEFAULT_LIMITS
) -> FileKind:
    """The kind of the file at ``path`` by its content. ``filename`` only picks the message
    for a file that claims to be JSON; it never makes a file acceptable."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
        handle.seek(max(0, size - 1024))
        tail = handle.read(1024)
    for magic, what in _PROGRAMS:
        if head.startswith(magic):
            raise UnsupportedFileType(f"That file is {what}; programs are not accepted.")
    if head.startswith(b"%PDF-"):
        if b"%%EOF" not in tail:
            raise UploadRejected("That PDF is incomplete (it has no end marker). Export it again.")
        return FileKind.PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    for offset, magic, what in _OTHER_ARCHIVES:
        if head[offset:].startswith(magic):
            raise UnsupportedFileType(f"That file is {what}; bundles are accepted as zip files.")
    if head.startswith(_WIDE_BOMS):
        raise UnsupportedFileType("That text file is UTF-16 or UTF-32; save it as UTF-8.")
    if not _is_utf8_text(path):
        raise UnsupportedFileType()
    start = head.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")[:1]
    claims_json = filename.lower().endswith(".json") or start == b"{"
    if claims_json or start == b"[" and _is_json(path, size, workflow_limits):
        _check_workflow(path, size, workflow_limits)
        return FileKind.WORKFLOW
    return FileKind.TEXT


def _zip_kind(path: Path) -> FileKind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UploadRejected("That zip file is damaged and cannot be opened.") from exc
    if not names:
        raise UploadRejected("That zip file is empty.")
    if "[Content_Types].xml" not in names:
        return FileKind.ZIP
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UnsupportedFileType("Office files with macros are not accepted.")
    if "word/document.xml" in names:
        return FileKind.DOCX
    raise UnsupportedFileType(
        "Office files other than Word documents (.docx) are not accepted; export them to PDF."
    )


def _is_utf8_text(path: Path) -> bool:
    """Valid UTF-8 throughout, with no NUL or other control characters but whitespace."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK_SIZE):
                if not _BINARY.isdisjoint(chunk):
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _is_json(path: Path, size: int, limits: Limits) -> bool:
    """Whether a text file that opens with "[" is JSON at all (Markdown often opens so)."""
    if size > limits.max_bytes:
        return True  # too large to be sure: refused as an oversize workflow
    try:
        json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return False
    return True


def _check_workflow(path: Path, size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise UploadTooLarge(
            f"An n8n workflow may be at most {human_bytes(limits.max_bytes)}; this one is "
            f"{human_bytes(size)}."
        )
    try:
        parse_workflow(path.read_bytes(), limits)
    except WorkflowError as exc:
        raise UploadRejected(f"That is not an n8n workflow we can read: {exc}.") from exc


def save_upload(upload: Upload, storage: Storage, prefix: str = "files") -> str:
    """Store ``upload`` under its content-hash key (once per content); return the key."""
    key = hashed_key(prefix, upload.sha256)
    if not storage.exists(key):
        storage.put_path(key, upload.path, upload.content_type)
    return key
