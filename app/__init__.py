"""Autopilot Monster: a multi-vendor marketplace for AI agents and automation assets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    test_config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Flask:
    """Build the app from ``env`` (default: the process environment) plus ``test_config``."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    environ = dict(os.environ if env is None else env)
    config = Config.from_env(environ, app.instance_path)
    app.config.update(config.flask_settings())
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_extensions(app)
    register_listeners(app)
    register_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_hooks(app)
    register_commands(app)
    if config.proxy_fix_x_for:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_fix_x_for, x_proto=1)  # type: ignore[method-assign]
    return app


def register_extensions(app: Flask) -> None:
    from app.cache import init_app as init_cache
    from app.commerce.providers import init_app as init_payments
    from app.extensions import csrf, db, htmx, limiter, login_manager, migrate
    from app.forms import Request
    from app.outages import init_outages
    from app.queue import init_redis
    from app.redis_guard import init_redis_guard
    from app.search import init_app as init_search
    from app.security import configure_logging
    from app.storage import init_app as init_storage
    from app.urls import init_app as init_urls

    configure_logging(app)
    init_outages(app)
    db.init_app(app)
    register_session_teardown(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        from app.extensions import tune_sqlite

        with app.app_context():
            event.listen(db.engine, "connect", tune_sqlite)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    app.request_class = Request  # htmx's request (set by init_app), with the body cap
    limiter.init_app(app)
    init_cache(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login_GET"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    init_redis(app)
    init_storage(app)
    init_redis_guard(app)
    init_payments(app)
    init_search(app)
    init_urls(app)

    from app.accounts.models import User

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        from sqlalchemy import select

        if not token or len(token) > 64:
            return None
        user = db.session.scalar(select(User).where(User.session_token == token))
        return user if user is not None and user.is_active else None


def register_listeners(app: Flask) -> None:
    """Session events: a commit that changed the catalog expires the cached pages."""
    from app.catalog.listeners import register_listeners as register

    register()


def register_converters(app: Flask) -> None:
    from app.forms import IdConverter

    app.url_map.converters["id"] = IdConverter


def register_session_teardown(app: Flask) -> None:
    """Remove the request's database session before Flask-SQLAlchemy's own teardown does
    (teardowns run last registered first), so a failure there is logged and never replaces
    the response already made with the server's bare error page."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.extensions import db

    @app.teardown_appcontext
    def remove_session(_error: BaseException | None) -> None:
        try:
            db.session.remove()
        except SQLAlchemyError as exc:
            # Typically the rollback of a connection that dropped mid-request. That failure
            # ended the transaction, so closing the session again releases the connection.
            app.extensions["outages"].failed("Database (session cleanup)", exc, traceback=True)
            db.session.remove()


def register_blueprints(app: Flask) -> None:
    from app.accounts.views import bp as accounts_bp
    from app.admin.views import bp as admin_bp
    from app.api.views import bp as api_bp
    from app.assets.views import bp as assets_bp
    from app.catalog.views import bp as catalog_bp
    from app.commerce.views import bp as commerce_bp
    from app.core.views import bp as core_bp
    from app.downloads.views import bp as downloads_bp
    from app.extensions import csrf
    from app.licensing.views import bp as licensing_bp
    from app.notifications.views import bp as notifications_bp
    from app.reviews.views import bp as reviews_bp
    from app.search.views import bp as search_bp
    from app.support.views import bp as support_bp
    from app.vendors.views import bp as vendors_bp

    for blueprint in (
        core_bp,
        accounts_bp,
        catalog_bp,
        vendors_bp,
        search_bp,
        admin_bp,
        downloads_bp,
        assets_bp,
        commerce_bp,
        notifications_bp,
        licensing_bp,
        api_bp,
        reviews_bp,
        support_bp,
    ):
        app.register_blueprint(blueprint)
    # The JSON API reads no cookie (a licence key is its credential), so no CSRF token.
    csrf.exempt(api_bp)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register_errorhandlers as register

    register(app)


def register_hooks(app: Flask) -> None:
    from flask_login import current_user
    from flask_wtf.csrf import generate_csrf

    from app.accounts.forms import ConfirmForm
    from app.accounts.permissions import Permission, refusal
    from app.outbox.services import dispatch_committed
    from app.security import register_security
    from app.storage import media_url

    register_security(app)
    app.jinja_env.globals["media_url"] = media_url

    @app.after_request
    def dispatch_events(response):
        # Jobs are sent only after the view's commit has succeeded.
        dispatch_committed()
        return response

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {
            "csrf_token_value": generate_csrf,
            "Permission": Permission,
            "refusal": refusal,
            "current_user": current_user,
            "confirm_form": ConfirmForm,
            # Every page says so while checkouts go to the sandbox (no real money).
            "sandbox_payments": app.extensions["payments"].checkout.is_sandbox,
            "endpoints": app.view_functions,
        }


def register_commands(app: Flask) -> None:
    from app.commands import register

    register(app)
