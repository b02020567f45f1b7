"""The HTTP side shared by the payment providers' fakes: a threaded werkzeug server on loopback
that records every request and can be told to answer the next ones with an error or late."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Call:
    """One request the fake received (faults included)."""

    method: str  # "GET", "POST", "DELETE"
    path: str  # "/v1/checkout/sessions"
    params: dict[str, Any]  # the query (GET) or the decoded body, nested as the provider means
    idempotency_key: str | None  # the Idempotency-Key header (Stripe); None when absent
    headers: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery as the provider would POST it: send ``payload`` as the raw body with
    ``headers`` (signature included) to the webhook route."""

    type: str  # the provider's event type, "checkout.session.completed"
    payload: bytes
    headers: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.payload)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeServer:
    """Start with ``start()``, stop with ``stop()``; ``url`` is its base address. Subclasses
    answer requests in ``_dispatch`` (called under the fake's lock) and keep their state."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self._faults: list[tuple[str, Any]] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- life -------------------------------------------------------------------------------

    def start(self) -> None:
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def reset(self) -> None:
        """Forget every object, request, delivery and pending fault."""
        with self._lock:
            self.calls.clear()
            self.deliveries.clear()
            self._faults.clear()
            self._reset_state()

    # -- faults -----------------------------------------------------------------------------

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and the provider's error body."""
        with self._lock:
            self._faults.extend([("fail", float(status))] * times)

    def hang_next(self, seconds: float = 2.0, times: int = 1) -> None:
        """Hold the next ``times`` requests for ``seconds`` before answering (a client with a
        shorter timeout has given up by then; the work is done all the same)."""
        with self._lock:
            self._faults.extend([("hang", seconds)] * times)

    def answer_next(self, status: int, body: Any, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and ``body`` (a dict as JSON, a
        str as HTML) without acting on them: a stale read, a proxy's error page."""
        with self._lock:
            self._faults.extend([("answer", (status, body))] * times)

    # -- what was asked ---------------------------------------------------------------------

    def writes(self) -> list[Call]:
        """Every request that may change something (POST, DELETE), in order."""
        with self._lock:
            return [call for call in self.calls if call.is_write]

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    # -- for subclasses ---------------------------------------------------------------------

    def _reset_state(self) -> None:
        raise NotImplementedError

    def _decode(self, request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def _error(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def _dispatch(self, call: Call) -> tuple[int, Any]:
        raise NotImplementedError

    def _record(self, deliveries: Iterable[Delivery]) -> list[Delivery]:
        made = list(deliveries)
        with self._lock:
            self.deliveries.extend(made)
        return made

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            params = self._decode(request)
        except ValueError:
            return self._respond(400, self._error(400, "The request body is malformed."))(
                environ, start_response
            )
        call = Call(
            method=request.method,
            path=request.path,
            params=params,
            idempotency_key=request.headers.get("Idempotency-Key"),
            headers=dict(request.headers),
        )
        with self._lock:
            self.calls.append(call)
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault[0] == "fail":
            status = int(fault[1])
            return self._respond(status, self._error(status, "Injected fault."))(
                environ, start_response
            )
        if fault and fault[0] == "answer":
            return self._respond(*fault[1])(environ, start_response)
        if fault and fault[0] == "hang":
            time.sleep(fault[1])
        with self._lock:
            status, body = self._dispatch(call)
        return self._respond(status, body)(environ, start_response)

    @staticmethod
    def _respond(status: int, body: Any) -> Response:
        if isinstance(body, str):
            return Response(body, status, mimetype="text/html")
        return Response(json.dumps(body), status, mimetype="application/json")
