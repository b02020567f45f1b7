"""Settings: one Config built from an environment mapping inside create_app."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Config:
    """Every setting the app reads. Each field is in the README's configuration table."""

    env: str
    secret_key: str
    database_url: str
    redis_url: str | None
    base_url: str
    mail_from: str
    smtp_url: str | None
    storage_dir: str
    s3_bucket: str | None
    s3_endpoint_url: str | None
    clamd_socket: str | None
    clamd_host: str | None
    clamd_port: int
    stripe_secret_key: str | None
    stripe_webhook_secret: str | None
    stripe_api_base: str | None
    search_backend: str
    search_index_dir: str
    search_refresh_seconds: float
    search_rate_limit: str
    ratelimit_storage_uri: str
    max_upload_bytes: int
    proxy_fix_x_for: int
    outbox_sweep_seconds: int
    view_flush_size: int
    view_flush_seconds: int
    log_level: str
    debug: bool
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
            base_url=env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            mail_from=env.get("MAIL_FROM", "Autopilot Monster <no-reply@autopilot.monster>"),
            smtp_url=env.get("SMTP_URL") or None,
            storage_dir=env.get("STORAGE_DIR") or str(Path(instance_path) / "storage"),
            s3_bucket=env.get("S3_BUCKET") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            clamd_socket=env.get("CLAMD_SOCKET") or None,
            clamd_host=env.get("CLAMD_HOST") or None,
            clamd_port=_int(env, "CLAMD_PORT", 3310),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            search_backend=search_backend,
            search_index_dir=env.get("SEARCH_INDEX_DIR") or str(Path(instance_path) / "search"),
            # Tests write the index from worker processes and read it at once.
            search_refresh_seconds=_seconds(
                env, "SEARCH_REFRESH_SECONDS", 0.0 if app_env == "test" else 1.0
            ),
            search_rate_limit=env.get("SEARCH_RATE_LIMIT") or "120 per minute; 1200 per hour",
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
            max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 16 * 1024 * 1024),
            proxy_fix_x_for=_int(env, "PROXY_FIX_X_FOR", 0),
            outbox_sweep_seconds=_int(env, "OUTBOX_SWEEP_SECONDS", 30),
            view_flush_size=_int(env, "VIEW_FLUSH_SIZE", 200),
            view_flush_seconds=_int(env, "VIEW_FLUSH_SECONDS", 5),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            debug=debug,
        )

    def flask_settings(self) -> dict[str, Any]:
        """The subset Flask and its extensions read from ``app.config``."""
        return {
            "SECRET_KEY": self.secret_key,
            "DEBUG": self.debug,
            "TESTING": self.is_testing,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            # A server connection can drop between requests; an SQLite file cannot (and a
            # ping would cost a query per request).
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": not self.database_url.startswith("sqlite")
            },
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
            "WTF_CSRF_TIME_LIMIT": 60 * 60 * 8,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_HEADERS_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            # Rendered fragments: shared by every web process through Redis when configured.
            "CACHE_TYPE": "RedisCache" if self.redis_url else "app.cache.LocalCache",
            "CACHE_REDIS_URL": self.redis_url,
            "CACHE_KEY_PREFIX": "cache:",
            "CACHE_DEFAULT_TIMEOUT": 60,
            "CACHE_THRESHOLD": 3000,  # in-process cache: at most this many fragments
            "APP_CONFIG": self,
        }


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
