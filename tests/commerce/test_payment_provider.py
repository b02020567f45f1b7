"""Which payment providers the settings build, and the set-ups that refuse to start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string

from app import create_app
from app.commerce.providers import Payments, build_providers
from app.commerce.providers.razorpay import RazorpayProvider
from app.commerce.providers.sandbox import SandboxProvider
from app.commerce.providers.stripe import StripeProvider
from app.config import Config, ConfigError
from app.errors import NotFound
from tests.conftest import local_env

STRIPE = {"STRIPE_SECRET_KEY": "sk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1"}
RAZORPAY = {
    "RAZORPAY_KEY_ID": "rzp_test_1",
    "RAZORPAY_KEY_SECRET": "secret",
    "RAZORPAY_WEBHOOK_SECRET": "hook-secret",
}
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 64,
    "DATABASE_URL": "postgresql://u@127.0.0.1/db",
    "BASE_URL": "https://autopilot.example",
    "TRUSTED_HOSTS": "autopilot.example",
}


def payments(env, tmp_path):
    return Config.from_env(env, str(tmp_path)).payments


@pytest.mark.parametrize(
    ("env", "checkout", "built"),
    [
        ({}, "sandbox", {"sandbox"}),
        (STRIPE, "stripe", {"stripe"}),
        (RAZORPAY, "razorpay", {"razorpay"}),
        ({**STRIPE, **RAZORPAY}, "stripe", {"stripe", "razorpay"}),
        (
            {**STRIPE, **RAZORPAY, "PAYMENT_PROVIDER": "razorpay"},
            "razorpay",
            {"stripe", "razorpay"},
        ),
        ({**STRIPE, "PAYMENT_PROVIDER": " Sandbox "}, "sandbox", {"sandbox", "stripe"}),
    ],
)
def test_the_checkout_provider_and_the_providers_built(tmp_path, env, checkout, built):
    config = Config.from_env(env, str(tmp_path))
    assert config.payments.provider == checkout
    providers = build_providers(config)
    assert set(providers) == built
    for name, provider in providers.items():
        assert provider.name == name
        assert provider.is_sandbox is (name == "sandbox")


def test_the_providers_get_their_settings(tmp_path):
    env = {
        **STRIPE,
        **RAZORPAY,
        "STRIPE_API_BASE": "http://127.0.0.1:12111",
        "RAZORPAY_API_BASE": "http://127.0.0.1:12112",
        "PAYMENT_TIMEOUT_SECONDS": "3.5",
    }
    settings = payments(env, tmp_path)
    assert (settings.stripe_api_base, settings.razorpay_api_base) == (
        "http://127.0.0.1:12111",
        "http://127.0.0.1:12112",
    )
    assert settings.timeout_seconds == 3.5
    assert payments({}, tmp_path).timeout_seconds == 10.0
    providers = build_providers(Config.from_env(env, str(tmp_path)))
    assert isinstance(providers["stripe"], StripeProvider)
    assert isinstance(providers["razorpay"], RazorpayProvider)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAYMENT_PROVIDER": "paypal"}, "PAYMENT_PROVIDER must be one of sandbox, stripe"),
        ({"PAYMENT_PROVIDER": "stripe"}, "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY"),
        ({"PAYMENT_PROVIDER": "razorpay"}, "PAYMENT_PROVIDER=razorpay needs RAZORPAY_KEY_ID"),
        (
            {"STRIPE_SECRET_KEY": "sk_test_1"},
            "Stripe is half configured: set STRIPE_WEBHOOK_SECRET",
        ),
        (
            {**RAZORPAY, "STRIPE_WEBHOOK_SECRET": "whsec_1"},
            "Stripe is half configured: set STRIPE_SECRET_KEY",
        ),
        ({"STRIPE_API_BASE": "http://127.0.0.1:1"}, "Stripe is half configured"),
        ({"RAZORPAY_KEY_ID": "rzp_test_1"}, "Razorpay is half configured"),
        ({**STRIPE, "STRIPE_SECRET_KEY": "pk_test_1"}, "not a publishable key"),
        ({**STRIPE, "STRIPE_WEBHOOK_SECRET": "secret"}, "signing secret \\(whsec_"),
        ({**RAZORPAY, "RAZORPAY_KEY_ID": "key_1"}, "RAZORPAY_KEY_ID must be a Razorpay key id"),
        ({**STRIPE, "STRIPE_API_BASE": "127.0.0.1:1"}, "STRIPE_API_BASE must be an http"),
        ({**RAZORPAY, "RAZORPAY_API_BASE": "ftp://x"}, "RAZORPAY_API_BASE must be an http"),
        ({"PAYMENT_TIMEOUT_SECONDS": "0"}, "PAYMENT_TIMEOUT_SECONDS must be more than 0"),
    ],
)
def test_set_ups_that_refuse_to_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env, str(tmp_path))
    with pytest.raises(ConfigError, match=message):
        create_app(env=local_env(tmp_path, **env))


def test_production_takes_real_payments_only(tmp_path):
    with pytest.raises(ConfigError, match="Production takes real payments"):
        Config.from_env(PRODUCTION, str(tmp_path))
    with pytest.raises(ConfigError, match="Production takes real payments"):
        Config.from_env({**PRODUCTION, **STRIPE, "PAYMENT_PROVIDER": "sandbox"}, str(tmp_path))
    assert payments({**PRODUCTION, **STRIPE}, tmp_path).provider == "stripe"
    assert payments({**PRODUCTION, **RAZORPAY}, tmp_path).provider == "razorpay"
    # A fake on loopback is fine; any other plain-http API address is not.
    assert payments({**PRODUCTION, **STRIPE, "STRIPE_API_BASE": "http://127.0.0.1:1"}, tmp_path)
    with pytest.raises(ConfigError, match="must use https in production"):
        Config.from_env(
            {**PRODUCTION, **STRIPE, "STRIPE_API_BASE": "http://stripe.internal"}, str(tmp_path)
        )


def test_the_app_keeps_its_providers(tmp_path, stripe_fake, razorpay_fake):
    env = local_env(
        tmp_path, **stripe_fake.app_env(), **razorpay_fake.app_env(), PAYMENT_PROVIDER="razorpay"
    )
    app = create_app(env=env)
    registry = app.extensions["payments"]
    assert isinstance(registry, Payments)
    assert registry.checkout is registry.provider("razorpay")
    assert isinstance(registry.provider("stripe"), StripeProvider)
    with pytest.raises(NotFound):
        registry.provider("sandbox")
    with pytest.raises(TypeError):
        registry.providers["sandbox"] = SandboxProvider()  # read-only once built

    # The app's providers reach the fakes (the settings' API bases).
    delivery = stripe_fake.event("customer.created", {"id": "cus_1"})
    assert registry.provider("stripe").parse_webhook(delivery.payload, delivery.headers)


@pytest.mark.parametrize(("env", "labelled"), [({}, True), (STRIPE, False)])
def test_pages_say_sandbox_only_while_checkouts_go_there(tmp_path, env, labelled):
    app = create_app(env=local_env(tmp_path, **env))
    with app.test_request_context("/"):
        shown = render_template_string("{% if sandbox_payments %}sandbox{% endif %}")
    assert (shown == "sandbox") is labelled


def test_every_payment_setting_is_documented():
    root = Path(__file__).resolve().parents[2]
    source = (root / "app" / "config.py").read_text()
    names = set(re.findall(r'"((?:PAYMENT|STRIPE|RAZORPAY)_[A-Z_]+)"', source))
    assert len(names) == 9, names
    readme = (root / "README.md").read_text()
    example = (root / ".env.example").read_text()
    for name in names:
        assert f"`{name}`" in readme, f"{name} is not in the README's configuration table"
        assert f"\n{name}=" in example, f"{name} is not in .env.example"
