"""Draftflow: consultation on draft regulations and emulation scoring.

Start it with `flask --app app run`; every command goes through `flask --app app …`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import gettext

import config as config_module
from extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    select_locale,
    select_timezone,
)

# Packages that add their own demo content after the organisation exists.
# How often an active session cookie is re-signed (see _session_expiry).
SESSION_SLIDE_SECONDS = 60

DEMO_MODULES = [
    "drafts.demo",
    "comments.consultation.demo",
    "comments.conference.demo",
    "workflow.demo",
]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.build_config(instance_path, config))

    db.init_app(app)
    # Batch mode lets Alembic alter SQLite tables (it copies and swaps them).
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    limiter.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "warning"
    from accounts.i18n import N_

    # Flask-Login's own default is English; ours is translated when flashed.
    login_manager.login_message = N_("Vui lòng đăng nhập để tiếp tục.")
    login_manager.localize_callback = gettext
    login_manager.session_protection = "strong"

    _trust_proxies(app)
    _allow_internal_mail_domains()
    _bound_integer_urls(app)
    _load_models()
    _register_blueprints(app)
    _register_cli(app)
    _install_request_hooks(app)
    _quiet_loggers()

    from tasks import init_celery

    init_celery(app)
    return app


def _load_models() -> None:
    """Import every model module so the metadata (and Alembic) sees every table."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


MODEL_MODULES = [
    "accounts.models",
    "notices.models",
    "drafts.models",
    "comments.consultation.models",
    "comments.conference.models",
    "workflow.models",
    "tasks.models",
]


def _register_blueprints(app: Flask) -> None:
    from accounts import api as accounts_api
    from accounts import views as accounts_views
    from accounts.errors import register_error_handlers
    from comments.conference import api as conference_api
    from comments.conference import views as conference_views
    from comments.consolidation import api as consolidation_api
    from comments.consolidation import views as consolidation_views
    from comments.consultation import api as comments_api
    from comments.consultation import views as comments_views
    from drafts import api as drafts_api
    from drafts import views as drafts_views
    from tasks import api as tasks_api
    from tasks import views as tasks_views
    from workflow import api as workflow_api
    from workflow import views as workflow_views

    for module in (
        accounts_views,
        drafts_views,
        comments_views,
        consolidation_views,
        conference_views,
        workflow_views,
        tasks_views,
    ):
        app.register_blueprint(module.bp)
    # The API authenticates with tokens, not cookies, so CSRF does not apply to it.
    for module in (
        accounts_api,
        drafts_api,
        comments_api,
        consolidation_api,
        conference_api,
        workflow_api,
        tasks_api,
    ):
        csrf.exempt(module.bp)
        app.register_blueprint(module.bp)
    register_error_handlers(app)

    from accounts.templating import register_template_helpers

    register_template_helpers(app)


def _register_cli(app: Flask) -> None:
    import click

    from accounts.cli import register as register_accounts_cli
    from drafts.cli import register as register_drafts_cli

    register_accounts_cli(app)
    register_drafts_cli(app)

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Chỉ nạp khi cơ sở dữ liệu còn trống.")
    @click.option("--logins", "only_logins", is_flag=True, help="Chỉ in các tài khoản demo.")
    def demo(if_empty: bool, only_logins: bool) -> None:
        """Nạp dữ liệu demo (chạy lại nhiều lần không thay đổi gì)."""
        import importlib

        from accounts import demo as accounts_demo
        from accounts.clock import local_today

        if not only_logins and not (if_empty and not accounts_demo.is_empty()):
            today = local_today()
            # The emulation year that contains today (it starts on 01/12).
            year = today.year + 1 if today.month == 12 else today.year
            units = accounts_demo.load_organisation(year)
            for name in DEMO_MODULES:
                module = importlib.import_module(name)
                module.load_demo(units, year)
            db.session.commit()
            click.echo("Đã nạp dữ liệu demo.")
        click.echo("Tài khoản demo (tên đăng nhập / mật khẩu):")
        for login, password in accounts_demo.printed_logins():
            click.echo(f"  {login.username:<12} {password:<14} {login.note}")


def _install_request_hooks(app: Flask) -> None:
    @app.before_request
    def _session_expiry() -> None:
        # A sliding session: it lasts PERMANENT_SESSION_LIFETIME after the last request.
        # The API authenticates with tokens and has no session to slide; marking one
        # would sign and send a cookie with every answer.
        if request.path.startswith("/api/"):
            return
        if not session.permanent:
            session.permanent = True
        # Re-signing the cookie on every page cost as much as a query; once a minute
        # keeps the expiry sliding to within that minute (SESSION_REFRESH_EACH_REQUEST
        # is off, so an unchanged session sends no cookie).
        minute = int(time.time()) // SESSION_SLIDE_SECONDS
        if session.get("_slid") != minute:
            session["_slid"] = minute

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _trust_proxies(app: Flask) -> None:
    """Behind nginx, the client's address (kept with each login attempt) and the https
    scheme come in X-Forwarded-* headers; believe only as many hops as are configured."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _bound_integer_urls(app: Flask) -> None:
    """Ids in URLs are 32-bit database keys: a larger number is simply not found,
    rather than an overflow inside the database driver."""
    from werkzeug.exceptions import NotFound

    @app.url_value_preprocessor
    def _check_ids(endpoint: str | None, values: dict[str, Any] | None) -> None:
        for value in (values or {}).values():
            if isinstance(value, int) and not 0 < value < 2**31:
                raise NotFound()


def _allow_internal_mail_domains() -> None:
    # Agencies run internal mail on domains such as vks.local; email-validator
    # would refuse those special-use names, so let them through (syntax is still checked).
    import email_validator

    for name in ("local", "test"):
        if name in email_validator.SPECIAL_USE_DOMAIN_NAMES:
            email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(name)


def _quiet_loggers() -> None:
    # Werkzeug's access log would print query strings; keep it at warnings.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
