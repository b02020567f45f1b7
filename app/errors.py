"""Domain errors and the one handler that maps errors to HTML pages, htmx fragments or JSON."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, jsonify, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from app.htmx import is_fragment_request, render

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain was broken; ``status`` is the HTTP status it maps to."""

    status = 400
    message = "That request could not be completed."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message


class PermissionDenied(DomainError):
    status = 403
    message = "You do not have permission to do that."


class NotFound(DomainError):
    status = 404
    message = "We could not find that."


class Conflict(DomainError):
    status = 409
    message = "That conflicts with the current state."


TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    415: "Unsupported file type",
    422: "Please check the form",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to see this page.",
    404: "There is nothing at this address. Check the link or search instead.",
    405: "This address does not accept that kind of request.",
    413: "That upload or form is larger than we accept.",
    429: "Too many attempts. Please wait a little and try again.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, code: str | None = None) -> Response:
    title = TITLES.get(status, "Error")
    if wants_json():
        response = jsonify(
            error={"status": status, "code": code or title.lower(), "message": message}
        )
        response.status_code = status
        return response
    response = render(
        "errors/error.html", "error", status=status, code=status, title=title, message=message
    )
    if is_fragment_request():
        # An htmx error lands in the flash area, not in whatever the request targeted.
        response.headers["HX-Retarget"] = "#flashes"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _retry_after(error: RateLimitExceeded) -> int:
    """Seconds until the breached limit's window resets; its whole window when the limit's
    storage cannot say (Redis went away since the hit was counted)."""
    from app.extensions import limiter

    breached = limiter.current_limit
    if breached is not None:
        try:
            return max(1, math.ceil(breached.window.reset_time - time.time()))
        except RedisError:
            pass
    return error.limit.limit.get_expiry()


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Response:
        from app.extensions import db

        db.session.rollback()  # nothing half-done survives a refused request
        return error_response(error.status, error.message, type(error).__name__)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError) -> Response:
        return error_response(
            400,
            "This form has expired or did not come from this site. Reload the page and try again.",
            "csrf",
        )

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error: SecurityError) -> Response:
        # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either.
        log.warning("refused: %s", error.description)
        return Response(
            "400 Bad Request: this site does not answer to that host name.\n",
            400,
            mimetype="text/plain",
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        # abort(403, "why") says why; a bare abort(403) gets the page's own wording.
        custom = error.description != type(error).description
        message = (
            error.description if custom else MESSAGES.get(status, error.description)
        ) or TITLES.get(status, "Error")
        if status == 429:
            message = f"{MESSAGES[429]} (limit: {error.description})"
        response = error_response(status, message)
        if isinstance(error, RateLimitExceeded):
            response.headers["Retry-After"] = str(_retry_after(error))
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return handle_http_error(error)
        log.exception("unhandled error", exc_info=error)
        return error_response(500, MESSAGES[500], InternalServerError.__name__)
