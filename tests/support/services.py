"""Real services the tests start: redis-server on a free port, an SMTP server on loopback, RQ
workers as processes of their own and ways to break them (pause, kill), an S3-compatible server
(moto's server mode), a private clamd and a live HTTP server for an app."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``condition`` until it returns something true; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout}s")
        time.sleep(0.05)


class RedisServer:
    """A private redis-server process; stop() and start() simulate an outage on the same port,
    pause() and resume() a hung server (SIGSTOP), kill() a crash. A ``persistent`` server
    writes every command to its append-only file, so a restart keeps the data, as a
    production Redis with AOF does."""

    def __init__(self, persistent: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
        self.binary = binary
        self.persistent = persistent
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="test-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.persistent else "no",
                "--appendfsync",
                "always",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """A crash: SIGKILL, nothing flushed beyond what was already written."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        if self.process is not None:
            self.resume()
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    # While set, a sender is kept waiting after MAIL FROM (a slow mail server, a job mid-send).
    hold: threading.Event = field(default_factory=threading.Event)
    mail_commands: int = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook name
        self.mail_commands += 1
        while self.hold.is_set():
            await asyncio.sleep(0.05)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        self.messages.clear()


def body_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.mailbox = Mailbox()
        self.port = port or free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.mailbox.hold.clear()
        self.controller.stop()


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


class MotoServer:
    """moto's S3-compatible server in a process of its own (``python -m moto.server``)."""

    # moto accepts any credentials; boto3 needs some to sign with.
    ENV = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Never read the host's own AWS files or ask an instance-metadata service.
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """``app`` served over HTTP on a free loopback port (threaded); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


class ClamdServer:
    """A private clamd: foreground, a unix socket and TCP on loopback, and a signature
    database holding only the EICAR test file's MD5 (offline, loads in a fraction of a
    second). stop()/start() make an outage; pause()/resume() a clamd that hangs."""

    SIGNATURE = "Eicar-Test-Signature"

    def __init__(self, stream_max_length: str = "1M") -> None:
        if not os.access(CLAMD, os.X_OK):
            raise FileNotFoundError(CLAMD)
        self.dir = Path(tempfile.mkdtemp(prefix="test-clamd-"))
        self.socket_path = str(self.dir / "clamd.sock")
        self.port = free_port()
        database = self.dir / "db"
        database.mkdir()
        (database / "test.hdb").write_text(
            f"44d88612fea8a8f36de82e1278abb02f:68:{self.SIGNATURE}\n"
        )
        self.config = self.dir / "clamd.conf"
        self.config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"LocalSocket {self.socket_path}",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"DatabaseDirectory {database}",
                    f"LogFile {self.dir / 'clamd.log'}",
                    f"StreamMaxLength {stream_max_length}",
                    "MaxThreads 4",
                    "SelfCheck 3600",
                    "",
                ]
            )
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [CLAMD, f"--config-file={self.config}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        # The socket file appears at bind(), before clamd listens: connect to both instead.
        while not (_accepts_unix(self.socket_path) and _listens(self.port)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd did not start:\n{log}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        Path(self.socket_path).unlink(missing_ok=True)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _accepts_unix(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def session_processes(session_id: int) -> list[int]:
    """Every live process in a session (a worker, its work horse in its own process group...);
    zombies, dead but not yet reaped, are left out."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        state, _ppid, _pgrp, session = stat.rsplit(")", 1)[1].split()[:4]
        if int(session) == session_id and state != "Z":
            pids.append(int(entry.name))
    return pids


class WorkerProcess:
    """`flask --app wsgi worker` (or another command) in a session of its own, logging to a
    file; ``kill()`` SIGKILLs the whole session at once, as when its machine dies."""

    def __init__(self, env: dict[str, str], log_path: Path, args: list[str] | None = None):
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        self.log_path = log_path
        self.args = args or ["-m", "flask", "--app", "wsgi", "worker"]
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.args],
                cwd=repo_root(),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_registered()

    def wait_registered(self, timeout: float = 60) -> None:
        """Until RQ lists a worker with this process's pid."""
        from redis import Redis
        from rq import Worker

        assert self.process is not None
        connection = Redis.from_url(self.env["REDIS_URL"])
        try:

            def registered() -> bool:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"worker exited {self.process.returncode}: {self.log()}")
                return any(w.pid == self.process.pid for w in Worker.all(connection=connection))

            wait_until(registered, timeout, "the worker registered with RQ")
        finally:
            connection.close()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (warm shutdown) and wait; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process is None:
            return
        for pid in session_processes(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        wait_until(
            lambda: not session_processes(self.process.pid), 10, "the worker's processes ended"
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
