"""Zip bundles: every hostile shape found before anything is extracted; safe ones streamed."""

from __future__ import annotations

import warnings
import zipfile

import pytest

from app.assets.archive import (
    UnsafeZip,
    ZipLimits,
    display_name,
    inspect_zip,
    iter_entries,
)
from tests.assets.samples import (
    bomb,
    bundle,
    flag_encrypted,
    many_small_bombs,
    symlink_info,
    workflow_bytes,
    write,
    zip_bytes,
)


def codes(report) -> set[str]:
    return {problem.code for problem in report.problems}


def test_a_well_made_bundle_is_safe_and_streams_entry_by_entry(tmp_path):
    path = write(tmp_path / "bundle.zip", bundle())
    report = inspect_zip(path)
    assert report.is_safe, report.problems
    assert [entry.name for entry in report.files] == [
        "agent/main.py",
        "agent/templates/prompt.md",
        "workflows/flow.json",
        "README.md",
    ]
    streamed = {entry.name: b"".join(chunks) for entry, chunks in iter_entries(path)}
    assert streamed["workflows/flow.json"] == workflow_bytes()
    assert streamed["agent/main.py"] == b"print('hello from the agent')\n" * 40
    assert "agent/" not in streamed


def test_large_entries_come_in_chunks(tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB that deflates poorly
    path = write(tmp_path / "big.zip", zip_bytes([("data.bin", data)]))
    sizes, pieces = [], []
    for entry, chunks in iter_entries(path):
        sizes.append(entry.size)
        pieces = list(chunks)
    assert len(pieces) > 1 and max(map(len, pieces)) <= 64 * 1024
    assert b"".join(pieces) == data and sizes == [len(data)]


def test_a_zip_bomb_is_found_from_the_directory_alone(tmp_path):
    path = bomb(tmp_path / "bomb.zip")
    assert path.stat().st_size < 100_000
    report = inspect_zip(path)
    assert {"compression_ratio", "total_compression_ratio"} <= codes(report)
    [problem] = [p for p in report.problems if p.code == "compression_ratio"]
    assert problem.entry == "zeros.bin" and "zip bomb" in problem.message
    with pytest.raises(UnsafeZip) as caught:
        next(iter_entries(path))
    assert caught.value.status == 422
    assert "zip bomb" in caught.value.message


def test_many_entries_each_under_the_floor_add_up_to_a_bomb(tmp_path):
    report = inspect_zip(many_small_bombs(tmp_path / "spread.zip"))
    assert codes(report) == {"total_compression_ratio"}


def test_size_and_count_limits(tmp_path):
    path = write(tmp_path / "wide.zip", zip_bytes([(f"f{i}.txt", b"x" * 100) for i in range(12)]))
    assert codes(inspect_zip(path, ZipLimits(max_entries=10))) == {"too_many_entries"}
    assert codes(inspect_zip(path, ZipLimits(max_total_size=1000))) == {"too_large"}
    assert codes(inspect_zip(path, ZipLimits(max_entry_size=99))) == {"entry_too_large"}
    assert inspect_zip(path).is_safe


@pytest.mark.parametrize(
    "name",
    ["../../etc/cron.d/evil", "agent/../../outside.py", "..\\..\\windows\\evil.dll", "a/.."],
)
def test_zip_slip_is_refused(tmp_path, name):
    path = write(tmp_path / "slip.zip", zip_bytes([("ok.txt", b"fine"), (name, b"gotcha")]))
    report = inspect_zip(path)
    assert "path_traversal" in codes(report)
    assert all(p.entry == name for p in report.problems)


@pytest.mark.parametrize("name", ["/etc/passwd", "\\windows\\system32\\evil.dll", "C:/evil.bat"])
def test_absolute_paths_are_refused(tmp_path, name):
    path = write(tmp_path / "abs.zip", zip_bytes([(name, b"gotcha")]))
    assert "absolute_path" in codes(inspect_zip(path))


def test_symlink_entries_are_refused(tmp_path):
    path = write(tmp_path / "link.zip", zip_bytes([(symlink_info("config"), b"/etc/shadow")]))
    report = inspect_zip(path)
    assert codes(report) == {"symlink"}
    assert "symbolic link" in report.problems[0].message


def test_encrypted_entries_are_refused(tmp_path):
    data = flag_encrypted(zip_bytes([("payload.bin", b"??")]))
    path = write(tmp_path / "secret.zip", data)
    assert zipfile.ZipFile(path).infolist()[0].flag_bits & 0x1
    assert codes(inspect_zip(path)) == {"encrypted"}


@pytest.mark.parametrize("name", ["inner.zip", "inner.bin", "docs/manual.docx"])
def test_nested_archives_are_refused_by_name_or_content(tmp_path, name):
    inner = zip_bytes([("deep.txt", b"hidden")])
    path = write(tmp_path / "nested.zip", zip_bytes([("README.md", b"# hi"), (name, inner)]))
    report = inspect_zip(path)
    assert codes(report) == {"nested_archive"}
    assert report.problems[0].entry == name


def test_a_gzip_inside_is_a_nested_archive(tmp_path):
    import gzip

    path = write(tmp_path / "gz.zip", zip_bytes([("data.dat", gzip.compress(b"x" * 100))]))
    assert codes(inspect_zip(path)) == {"nested_archive"}


def test_unsupported_compression_is_refused(tmp_path):
    path = write(tmp_path / "bz.zip", zip_bytes([("a.txt", b"x" * 100)], zipfile.ZIP_BZIP2))
    assert codes(inspect_zip(path)) == {"unsupported_compression"}


def test_duplicate_names_are_refused_ignoring_case(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate
        data = zip_bytes([("Config.json", b"{}"), ("config.JSON", b"[]")])
    report = inspect_zip(write(tmp_path / "dup.zip", data))
    assert codes(report) == {"duplicate_name"}


def test_control_characters_in_names_are_refused_and_never_shown(tmp_path):
    name = "evil\x1b[31m.txt"
    report = inspect_zip(write(tmp_path / "ctl.zip", zip_bytes([(name, b"x")])))
    assert codes(report) == {"unsafe_name"}
    assert "\x1b" not in report.problems[0].message
    assert display_name("a" * 500).endswith("...") and len(display_name("a" * 500)) == 120


def test_damaged_and_empty_zips(tmp_path):
    assert codes(inspect_zip(write(tmp_path / "junk.zip", b"PK\x03\x04junk"))) == {"damaged"}
    assert codes(inspect_zip(write(tmp_path / "dirs.zip", zip_bytes([("only/", b"")])))) == {
        "empty"
    }


def _corrupted(text: bytes) -> bytes:
    """A stored zip of ``text`` with one byte of its last line flipped (the CRC no longer fits)."""
    data = bytearray(zip_bytes([("a.txt", text)], zipfile.ZIP_STORED))
    data[data.rindex(b"hello world")] ^= 0xFF
    return bytes(data)


def test_a_small_entry_whose_data_does_not_match_its_crc_is_damaged(tmp_path):
    report = inspect_zip(write(tmp_path / "crc.zip", _corrupted(b"hello world " * 10)))
    assert codes(report) == {"damaged"} and "CRC" in report.problems[0].message


def test_a_large_entry_whose_data_does_not_match_its_crc_fails_while_streamed(tmp_path):
    path = write(tmp_path / "crc.zip", _corrupted(b"hello world " * 20_000))
    assert inspect_zip(path).is_safe  # only the first bytes are read before streaming
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        for _, chunks in iter_entries(path):
            b"".join(chunks)


def test_every_problem_is_reported_at_once(tmp_path):
    data = zip_bytes(
        [
            ("../up.txt", b"x"),
            (symlink_info("link"), b"/etc"),
            ("inner.zip", zip_bytes([("a", b"b")])),
        ]
    )
    report = inspect_zip(write(tmp_path / "all.zip", data))
    assert codes(report) == {"path_traversal", "symlink", "nested_archive"}
    assert len(report.problems) == 3
    with pytest.raises(UnsafeZip) as caught:
        next(iter_entries(tmp_path / "all.zip"))
    assert caught.value.report == report
