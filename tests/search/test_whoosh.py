"""The Whoosh backend's own concerns: generations and swaps, a missing or corrupt index
rebuilt in the background, how long a process trusts its open index, a killed reindex."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app import create_app
from app.search import services
from app.search.backend import IndexUnavailable
from app.search.whoosh_backend import COMPLETE_MARK, WhooshBackend, open_index, whoosh_document
from tests.conftest import local_env
from tests.search.test_backends import doc

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def whoosh(tmp_path: Path):
    backend = WhooshBackend(tmp_path / "search")
    yield backend
    backend.close()


def search(backend, **args):
    return backend.search(services.parse_params(args))


def generations(backend) -> list[Path]:
    return sorted(backend.path.parent.glob(f"{backend.path.name}.gen-*"))


def test_missing_and_corrupt_index_raise_index_unavailable(whoosh):
    with pytest.raises(IndexUnavailable):
        search(whoosh, q="x")
    whoosh.path.mkdir(parents=True)
    (whoosh.path / "_products_1.toc").write_bytes(b"garbage" * 10)
    (whoosh.path / "junk.seg").write_bytes(b"\x00\xff" * 100)
    with pytest.raises(IndexUnavailable):
        whoosh.check()
    whoosh.rebuild([doc(title="Recovered")])  # the junk folder is replaced
    assert [h.title for h in search(whoosh, q="recovered").hits] == ["Recovered"]
    assert whoosh.path.is_symlink()


def test_swap_keeps_readers_working_and_drops_old_generations(whoosh):
    whoosh.rebuild([doc(title="First")])
    assert search(whoosh, q="first").total == 1
    whoosh.rebuild([doc(title="Second")])
    assert search(whoosh, q="first").total == 0 and search(whoosh, q="second").total == 1
    whoosh.rebuild([doc(title="Third")])
    assert len(generations(whoosh)) == 2  # the current one and the one readers may hold
    assert all((g / COMPLETE_MARK).exists() for g in generations(whoosh))


def test_another_process_write_shows_after_refresh_seconds(tmp_path):
    reader = WhooshBackend(tmp_path / "search", refresh_seconds=60)
    writer = WhooshBackend(tmp_path / "search")  # as the search worker would
    writer.rebuild([doc(title="Before")])
    assert search(reader, q="after").total == 0  # opens the searcher
    writer.index([doc(title="After")])
    assert search(reader, q="after").total == 0  # trusted for 60 s
    reader.refresh_seconds = 0
    assert search(reader, q="after").total == 1
    reader.refresh_seconds = 60
    reader.index([doc(title="Afterwards")])  # a process sees its own write at once
    assert search(reader, q="afterwards").total == 1
    reader.close()
    writer.close()


def test_the_app_trusts_its_index_for_search_refresh_seconds(tmp_path):
    app = create_app(env=local_env(tmp_path, SEARCH_REFRESH_SECONDS="60"))
    assert app.extensions["search"].refresh_seconds == 60
    assert create_app(env=local_env(tmp_path)).extensions["search"].refresh_seconds == 0


def test_a_corrupt_index_is_rebuilt_in_the_background_while_the_page_says_so(tmp_path, make_user):
    """Without Redis: the rebuild runs on a thread of its own, never inside the request."""
    from flask_migrate import upgrade

    from tests.catalog.factories import create_product

    app = create_app(env=local_env(tmp_path))
    with app.app_context():
        upgrade()
    from tests.conftest import user_maker

    create_product(app, user_maker(app), "Survivor")
    backend = app.extensions["search"]
    backend.path.mkdir(parents=True)
    (backend.path / "_products_3.toc").write_bytes(b"\x00garbage" * 50)
    client = app.test_client()
    response = client.get("/search?q=survivor")
    assert response.status_code == 200
    assert "Search is being rebuilt" in response.get_data(as_text=True)
    app.extensions["search_rebuilder"].join(timeout=60)
    assert "Survivor" in client.get("/search?q=survivor").get_data(as_text=True)
    backend.close()


def test_a_corrupt_index_is_rebuilt_by_the_search_queue(app, client, make_product, run_jobs):
    backend = app.extensions["search"]
    if backend.name != "whoosh":
        pytest.skip("only the Whoosh index lives in files that can break")
    make_product("Survivor")
    backend.close()
    target = backend.path.resolve()
    backend.path.unlink()
    shutil.rmtree(target)
    backend.path.mkdir()
    (backend.path / "_products_3.toc").write_bytes(b"\x00garbage" * 50)
    body = client.get("/search?q=survivor").get_data(as_text=True)
    assert "Search is being rebuilt" in body
    client.get("/search?q=survivor")  # asked once: deduplicated
    assert run_jobs() == 1
    assert "Survivor" in client.get("/search?q=survivor").get_data(as_text=True)


def test_a_failing_query_requests_no_rebuild(app, client, make_product, run_jobs, monkeypatch):
    backend = app.extensions["search"]
    make_product("Invoice chaser")
    monkeypatch.setattr(backend, "_order", lambda *args: 1 / 0)
    assert client.get("/search?q=invoice").status_code == 500
    assert run_jobs() == 0  # nothing queued
    monkeypatch.undo()
    assert "Invoice chaser" in client.get("/search?q=invoice").get_data(as_text=True)


KILLED_REINDEX = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from app.search.whoosh_backend import WhooshBackend
    from tests.search.test_backends import doc

    def documents():
        for i in range(1, 100_000):
            if i == 200:
                print("writing", flush=True)
            yield doc(id=i, title=f"Product {{i}} slack alerts", body="many words " * 30)

    WhooshBackend({path!r}).rebuild(documents())
    """
)


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=,ppid=", "-e"], capture_output=True, text=True)
    children: dict[int, list[int]] = {}
    for line in out.stdout.split("\n"):
        if line.strip():
            child, parent = map(int, line.split())
            children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, only not yet reaped
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_sigkilled_reindex_leaves_no_process_and_no_folder_behind(tmp_path):
    path = tmp_path / "search"
    WhooshBackend(path).rebuild([doc(title="Old")])
    script = KILLED_REINDEX.format(root=str(ROOT), path=str(path))
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout.readline().strip() == "writing"
    time.sleep(0.5)
    family = [process.pid, *_descendants(process.pid)]
    assert len(generations(WhooshBackend(path))) == 2  # the live one and the half-written one
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=5)
    process.stdout.close()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in family if _alive(pid)] == []
    # The old index still answers; the next rebuild removes the half-written folder.
    backend = WhooshBackend(path)
    assert search(backend, q="old").total == 1
    backend.rebuild([doc(title="New")])
    assert search(backend, q="new").total == 1
    remaining = generations(backend)
    assert backend.path.resolve() in remaining and len(remaining) == 2  # new and previous
    assert all((g / COMPLETE_MARK).exists() for g in remaining)
    backend.close()


def test_documents_fit_the_schema():
    with pytest.raises(IndexUnavailable):
        open_index(Path("/nonexistent/search"))
    fields = whoosh_document(doc(category_path=["a", "a-b"]))
    assert fields["id"].isdigit() and fields["category_path"] == "a,a-b"


def test_dataclasses_stay_plain():
    # SearchParams is hashable and frozen: it keys caches and cannot be changed after parse.
    params = services.parse_params({"q": "x"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.q = "y"  # type: ignore[misc]
