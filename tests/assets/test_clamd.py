"""The clamd client against a real clamd the tests start (EICAR signature only), and against
connections that break: clamd stopped, clamd hung, an answer cut off."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from app.assets.archive import iter_entries
from app.assets.clamd import Clamd, ClamdError, ScanResult
from tests.assets.samples import bundle, eicar, pdf_bytes, write, zip_bytes
from tests.conftest import start_clamd
from tests.support.services import ClamdServer


@pytest.fixture(params=["unix", "tcp"])
def client(request, clamd_server: ClamdServer) -> Clamd:
    if request.param == "unix":
        return Clamd(socket_path=clamd_server.socket_path, read_timeout=30)
    return Clamd(host="127.0.0.1", port=clamd_server.port, read_timeout=30)


@pytest.fixture
def own_clamd() -> Iterator[ClamdServer]:
    """A clamd of this test's own, to stop or hang without disturbing the others."""
    server = start_clamd()
    yield server
    server.close()


def test_ping_and_version(client):
    client.ping()
    assert client.version().startswith("ClamAV ")


def test_a_clean_file(client):
    result = client.scan_file(io.BytesIO(pdf_bytes()))
    assert result == ScanResult("clean")
    assert result.is_clean and not result.is_infected and not result.is_error


def test_a_file_larger_than_one_chunk_is_sent_in_pieces(client):
    data = bytes(range(256)) * 3000  # 750 kB: twelve chunks, under StreamMaxLength
    assert client.scan_chunks([data]).is_clean


def test_eicar_as_a_file(client, tmp_path):
    result = client.scan_path(write(tmp_path / "eicar.com", eicar()))
    assert result.is_infected and not result.is_clean
    assert result.signature.startswith(ClamdServer.SIGNATURE)


def test_eicar_inside_a_zip(client):
    """clamd unpacks archives itself: the whole bundle streamed as one file."""
    data = zip_bytes([("README.md", b"# Tools"), ("tools/run.com", eicar())])
    result = client.scan_file(io.BytesIO(data))
    assert result.is_infected and result.signature.startswith(ClamdServer.SIGNATURE)


def test_eicar_found_entry_by_entry(client, tmp_path):
    path = write(tmp_path / "b.zip", zip_bytes([("a.txt", b"fine"), ("b/c.com", eicar())]))
    verdicts = {entry.name: client.scan_chunks(chunks) for entry, chunks in iter_entries(path)}
    assert verdicts["a.txt"].is_clean
    assert verdicts["b/c.com"].is_infected


def test_a_clean_bundle(client):
    assert client.scan_file(io.BytesIO(bundle())).is_clean


def test_a_stream_past_stream_max_length_is_an_error(client):
    result = client.scan_chunks(b"x" * 65536 for _ in range(40))  # 2.5 MiB > 1M
    assert result.is_error and not result.is_clean
    assert "StreamMaxLength" in result.reason


def test_clamd_stopped_then_started_again(own_clamd):
    unix = Clamd(socket_path=own_clamd.socket_path, connect_timeout=1)
    tcp = Clamd(host="127.0.0.1", port=own_clamd.port, connect_timeout=1)
    own_clamd.stop()
    for client in (unix, tcp):
        result = client.scan_file(io.BytesIO(eicar()))
        assert result.is_error and not result.is_clean and not result.is_infected
        assert "could not reach clamd" in result.reason
        with pytest.raises(ClamdError, match="could not reach"):
            client.ping()
    own_clamd.start()
    for client in (unix, tcp):
        client.ping()
        assert client.scan_file(io.BytesIO(eicar())).is_infected


@pytest.mark.parametrize("size", [1000, 8 * 1024 * 1024])
def test_a_hung_clamd_is_an_error_after_the_timeout(own_clamd, size):
    """SIGSTOP: the kernel still accepts the connection, nobody reads or answers. A small
    file fits the socket buffers and waits for the answer; a large one stalls while sent."""
    client = Clamd(socket_path=own_clamd.socket_path, read_timeout=0.5)
    own_clamd.pause()
    try:
        start = time.monotonic()
        result = client.scan_chunks([b"x" * size])
        elapsed = time.monotonic() - start
    finally:
        own_clamd.resume()
    assert result.is_error and not result.is_clean
    assert "0.5 seconds" in result.reason
    assert elapsed < 5
    with pytest.raises(ClamdError):
        own_clamd.pause()
        try:
            client.ping()
        finally:
            own_clamd.resume()


@contextmanager
def fake_clamd(answer: Callable[[socket.socket], None]) -> Iterator[Clamd]:
    """A loopback server that reads the request and then does ``answer``: a network fault
    on demand (the real clamd cannot be made to cut its own reply short)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            received = b""
            while not received.endswith(b"\0\0\0\0") and len(received) < 100_000:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                received += chunk
            answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield Clamd(host="127.0.0.1", port=port, read_timeout=2)
    finally:
        thread.join(timeout=5)
        listener.close()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (b"", "closed the connection before finishing"),
        (b"stream: OK", "closed the connection before finishing"),  # no NUL: cut off
        (b"stream: O", "closed the connection before finishing"),
        (b"stream: OK\0", None),
        (b"stream: okay\0", "do not understand"),
        (b"OK\0", "do not understand"),
        (b"Can't allocate memory ERROR\0", "clamd reported an error"),
        (b"x" * 5000, "longer than any"),
    ],
)
def test_a_cut_off_or_strange_answer_is_an_error(reply, reason):
    with fake_clamd(lambda connection: connection.sendall(reply)) as client:
        result = client.scan_chunks([b"some data"])
    if reason is None:
        assert result.is_clean
    else:
        assert result.is_error and not result.is_clean
        assert reason in result.reason


def test_a_connection_reset_mid_answer_is_an_error():
    def reset(connection: socket.socket) -> None:
        connection.sendall(b"stream: ")
        # Linger on, zero seconds: close() sends a reset instead of an orderly end.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with fake_clamd(reset) as client:
        result = client.scan_chunks([b"some data"])
    assert result.is_error


def test_a_source_that_breaks_propagates_and_is_never_clean(clamd_server):
    client = Clamd(socket_path=clamd_server.socket_path)

    def broken() -> Iterator[bytes]:
        yield b"first part"
        raise OSError("the upload's temporary file vanished")

    with pytest.raises(OSError, match="vanished"):
        client.scan_chunks(broken())


def test_from_config():
    def settings(**values):
        return SimpleNamespace(
            **{"clamd_socket": None, "clamd_host": None, "clamd_port": 3310, **values}
        )

    assert Clamd.from_config(settings()) is None
    assert Clamd.from_config(settings(clamd_socket="/run/clamd.sock")).address == (
        "unix:/run/clamd.sock"
    )
    assert Clamd.from_config(settings(clamd_host="av", clamd_port=3311)).address == "av:3311"
    with pytest.raises(ValueError):
        Clamd()
