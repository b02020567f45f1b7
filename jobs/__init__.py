"""Thin RQ entry points: ids in, an app context set up, one service called."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context

F = TypeVar("F", bound=Callable[..., Any])

_worker_app: Flask | None = None
_worker_pid: int | None = None


def _app() -> Flask:
    """The app to run in: the caller's (in-process, tests) or one per worker process."""
    global _worker_app, _worker_pid
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
        _worker_pid = os.getpid()
    elif _worker_pid != os.getpid():
        # RQ forks a work horse per job: connections inherited from the parent are not ours.
        from app.extensions import db

        with _worker_app.app_context():
            db.engine.dispose(close=False)
        _worker_pid = os.getpid()
    return _worker_app


def job(fn: F) -> F:
    """Run ``fn`` in its own app context (own DB session); dispatch events it committed."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from app.extensions import db
        from app.outbox.services import dispatch_committed

        with _app().app_context():
            try:
                result = fn(*args, **kwargs)
            except Exception:
                db.session.rollback()
                raise
            dispatch_committed()
            return result

    return run  # type: ignore[return-value]
