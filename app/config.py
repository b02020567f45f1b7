"""Settings: one Config built from an environment mapping inside create_app."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.sansio.utils import host_is_trusted

# The search engines built (app/search/backend.py): Whoosh embedded, PostgreSQL full text.
SEARCH_BACKENDS = ("whoosh", "postgres")


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the app refuses to start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more, got {value}")
    return value


def _intervals(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole seconds, e.g. ``10,60,300``; empty means none."""
    raw = env.get(name)
    if raw is None:
        return default
    try:
        values = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        values = (-1,)
    if any(value < 0 for value in values):
        raise ConfigError(f"{name} must be whole seconds separated by commas, got {raw!r}")
    return values


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be a number of seconds (0 or more), got {raw!r}")
    return value


# Backends the architecture names but no code has yet, with the variables that would pick them.
# Setting one would silently fall back to the development part (S3_BUCKET set, files written
# to local disk), so the app refuses to start instead, until the issue that builds it lands.
NOT_BUILT: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _refuse_parts_not_built(env: Mapping[str, str]) -> None:
    for part, names in NOT_BUILT:
        named = [name for name in names if env.get(name)]
        if named:
            raise ConfigError(f"{part} is not built yet; unset {', '.join(named)}.")


def _trusted_hosts(env: Mapping[str, str]) -> tuple[str, ...] | None:
    raw = env.get("TRUSTED_HOSTS", "")
    hosts = tuple(host.lower() for host in re.split(r"[\s,]+", raw) if host)
    for host in hosts:
        if "/" in host or "@" in host:
            raise ConfigError(
                "TRUSTED_HOSTS lists host names separated by commas (autopilot.example, "
                f".autopilot.example for its subdomains), not URLs: got {host!r}"
            )
    return hosts or None


def _timeout(env: Mapping[str, str], name: str, default: float) -> float:
    value = _seconds(env, name, default)
    if value == 0:  # a socket timeout of 0 would make every call fail at once
        raise ConfigError(f"{name} must be more than 0 seconds")
    return value


PAYMENT_PROVIDERS = ("sandbox", "stripe", "razorpay")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class ReviewSettings:
    """The spam rules' thresholds: a review matching any rule waits in the moderation queue.
    Read through app.reviews.rules.review_rules (run-time settings may replace these later)."""

    min_account_age_days: int  # accounts younger than this are held back
    burst_limit: int  # more than this many reviews from one account ...
    burst_minutes: int  # ... within this many minutes are held back
    duplicate_percent: int  # word-shingle Jaccard similarity (percent) that is a near-duplicate

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReviewSettings:
        percent = _int(env, "REVIEW_DUPLICATE_PERCENT", 60)
        if not 1 <= percent <= 100:
            raise ConfigError(f"REVIEW_DUPLICATE_PERCENT must be 1 to 100, got {percent}")
        age = _int(env, "REVIEW_MIN_ACCOUNT_AGE_DAYS", 2)
        if age < 0:
            raise ConfigError(f"REVIEW_MIN_ACCOUNT_AGE_DAYS must be 0 or more, got {age}")
        return cls(
            min_account_age_days=age,
            burst_limit=_positive(env, "REVIEW_BURST_LIMIT", 3),
            burst_minutes=_positive(env, "REVIEW_BURST_MINUTES", 60),
            duplicate_percent=percent,
        )


