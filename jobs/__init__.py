"""Thin RQ entry points: ids in, an app context set up, one service called.

Jobs run inside the app that enqueued them: in a `flask worker` work horse (which pushes the
worker's app), in the request that committed (without Redis), or in a test's app context.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, has_app_context

if TYPE_CHECKING:
    from app.outbox.models import Event

F = TypeVar("F", bound=Callable[..., Any])


def job(fn: F) -> F:
    """Run ``fn`` in an app context of its own (its own database session); then dispatch the
    events it committed."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from app.extensions import db
        from app.outbox.services import dispatch_committed

        if not has_app_context():
            raise RuntimeError(
                f"{fn.__name__} runs inside the app: start workers with `flask worker`"
            )
        with current_app.app_context():
            try:
                result = fn(*args, **kwargs)
            except Exception:
                db.session.rollback()
                raise
            dispatch_committed()
            return result

    return run  # type: ignore[return-value]


def event_handler(fn: Callable[[Event], None]) -> Callable[[str], bool]:
    """A job reacting to an event: ``fn(event)`` runs once per event, however often the job
    does (the handler's name, ``fn.__name__``, keys its delivery row). Returns True if it ran."""
    from app.outbox.services import deliver_once

    @job
    @wraps(fn)
    def run(event_id: str) -> bool:
        return deliver_once(event_id, fn.__name__, fn)

    return run
