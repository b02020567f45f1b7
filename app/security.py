"""Security headers and request ids on every response."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def build_csp(form_targets: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy; ``form_targets`` are origins a form may post to besides
    this site: the checkout provider's pages, which the checkout form's 303 leads to (browsers
    apply form-action to every redirect of a form submission)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
            "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
        ]
    )


CSP = build_csp()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    if not any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
    root.setLevel(app.config["APP_CONFIG"].log_level)


def register_security(app: Flask) -> None:
    from app.commerce.providers import checkout_origins

    config = app.config["APP_CONFIG"]
    production = config.is_production
    csp = build_csp(checkout_origins(config.payments))

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def secure_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        headers["X-Request-ID"] = g.get("request_id", "")
        response.vary.add("HX-Request")
        if request.endpoint not in (None, "static") and "Cache-Control" not in headers:
            # Pages carry CSRF tokens and user state; shared caches must not keep them.
            headers["Cache-Control"] = "private, no-cache"
        return response