@dataclass(frozen=True)
class PaymentSettings:
    """The payment providers' settings. ``provider`` takes checkouts; every provider whose keys
    are set (Stripe, Razorpay or both) has its webhooks accepted."""

    provider: str  # "sandbox", "stripe" or "razorpay"
    stripe_secret_key: str | None
    stripe_webhook_secret: str | None
    stripe_api_base: str | None  # None: the library's own (https://api.stripe.com)
    razorpay_key_id: str | None
    razorpay_key_secret: str | None
    razorpay_webhook_secret: str | None
    razorpay_api_base: str | None  # None: the library's own (https://api.razorpay.com)
    timeout_seconds: float

    @property
    def has_stripe(self) -> bool:
        return self.stripe_secret_key is not None

    @property
    def has_razorpay(self) -> bool:
        return self.razorpay_key_id is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str], app_env: str) -> PaymentSettings:
        """Read the PAYMENT_*, STRIPE_* and RAZORPAY_* variables; raise ConfigError when the
        chosen provider lacks its keys, a provider is half configured, or production would
        take payments in the sandbox."""

        def value(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        stripe = _provider_keys(
            "Stripe",
            {
                "STRIPE_SECRET_KEY": value("STRIPE_SECRET_KEY"),
                "STRIPE_WEBHOOK_SECRET": value("STRIPE_WEBHOOK_SECRET"),
            },
            value("STRIPE_API_BASE"),
            "STRIPE_API_BASE",
        )
        razorpay = _provider_keys(
            "Razorpay",
            {
                "RAZORPAY_KEY_ID": value("RAZORPAY_KEY_ID"),
                "RAZORPAY_KEY_SECRET": value("RAZORPAY_KEY_SECRET"),
                "RAZORPAY_WEBHOOK_SECRET": value("RAZORPAY_WEBHOOK_SECRET"),
            },
            value("RAZORPAY_API_BASE"),
            "RAZORPAY_API_BASE",
        )
        if stripe and not stripe["STRIPE_SECRET_KEY"].startswith(("sk_", "rk_")):
            raise ConfigError(
                "STRIPE_SECRET_KEY must be a secret or restricted key (sk_... or rk_...), "
                "not a publishable key."
            )
        if stripe and not stripe["STRIPE_WEBHOOK_SECRET"].startswith("whsec_"):
            raise ConfigError(
                "STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_...), "
                "shown with the webhook endpoint in Stripe's dashboard."
            )
        if razorpay and not razorpay["RAZORPAY_KEY_ID"].startswith("rzp_"):
            raise ConfigError(
                "RAZORPAY_KEY_ID must be a Razorpay key id (rzp_test_... or rzp_live_...)."
            )
        provider = (value("PAYMENT_PROVIDER") or "").lower()
        if not provider:
            provider = "stripe" if stripe else "razorpay" if razorpay else "sandbox"
        if provider not in PAYMENT_PROVIDERS:
            raise ConfigError(
                f"PAYMENT_PROVIDER must be one of {', '.join(PAYMENT_PROVIDERS)}, got {provider!r}"
            )
        if provider == "stripe" and not stripe:
            raise ConfigError(
                "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
            )
        if provider == "razorpay" and not razorpay:
            raise ConfigError(
                "PAYMENT_PROVIDER=razorpay needs RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and "
                "RAZORPAY_WEBHOOK_SECRET."
            )
        if provider == "sandbox" and app_env == "production":
            raise ConfigError(
                "Production takes real payments: set STRIPE_SECRET_KEY and "
                "STRIPE_WEBHOOK_SECRET, or the RAZORPAY_* keys (PAYMENT_PROVIDER=sandbox is for "
                "development only)."
            )
        for name in ("STRIPE_API_BASE", "RAZORPAY_API_BASE"):
            _check_api_base(name, value(name), app_env)
        return cls(
            provider=provider,
            stripe_secret_key=stripe["STRIPE_SECRET_KEY"] if stripe else None,
            stripe_webhook_secret=stripe["STRIPE_WEBHOOK_SECRET"] if stripe else None,
            stripe_api_base=value("STRIPE_API_BASE"),
            razorpay_key_id=razorpay["RAZORPAY_KEY_ID"] if razorpay else None,
            razorpay_key_secret=razorpay["RAZORPAY_KEY_SECRET"] if razorpay else None,
            razorpay_webhook_secret=razorpay["RAZORPAY_WEBHOOK_SECRET"] if razorpay else None,
            razorpay_api_base=value("RAZORPAY_API_BASE"),
            timeout_seconds=_timeout(env, "PAYMENT_TIMEOUT_SECONDS", 10.0),
        )


def _provider_keys(
    provider: str, keys: dict[str, str | None], api_base: str | None, api_base_name: str
) -> dict[str, str] | None:
    """All of a provider's keys, None when none is set (nor its API base); a provider with
    only some of them would take payments whose webhooks it then refuses."""
    missing = [name for name, key in keys.items() if key is None]
    if len(missing) == len(keys) and api_base is None:
        return None
    if missing:
        raise ConfigError(f"{provider} is half configured: set {', '.join(missing)} as well.")
    return {name: key for name, key in keys.items() if key is not None}


def _check_api_base(name: str, url: str | None, app_env: str) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
    if (
        app_env == "production"
        and parts.scheme != "https"
        and parts.hostname not in _LOOPBACK_HOSTS
    ):
        raise ConfigError(f"{name} must use https in production, got {url!r}")


@dataclass(frozen=True)
class Config:
    """Every setting the app reads. Each field is in the README's configuration table."""

    env: str
    secret_key: str
    database_url: str
    redis_url: str | None
    base_url: str
    trusted_hosts: tuple[str, ...] | None
    mail_from: str
    smtp_url: str | None
    storage_dir: str
    s3_bucket: str | None
    s3_endpoint_url: str | None
    s3_region: str | None
    search_backend: str
    search_index_dir: str
    search_refresh_seconds: float
    search_rate_limit: str
    licence_api_rate_limit: str
    ratelimit_storage_uri: str
    max_upload_bytes: int
    clamd_socket: str | None
    clamd_host: str | None
    clamd_port: int
    clamd_timeout_seconds: float
    max_product_file_bytes: int
    vendor_storage_quota_bytes: int
    scan_timeout_seconds: int
    orphan_file_grace_seconds: int
    proxy_fix_x_for: int
    outbox_sweep_seconds: int
    outbox_grace_seconds: int
    job_retry_intervals: tuple[int, ...]
    job_heartbeat_seconds: int
    redis_timeout_seconds: float
    redis_breaker_failures: int
    redis_breaker_seconds: float
    database_connect_timeout: int
    outage_log_seconds: float
    view_flush_size: int
    view_flush_seconds: int
    log_level: str
    debug: bool
    payments: PaymentSettings
    platform_commission_bps: int
    reviews: ReviewSettings
    payout_hold_days: int
    payout_minimum_cents: int
    payout_encryption_key: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_testing(self) -> bool:
        return self.env == "test"

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> Config:
        """Build the settings from ``env``; raise ConfigError on an unsafe production set-up."""
        app_env = env.get("APP_ENV", "development").strip().lower()
        if app_env not in {"development", "production", "test"}:
            raise ConfigError(f"APP_ENV must be development, production or test, got {app_env!r}")
        debug = _bool(env.get("FLASK_DEBUG"))
        secret_key = env.get("SECRET_KEY", "")
        if app_env == "production":
            if debug:
                raise ConfigError(
                    "FLASK_DEBUG is on in production: turn it off (debug mode runs code)."
                )
            if len(secret_key) < 32:
                raise ConfigError(
                    "SECRET_KEY is missing or shorter than 32 characters; production refuses to "
                    "start without one (generate: python -c 'import secrets; "
                    "print(secrets.token_hex(32))')."
                )
            if not env.get("DATABASE_URL"):
                raise ConfigError("DATABASE_URL is required in production (PostgreSQL).")
            if not env.get("BASE_URL"):
                raise ConfigError(
                    "BASE_URL is required in production: the public address, used for links "
                    "in emails (e.g. https://autopilot.example)."
                )
        _refuse_parts_not_built(env)
        trusted_hosts = _trusted_hosts(env)
        base_url = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        if app_env == "production":
            if trusted_hosts is None:
                raise ConfigError(
                    "TRUSTED_HOSTS is required in production: the host names this site answers "
                    "to (e.g. autopilot.example), so a forged Host header cannot reach links, "
                    "canonical URLs or the sitemap."
                )
            if not host_is_trusted(urlsplit(base_url).netloc, trusted_hosts):
                raise ConfigError(
                    f"BASE_URL's host is not in TRUSTED_HOSTS ({', '.join(trusted_hosts)}): "
                    "add it, or the site would refuse its own address."
                )
        if not secret_key:
            secret_key = _development_secret(instance_path)
        redis_url = env.get("REDIS_URL") or None
        database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'app.db'}"
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
        elif database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        search_backend = (env.get("SEARCH_BACKEND") or "whoosh").strip().lower()
        if search_backend not in SEARCH_BACKENDS:
            raise ConfigError(
                f"SEARCH_BACKEND must be one of {', '.join(SEARCH_BACKENDS)}, "
                f"got {search_backend!r}"
            )
        if search_backend == "postgres" and not database_url.startswith("postgresql"):
            raise ConfigError(
                "SEARCH_BACKEND=postgres needs DATABASE_URL to be PostgreSQL (its full-text "
                "index lives in the same database); use SEARCH_BACKEND=whoosh otherwise."
            )
        return cls(
            env=app_env,
            secret_key=secret_key,
            database_url=database_url,
            redis_url=redis_url,
            base_url=base_url,
            trusted_hosts=trusted_hosts,
            mail_from=env.get("MAIL_FROM", "Autopilot Monster <no-reply@autopilot.monster>"),
            smtp_url=env.get("SMTP_URL") or None,
            storage_dir=env.get("STORAGE_DIR") or str(Path(instance_path) / "storage"),
            s3_bucket=env.get("S3_BUCKET") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            # Unset: boto3's own chain (AWS_DEFAULT_REGION, ~/.aws/config) picks the region.
            s3_region=env.get("S3_REGION") or None,
            search_backend=search_backend,
            search_index_dir=env.get("SEARCH_INDEX_DIR") or str(Path(instance_path) / "search"),
            # Tests write the index from worker processes and read it at once.
            search_refresh_seconds=_seconds(
                env, "SEARCH_REFRESH_SECONDS", 0.0 if app_env == "test" else 1.0
            ),
            search_rate_limit=env.get("SEARCH_RATE_LIMIT") or "120 per minute; 1200 per hour",
            licence_api_rate_limit=env.get("LICENCE_API_RATE_LIMIT")
            or "300 per minute; 5000 per hour",
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
            max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 16 * 1024 * 1024),
            clamd_socket=env.get("CLAMD_SOCKET") or None,
            clamd_host=env.get("CLAMD_HOST") or None,
            clamd_port=_positive(env, "CLAMD_PORT", 3310),
            clamd_timeout_seconds=_timeout(env, "CLAMD_TIMEOUT_SECONDS", 120.0),
            max_product_file_bytes=_positive(env, "MAX_PRODUCT_FILE_MB", 50) * 1024 * 1024,
            vendor_storage_quota_bytes=(
                _positive(env, "VENDOR_STORAGE_QUOTA_MB", 1024) * 1024 * 1024
            ),
            scan_timeout_seconds=_positive(env, "SCAN_TIMEOUT_SECONDS", 600),
            orphan_file_grace_seconds=_int(env, "ORPHAN_FILE_GRACE_SECONDS", 3600),
            proxy_fix_x_for=_int(env, "PROXY_FIX_X_FOR", 0),
            outbox_sweep_seconds=_positive(env, "OUTBOX_SWEEP_SECONDS", 30),
            outbox_grace_seconds=_int(env, "OUTBOX_GRACE_SECONDS", 60),
            job_retry_intervals=_intervals(env, "JOB_RETRY_INTERVALS", (10, 60, 300)),
            job_heartbeat_seconds=_positive(env, "JOB_HEARTBEAT_SECONDS", 10),
            redis_timeout_seconds=_timeout(env, "REDIS_TIMEOUT_SECONDS", 0.25),
            redis_breaker_failures=_positive(env, "REDIS_BREAKER_FAILURES", 2),
            redis_breaker_seconds=_seconds(env, "REDIS_BREAKER_SECONDS", 5.0),
            database_connect_timeout=_positive(env, "DATABASE_CONNECT_TIMEOUT", 5),
            outage_log_seconds=_seconds(env, "OUTAGE_LOG_SECONDS", 60.0),
            view_flush_size=_int(env, "VIEW_FLUSH_SIZE", 200),
            view_flush_seconds=_int(env, "VIEW_FLUSH_SECONDS", 5),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            debug=debug,
            payments=PaymentSettings.from_env(env, app_env),
            platform_commission_bps=_commission(env),
            reviews=ReviewSettings.from_env(env),
            payout_hold_days=_non_negative(env, "PAYOUT_HOLD_DAYS", 14),
            payout_minimum_cents=_non_negative(env, "PAYOUT_MINIMUM_CENTS", 5000),
            payout_encryption_key=_fernet_key(env),
        )

    def flask_settings(self) -> dict[str, Any]:
        """The subset Flask and its extensions read from ``app.config``."""
        return {
            "SECRET_KEY": self.secret_key,
            "DEBUG": self.debug,
            "TESTING": self.is_testing,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options(),
            "MAX_CONTENT_LENGTH": self.max_upload_bytes,
            # Text fields are small; a 1 MB form field is hostile, not a long bio.
            "MAX_FORM_MEMORY_SIZE": 512 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
            "PREFERRED_URL_SCHEME": "https" if self.is_production else "http",
            # Requests for any other Host are refused (400) before routing; None: any host.
            "TRUSTED_HOSTS": list(self.trusted_hosts) if self.trusted_hosts else None,
            "WTF_CSRF_TIME_LIMIT": 60 * 60 * 8,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            # X-RateLimit-* headers on every answer cost two more storage round trips per
            # request (the window's count and expiry) on top of the hit itself: a third of the
            # licence API's time. A refusal (429) still says Retry-After (app/errors.py).
            "RATELIMIT_HEADERS_ENABLED": False,
            # Rate limits when their Redis is unreachable: counted in each process's memory
            # instead (the same limits, per process), never waived and never refusing everyone.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": False,
            "RATELIMIT_STORAGE_OPTIONS": (
                self.redis_client_options()
                if self.ratelimit_storage_uri.startswith(("redis://", "rediss://"))
                else {}
            ),
            "APP_CONFIG": self,
        }

    def engine_options(self) -> dict[str, Any]:
        if self.database_url.startswith("sqlite"):
            # A file cannot drop its connection (and a ping would cost a query per request).
            return {}
        # A server connection can drop between requests; a server that does not answer
        # fails the connect after DATABASE_CONNECT_TIMEOUT seconds instead of hanging.
        return {
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": self.database_connect_timeout},
        }

    def redis_client_options(self) -> dict[str, Any]:
        """Options for every Redis client a web request uses (queue, page views, fragment cache,
        rate limits): a hung Redis costs REDIS_TIMEOUT_SECONDS per call, never a retry."""
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return {
            "socket_connect_timeout": self.redis_timeout_seconds,
            "socket_timeout": self.redis_timeout_seconds,
            "retry": Retry(NoBackoff(), 0),
        }


def _commission(env: Mapping[str, str]) -> int:
    """PLATFORM_COMMISSION_BPS: the platform's share of a sale in basis points (2000 = 20 %)."""
    bps = _int(env, "PLATFORM_COMMISSION_BPS", 2000)
    if not 0 <= bps <= 10_000:
        raise ConfigError(f"PLATFORM_COMMISSION_BPS must be 0 to 10000 (basis points), got {bps}")
    return bps


def _non_negative(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, got {value}")
    return value


def _fernet_key(env: Mapping[str, str]) -> str | None:
    """PAYOUT_ENCRYPTION_KEY: the Fernet key vendors' bank details are encrypted with; unset,
    bank details cannot be saved (Stripe Connect ids still can)."""
    key = (env.get("PAYOUT_ENCRYPTION_KEY") or "").strip() or None
    if key is None:
        return None
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(
            "PAYOUT_ENCRYPTION_KEY must be a Fernet key: 32 url-safe base64-encoded bytes "
            "(generate: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None
    return key


def _development_secret(instance_path: str) -> str:
    """A per-checkout random key kept in instance/, so development sessions survive restarts."""
    path = Path(instance_path) / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
