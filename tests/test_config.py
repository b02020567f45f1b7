"""Settings: production refuses unsafe starts; nothing is read at import."""

import subprocess
import sys

import pytest

from app import create_app
from app.config import Config, ConfigError

GOOD_PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 64,
    "DATABASE_URL": "postgresql://u@127.0.0.1/db",
    "BASE_URL": "https://autopilot.example",
    "TRUSTED_HOSTS": "autopilot.example, www.autopilot.example",
    # Production takes real payments (no network at start-up: the key is never checked).
    "STRIPE_SECRET_KEY": "sk_test_production_settings",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_settings",
}


def test_production_needs_a_secret_key(tmp_path):
    env = dict(GOOD_PROD, SECRET_KEY="")
    with pytest.raises(ConfigError, match="SECRET_KEY is missing"):
        Config.from_env(env, str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config.from_env(dict(GOOD_PROD, SECRET_KEY="short"), str(tmp_path))


def test_production_refuses_debug(tmp_path):
    with pytest.raises(ConfigError, match="FLASK_DEBUG"):
        Config.from_env(dict(GOOD_PROD, FLASK_DEBUG="1"), str(tmp_path))


def test_production_needs_trusted_hosts_that_include_base_url(tmp_path):
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS is required"):
        Config.from_env(dict(GOOD_PROD, TRUSTED_HOSTS=""), str(tmp_path))
    with pytest.raises(ConfigError, match="BASE_URL is required"):
        Config.from_env(dict(GOOD_PROD, BASE_URL=""), str(tmp_path))
    with pytest.raises(ConfigError, match="not in TRUSTED_HOSTS"):
        Config.from_env(dict(GOOD_PROD, BASE_URL="https://elsewhere.example"), str(tmp_path))
    with pytest.raises(ConfigError, match="not URLs"):
        Config.from_env(dict(GOOD_PROD, TRUSTED_HOSTS="https://autopilot.example/"), str(tmp_path))
    config = Config.from_env(dict(GOOD_PROD, TRUSTED_HOSTS=".autopilot.example"), str(tmp_path))
    assert config.flask_settings()["TRUSTED_HOSTS"] == [".autopilot.example"]
    assert Config.from_env({}, str(tmp_path)).flask_settings()["TRUSTED_HOSTS"] is None


def test_production_needs_a_database(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Config.from_env(dict(GOOD_PROD, DATABASE_URL=""), str(tmp_path))


def test_unknown_env_and_bad_numbers(tmp_path):
    with pytest.raises(ConfigError, match="APP_ENV"):
        Config.from_env({"APP_ENV": "staging"}, str(tmp_path))
    with pytest.raises(ConfigError, match="MAX_UPLOAD_BYTES"):
        Config.from_env({"MAX_UPLOAD_BYTES": "lots"}, str(tmp_path))
    for bad in ["soon", "-1", "nan", "inf"]:
        with pytest.raises(ConfigError, match="SEARCH_REFRESH_SECONDS"):
            Config.from_env({"SEARCH_REFRESH_SECONDS": bad}, str(tmp_path))
    assert Config.from_env({}, str(tmp_path)).search_refresh_seconds == 1.0
    assert Config.from_env({"APP_ENV": "test"}, str(tmp_path)).search_refresh_seconds == 0.0
    assert (
        Config.from_env({"SEARCH_REFRESH_SECONDS": "2.5"}, str(tmp_path)).search_refresh_seconds
        == 2.5
    )


def test_production_settings(tmp_path):
    config = Config.from_env(GOOD_PROD, str(tmp_path))
    settings = config.flask_settings()
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    assert settings["SESSION_COOKIE_HTTPONLY"] and settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config.database_url.startswith("postgresql+psycopg://")


def test_development_key_is_generated_once_and_kept(tmp_path):
    first = Config.from_env({}, str(tmp_path)).secret_key
    assert len(first) == 64
    assert Config.from_env({}, str(tmp_path)).secret_key == first
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0


def test_production_start_fails_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        env={"APP_ENV": "production", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr


def test_importing_the_app_reads_no_environment(monkeypatch):
    monkeypatch.setenv("APP_ENV", "nonsense")
    import app  # noqa: F401 - importing must not build settings

    with pytest.raises(ConfigError):
        create_app()


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "HX-Request" in response.headers["Vary"]
    assert "Strict-Transport-Security" not in response.headers  # only in production
    assert len(response.headers["X-Request-ID"]) == 32


def test_hsts_in_production(tmp_path):
    app = create_app(
        env=dict(GOOD_PROD, DATABASE_URL=f"sqlite:///{tmp_path}/x.db", LOG_LEVEL="ERROR")
    )
    response = app.test_client().get("/login", base_url="https://autopilot.example")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_request_id_is_echoed_only_when_sane(client):
    assert (
        client.get("/", headers={"X-Request-ID": "abcdef12-3456"}).headers["X-Request-ID"]
        == "abcdef12-3456"
    )
    assert (
        client.get("/", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"
    )


def test_session_cookie_flags(client, make_user):
    from tests.conftest import login

    response = login(client, make_user())
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_scripts_or_styles(client):
    import re

    for path in ["/", "/login", "/signup", "/password/forgot"]:
        body = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        assert " style=" not in body and " onclick=" not in body, path


def test_clamd_and_product_file_settings(tmp_path):
    config = Config.from_env({}, str(tmp_path))
    assert (config.clamd_socket, config.clamd_host, config.clamd_port) == (None, None, 3310)
    assert config.max_product_file_bytes == 50 * 1024 * 1024
    assert config.vendor_storage_quota_bytes == 1024 * 1024 * 1024
    config = Config.from_env(
        {
            "CLAMD_HOST": "127.0.0.1",
            "CLAMD_PORT": "3399",
            "MAX_PRODUCT_FILE_MB": "5",
            "VENDOR_STORAGE_QUOTA_MB": "20",
            "SCAN_TIMEOUT_SECONDS": "30",
        },
        str(tmp_path),
    )
    assert (config.clamd_host, config.clamd_port, config.scan_timeout_seconds) == (
        "127.0.0.1",
        3399,
        30,
    )
    assert config.max_product_file_bytes == 5 * 1024 * 1024
    assert config.vendor_storage_quota_bytes == 20 * 1024 * 1024
    with pytest.raises(ConfigError, match="MAX_PRODUCT_FILE_MB"):
        Config.from_env({"MAX_PRODUCT_FILE_MB": "0"}, str(tmp_path))
    # Production starts without a scanner: versions then wait and never count as clean.
    assert Config.from_env(GOOD_PROD, str(tmp_path)).clamd_socket is None


def test_job_and_redis_settings(tmp_path):
    config = Config.from_env({}, str(tmp_path))
    assert config.job_retry_intervals == (10, 60, 300)
    assert Config.from_env({"JOB_RETRY_INTERVALS": "1, 2"}, str(tmp_path)).job_retry_intervals == (
        1,
        2,
    )
    assert Config.from_env({"JOB_RETRY_INTERVALS": ""}, str(tmp_path)).job_retry_intervals == ()
    for bad in ["soon", "1,-5", "1.5"]:
        with pytest.raises(ConfigError, match="JOB_RETRY_INTERVALS"):
            Config.from_env({"JOB_RETRY_INTERVALS": bad}, str(tmp_path))
    with pytest.raises(ConfigError, match="REDIS_TIMEOUT_SECONDS"):
        Config.from_env({"REDIS_TIMEOUT_SECONDS": "0"}, str(tmp_path))
    for name in ["OUTBOX_SWEEP_SECONDS", "JOB_HEARTBEAT_SECONDS", "REDIS_BREAKER_FAILURES"]:
        with pytest.raises(ConfigError, match=name):
            Config.from_env({name: "0"}, str(tmp_path))


def test_web_redis_clients_have_short_timeouts_and_rate_limits_a_fallback(tmp_path):
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_TIMEOUT_SECONDS": "0.3"}
    config = Config.from_env(env, str(tmp_path))
    settings = config.flask_settings()
    # The queue, the page views and the fragment cache share the app's client (app.queue).
    for options in (config.redis_client_options(), settings["RATELIMIT_STORAGE_OPTIONS"]):
        assert options["socket_timeout"] == options["socket_connect_timeout"] == 0.3
        assert options["retry"].get_retries() == 0
    assert settings["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert Config.from_env({}, str(tmp_path)).flask_settings()["RATELIMIT_STORAGE_OPTIONS"] == {}
