"""A clamd client written over sockets: INSTREAM to scan, PING and VERSION for health.

The protocol (clamd(8)) is small: a NUL-terminated command prefixed with "z", then for
INSTREAM the data as chunks each preceded by its length (4 bytes, network order) and a
zero length to end; clamd answers one NUL-terminated line. Written by hand because the
``clamd`` package on PyPI is unmaintained. A scan that fails in any way is an error result,
never a clean one: only the exact reply "stream: OK" means clean.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

# clamd reads a chunk into memory whole; StreamMaxLength bounds the sum of them.
CHUNK_SIZE = 64 * 1024
_MAX_REPLY = 4096
_END = struct.pack("!L", 0)

Status = Literal["clean", "infected", "error"]


class ClamdError(Exception):
    """clamd could not be reached, did not answer in time, or answered something else."""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one scan found: clean, infected (with clamd's signature name) or an error."""

    status: Status
    signature: str | None = None
    reason: str | None = None
    # An error of the scanner's reach (unreachable, hung, the connection broke), not of the
    # file: scanning again later may succeed.
    transient: bool = False

    @property
    def is_clean(self) -> bool:
        return self.status == "clean"

    @property
    def is_infected(self) -> bool:
        return self.status == "infected"

    @property
    def is_error(self) -> bool:
        return self.status == "error"

    @classmethod
    def error(cls, reason: str, transient: bool = False) -> ScanResult:
        return cls("error", reason=reason, transient=transient)


class Clamd:
    """One clamd, reached over a unix socket or TCP; every call opens its own connection,
    so one instance is safe to share between threads."""

    def __init__(
        self,
        *,
        socket_path: str | None = None,
        host: str | None = None,
        port: int = 3310,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        chunk_size: int = CHUNK_SIZE,
    ):
        if (socket_path is None) == (host is None):
            raise ValueError("give clamd either a socket_path or a host")
        self.socket_path = socket_path
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        # Per send and per receive: clamd answers only once it has scanned everything, which
        # for a large archive takes a while.
        self.read_timeout = read_timeout
        self.chunk_size = chunk_size

    @classmethod
    def from_config(cls, config: Any) -> Clamd | None:
        """The clamd the settings name (CLAMD_SOCKET first, else CLAMD_HOST), or None."""
        timeout = getattr(config, "clamd_timeout_seconds", 120.0)
        if config.clamd_socket:
            return cls(socket_path=config.clamd_socket, read_timeout=timeout)
        if config.clamd_host:
            return cls(host=config.clamd_host, port=config.clamd_port, read_timeout=timeout)
        return None

    @property
    def address(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else f"{self.host}:{self.port}"

    def ping(self) -> None:
        """Raise ClamdError unless clamd answers PONG."""
        reply = self._command(b"PING")
        if reply != "PONG":
            raise ClamdError(f"clamd at {self.address} answered PING with {reply[:80]!r}")

    def version(self) -> str:
        """clamd's version line ("ClamAV 1.4.6/27432/..."); raise ClamdError."""
        return self._command(b"VERSION")

    def scan_file(self, handle: BinaryIO) -> ScanResult:
        return self.scan_chunks(iter(lambda: handle.read(self.chunk_size), b""))

    def scan_path(self, path: str | Path) -> ScanResult:
        with open(path, "rb") as handle:
            return self.scan_file(handle)

    def scan_chunks(self, chunks: Iterable[bytes]) -> ScanResult:
        """Stream ``chunks`` to clamd's INSTREAM and return its verdict.

        Connection failures, timeouts, a reply cut off or not understood and clamd's own
        errors (a stream past its StreamMaxLength) are all ``error`` results. An exception
        raised by ``chunks`` itself propagates: the caller's source broke, not the scanner.
        """
        try:
            sock = self._connect()
        except OSError as exc:
            return ScanResult.error(
                f"could not reach clamd at {self.address}: {_why(exc)}", transient=True
            )
        with sock:
            failed = self._send(sock, b"zINSTREAM\0")
            # The source is read outside the guard: when it breaks, that propagates.
            pieces = self._pieces(chunks)
            while failed is None and (piece := next(pieces, None)) is not None:
                failed = self._send(sock, struct.pack("!L", len(piece)) + piece)
            if failed is None:
                failed = self._send(sock, _END)
            if failed is not None:
                return failed
            try:
                reply = self._read_reply(sock)
            except TimeoutError:
                return ScanResult.error(
                    f"clamd did not answer within {self.read_timeout:g} seconds", transient=True
                )
            except (OSError, ClamdError) as exc:
                return ScanResult.error(
                    f"no complete answer from clamd: {_why(exc)}", transient=True
                )
        return _verdict(reply)

    def _send(self, sock: socket.socket, data: bytes) -> ScanResult | None:
        """None when sent; else the error result (clamd's own reason when it gave one)."""
        try:
            sock.sendall(data)
        except OSError as exc:
            # clamd stops reading once a stream passes StreamMaxLength, says why and closes:
            # its reply, if any, says more than our broken send.
            reply = self._reply_if_any(sock)
            if reply is not None:
                return _verdict(reply)
            if isinstance(exc, TimeoutError):
                return ScanResult.error(
                    f"clamd stopped reading for {self.read_timeout:g} seconds", transient=True
                )
            return ScanResult.error(
                f"the connection to clamd broke while sending: {_why(exc)}", transient=True
            )
        return None

    def _pieces(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            for start in range(0, len(chunk), self.chunk_size):
                yield chunk[start : start + self.chunk_size]

    def _connect(self) -> socket.socket:
        if self.socket_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.connect_timeout)
                sock.connect(self.socket_path)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.settimeout(self.read_timeout)
        return sock

    def _command(self, name: bytes) -> str:
        try:
            with self._connect() as sock:
                sock.sendall(b"z" + name + b"\0")
                return self._read_reply(sock)
        except TimeoutError as exc:
            raise ClamdError(f"clamd at {self.address} did not answer {name.decode()}") from exc
        except OSError as exc:
            raise ClamdError(f"could not reach clamd at {self.address}: {_why(exc)}") from exc

    def _read_reply(self, sock: socket.socket) -> str:
        """One NUL-terminated reply; raise ClamdError when the connection ends before it."""
        data = b""
        while b"\0" not in data:
            chunk = sock.recv(_MAX_REPLY)
            if not chunk:
                raise ClamdError("clamd closed the connection before finishing its answer")
            data += chunk
            if len(data) > _MAX_REPLY:
                raise ClamdError("clamd's answer is longer than any it gives")
        return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()

    def _reply_if_any(self, sock: socket.socket) -> str | None:
        try:
            sock.settimeout(min(self.read_timeout, 2.0))
            return self._read_reply(sock)
        except (OSError, ClamdError):
            return None


def _verdict(reply: str) -> ScanResult:
    if reply == "stream: OK":
        return ScanResult("clean")
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream: ").removesuffix(" FOUND").strip()
        return ScanResult("infected", signature=signature or "unknown")
    if reply.endswith("ERROR"):
        if "size limit exceeded" in reply:
            return ScanResult.error(
                "the file is larger than clamd accepts in one stream (its StreamMaxLength)"
            )
        return ScanResult.error(f"clamd reported an error: {reply[:200]}")
    return ScanResult.error(f"clamd gave an answer we do not understand: {reply[:200]!r}")


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
