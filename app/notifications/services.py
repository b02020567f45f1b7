"""Compose email from templates and send it through SMTP or the log."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template, url_for

log = logging.getLogger(__name__)


def compose_email(to: str, subject: str, template: str, **context: Any) -> EmailMessage:
    """Build a text + HTML message from templates/emails/<template>.txt and .html."""
    config = current_app.config["APP_CONFIG"]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.mail_from
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="autopilot.monster")
    context.setdefault("subject", subject)
    message.set_content(render_template(f"emails/{template}.txt", **context))
    message.add_alternative(render_template(f"emails/{template}.html", **context), subtype="html")
    return message


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail, built from BASE_URL (jobs have no request to take it from)."""
    config = current_app.config["APP_CONFIG"]
    with current_app.test_request_context(base_url=config.base_url):
        return url_for(endpoint, _external=True, **values)


def send_email(to: str, subject: str, template: str, **context: Any) -> None:
    """Send one message; raises smtplib/OS errors so the job retries."""
    message = compose_email(to, subject, template, **context)
    smtp_url = current_app.config["APP_CONFIG"].smtp_url
    if smtp_url:
        _send_smtp(smtp_url, message)
    else:
        log.info("email (log backend, not sent)\n%s", message.get_body(("plain",)).get_content())
        log.info("email to=%s subject=%r template=%s", to, subject, template)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    options = parse_qs(parts.query)
    host = parts.hostname or "localhost"
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=15, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=15)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0] == "true":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
