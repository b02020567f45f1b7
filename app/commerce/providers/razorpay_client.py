"""The one place that leans on razorpay.Client beyond its documented use: its base address.

The library has no documented way to reach another host; its constructor takes a
``base_url`` option (``Client._set_base_url``) and keeps it in ``client.base_url``, which every
request is built from. tests/commerce/test_razorpay_provider.py fails if that changes.
Timeouts go through a requests Session, which the constructor takes publicly.
"""

from __future__ import annotations

from typing import Any

import razorpay
import requests


class _TimeoutSession(requests.Session):
    """A requests Session whose calls time out (razorpay.Client passes no timeout)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def make_client(
    key_id: str, key_secret: str, base_url: str | None, timeout: float
) -> razorpay.Client:
    """A razorpay.Client with a timeout on every call, sent to ``base_url`` when given."""
    options = {"base_url": base_url.rstrip("/")} if base_url else {}
    client = razorpay.Client(session=_TimeoutSession(timeout), auth=(key_id, key_secret), **options)
    if base_url and getattr(client, "base_url", None) != options["base_url"]:
        raise RuntimeError(
            "razorpay.Client no longer takes base_url: RAZORPAY_API_BASE cannot be honoured "
            f"with razorpay {getattr(razorpay, '__version__', '(unknown version)')}."
        )
    return client
