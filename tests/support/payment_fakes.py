"""pytest fixtures for the payment providers' fakes (loaded from tests/conftest.py).

``stripe_fake`` and ``razorpay_fake``: a fake started once per session on loopback, emptied
before each test. ``stripe_fake_server`` and ``razorpay_fake_server`` are the same objects
session-scoped, for settings of session-scoped apps (``fake.app_env()``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.razorpay_fake import RazorpayFake
from tests.support.stripe_fake import StripeFake


@pytest.fixture(scope="session")
def stripe_fake_server() -> Iterator[StripeFake]:
    fake = StripeFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server: StripeFake) -> StripeFake:
    stripe_fake_server.reset()
    return stripe_fake_server


@pytest.fixture(scope="session")
def razorpay_fake_server() -> Iterator[RazorpayFake]:
    fake = RazorpayFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def razorpay_fake(razorpay_fake_server: RazorpayFake) -> RazorpayFake:
    razorpay_fake_server.reset()
    return razorpay_fake_server
