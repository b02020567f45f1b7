"""Zip bundles inspected before anything is extracted, and streamed entry by entry."""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import DomainError

CHUNK_SIZE = 64 * 1024
# Only these: deflate decompresses a bounded amount per read; bzip2 and LZMA in zipfile
# decompress a whole read at once, so one small read can fill memory.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
# Archives by their first bytes (tar's "ustar" sits at offset 257).
_ARCHIVE_MAGIC = (
    (0, b"PK\x03\x04", "zip"),
    (0, b"PK\x05\x06", "zip"),
    (0, b"\x1f\x8b", "gzip"),
    (0, b"BZh", "bzip2"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (0, b"Rar!\x1a\x07", "RAR"),
    (0, b"\xfd7zXZ\x00", "xz"),
    (0, b"\x28\xb5\x2f\xfd", "zstd"),
    (0, b"MSCF", "cabinet"),
    (257, b"ustar", "tar"),
)
_ARCHIVE_SUFFIXES = re.compile(
    r"\.(zip|jar|war|ear|apk|ipa|7z|rar|tar|tgz|tbz2?|txz|gz|bz2|xz|zst|lz|lzma|cab|iso|dmg)$",
    re.IGNORECASE,
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPECIAL = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What a bundle may hold. Ratios apply past ``ratio_floor`` bytes: a small file of
    repeated text may compress as well as it likes, a large one may not."""

    max_entries: int = 5_000
    max_total_size: int = 1024 * 1024 * 1024
    max_entry_size: int = 512 * 1024 * 1024
    max_ratio: float = 100.0
    max_total_ratio: float = 50.0
    ratio_floor: int = 1024 * 1024


DEFAULT_ZIP_LIMITS = ZipLimits()


@dataclass(frozen=True, slots=True)
class ZipEntry:
    name: str
    size: int
    compressed_size: int
    is_dir: bool


@dataclass(frozen=True, slots=True)
class ZipProblem:
    """One reason to refuse a bundle: a stable ``code`` and a sentence for the vendor."""

    code: str
    message: str
    entry: str | None = None


@dataclass(frozen=True, slots=True)
class ZipReport:
    entries: tuple[ZipEntry, ...] = ()
    total_size: int = 0
    compressed_size: int = 0
    problems: tuple[ZipProblem, ...] = field(default=())

    @property
    def is_safe(self) -> bool:
        return not self.problems

    @property
    def files(self) -> tuple[ZipEntry, ...]:
        return tuple(entry for entry in self.entries if not entry.is_dir)


class UnsafeZip(DomainError):
    status = 422
    message = "That zip bundle cannot be accepted."

    def __init__(self, report: ZipReport):
        shown = "; ".join(problem.message for problem in report.problems[:5])
        more = len(report.problems) - 5
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(f"That zip bundle cannot be accepted: {shown}.")
        self.report = report


def display_name(name: str) -> str:
    """An entry name fit to show: control characters replaced, at most 120 characters."""
    shown = _CONTROL.sub("?", name)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def inspect_zip(path: str | Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> ZipReport:
    """Every problem of the zip at ``path``, read from its directory and each entry's first
    bytes; nothing is extracted. An empty ``problems`` means the bundle may be scanned."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError) as exc:
        return ZipReport(
            problems=(ZipProblem("damaged", f"the file is not a readable zip ({exc})"),)
        )
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            return ZipReport(
                problems=(
                    ZipProblem(
                        "too_many_entries",
                        f"it holds {len(infos):,} entries; the limit is {limits.max_entries:,}",
                    ),
                )
            )
        problems: list[ZipProblem] = []
        entries: list[ZipEntry] = []
        seen: set[str] = set()
        for info in infos:
            entry = ZipEntry(info.filename, info.file_size, info.compress_size, info.is_dir())
            entries.append(entry)
            problems += _name_problems(info.filename, seen)
            problems += _entry_problems(archive, info, limits)
    total = sum(entry.size for entry in entries)
    compressed = sum(entry.compressed_size for entry in entries)
    if not any(not entry.is_dir for entry in entries):
        problems.append(ZipProblem("empty", "it holds no files"))
    if total > limits.max_total_size:
        problems.append(
            ZipProblem(
                "too_large",
                f"it unpacks to {total:,} bytes; the limit is {limits.max_total_size:,}",
            )
        )
    if total > limits.ratio_floor and total / max(compressed, 1) > limits.max_total_ratio:
        problems.append(
            ZipProblem(
                "total_compression_ratio",
                f"it unpacks to {total / max(compressed, 1):,.0f} times its packed size "
                f"(at most {limits.max_total_ratio:g}): it looks like a zip bomb",
            )
        )
    return ZipReport(tuple(entries), total, compressed, tuple(problems))


def _name_problems(name: str, seen: set[str]) -> list[ZipProblem]:
    shown = display_name(name)
    problems = []
    if _CONTROL.search(name):
        problems.append(
            ZipProblem("unsafe_name", f"{shown!r} has control characters in its name", name)
        )
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal):
        problems.append(ZipProblem("absolute_path", f"{shown!r} is an absolute path", name))
    if ".." in normal.split("/"):
        problems.append(
            ZipProblem(
                "path_traversal",
                f"{shown!r} points outside the folder it would be unpacked into",
                name,
            )
        )
    # Case-insensitive file systems (Windows, macOS) unpack these onto one file.
    folded = normal.rstrip("/").casefold()
    if folded in seen:
        problems.append(ZipProblem("duplicate_name", f"{shown!r} appears twice", name))
    seen.add(folded)
    return problems


def _entry_problems(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits
) -> list[ZipProblem]:
    name, shown = info.filename, display_name(info.filename)
    problems = []
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        problems.append(ZipProblem("symlink", f"{shown!r} is a symbolic link", name))
    elif kind in _SPECIAL:
        problems.append(ZipProblem("special_file", f"{shown!r} is {_SPECIAL[kind]}", name))
    encrypted = bool(info.flag_bits & 0x1)
    if encrypted:
        problems.append(
            ZipProblem("encrypted", f"{shown!r} is encrypted, so it cannot be scanned", name)
        )
    supported = info.compress_type in _METHODS
    if not supported:
        problems.append(
            ZipProblem(
                "unsupported_compression",
                f"{shown!r} uses a compression method we do not unpack (method "
                f"{info.compress_type}); re-pack the bundle with standard (deflate) compression",
                name,
            )
        )
    if info.file_size > limits.max_entry_size:
        problems.append(
            ZipProblem(
                "entry_too_large",
                f"{shown!r} unpacks to {info.file_size:,} bytes; the limit per file is "
                f"{limits.max_entry_size:,}",
                name,
            )
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
        problems.append(
            ZipProblem(
                "compression_ratio",
                f"{shown!r} unpacks to {ratio:,.0f} times its packed size (at most "
                f"{limits.max_ratio:g}): it looks like a zip bomb",
                name,
            )
        )
    if info.is_dir() or encrypted or not supported or kind == stat.S_IFLNK:
        return problems
    nested = _ARCHIVE_SUFFIXES.search(name)
    if nested is None and info.file_size:
        try:
            with archive.open(info) as handle:
                head = handle.read(512)
        except zipfile.BadZipFile as exc:
            problems.append(ZipProblem("damaged", f"{shown!r} cannot be read ({exc})", name))
            return problems
        nested = next(
            (label for offset, magic, label in _ARCHIVE_MAGIC if head[offset:].startswith(magic)),
            None,
        )
    if nested:
        problems.append(
            ZipProblem(
                "nested_archive",
                f"{shown!r} is an archive inside the bundle; put its files in the bundle itself",
                name,
            )
        )
    return problems


def iter_entries(
    path: str | Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS
) -> Iterator[tuple[ZipEntry, Iterator[bytes]]]:
    """(entry, its content in chunks) for each file of a safe bundle, for a virus scanner.

    Raises UnsafeZip before yielding anything when inspect_zip finds a problem. Each entry's
    chunks must be read (or dropped) before asking for the next entry; a damaged entry
    (bad CRC, truncated data) raises zipfile.BadZipFile while it is read.
    """
    report = inspect_zip(path, limits)
    if not report.is_safe:
        raise UnsafeZip(report)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            entry = ZipEntry(info.filename, info.file_size, info.compress_size, False)
            yield entry, _chunks(archive, info)


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    # zipfile stops at the declared size and checks the CRC at the end.
    with archive.open(info) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
