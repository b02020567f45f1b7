"""Files the asset tests upload and scan, crafted at run time: zips good and hostile, PDFs,
programs in disguise and the EICAR test file (assembled here, so that no copy of it sits in
the repository for a virus scanner on a developer's machine to trip over)."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from tests.n8n.helpers import fixture_bytes

EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"


def eicar() -> bytes:
    """The EICAR anti-virus test file (68 bytes), joined at run time: a constant would be
    folded whole into the compiled module."""
    return b"".join([b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"])


def workflow_bytes() -> bytes:
    return fixture_bytes("editor_download.json")


def pdf_bytes(body: str = "A short guide") -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% "
        + body.encode()
        + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def exe_bytes() -> bytes:
    """The start of a Windows PE file: the MZ header and the DOS stub's message."""
    header = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44
    return header + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21This program cannot be run in DOS mode."


def zip_bytes(
    entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]], method=zipfile.ZIP_DEFLATED
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def bundle() -> bytes:
    """A well-made bundle: agent code, a template, a workflow and a README in folders."""
    return zip_bytes(
        [
            ("agent/", b""),
            ("agent/main.py", b"print('hello from the agent')\n" * 40),
            ("agent/templates/prompt.md", b"# Prompt\n\nYou are a helpful agent.\n"),
            ("workflows/flow.json", workflow_bytes()),
            ("README.md", b"# Bundle\n\nUnzip and run `python agent/main.py`.\n"),
        ]
    )


def bomb(path: Path, size: int = 20 * 1024 * 1024) -> Path:
    """One entry of ``size`` zero bytes, deflated about a thousand times smaller."""
    block = b"\x00" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as entry,
    ):
        for _ in range(size // len(block)):
            entry.write(block)
    return path


def many_small_bombs(path: Path, count: int = 60) -> Path:
    """Entries each just under the per-entry ratio floor that together unpack to 60 MiB."""
    block = b"\x00" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(count):
            archive.writestr(f"part-{index:03d}.bin", block)
    return path


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def flag_encrypted(data: bytes) -> bytes:
    """``data`` (a zip) with every entry's general-purpose flag saying "encrypted" (bit 0), in
    its local header and in the central directory. zipfile cannot write encrypted entries."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = patched.find(signature)
        while start != -1:
            patched[start + offset] |= 0x1
            start = patched.find(signature, start + 4)
    return bytes(patched)


def office_bytes(part: str, *extra: str) -> bytes:
    entries = [("[Content_Types].xml", b"<Types/>"), (part, b"<document/>")]
    entries += [(name, b"\x00") for name in extra]
    return zip_bytes(entries)
