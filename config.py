"""Configuration: every default lives here, and the environment overrides it.

Nothing here is read at import time by the rest of the code: `create_app()` calls
`build_config()` and puts the result on `app.config`.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Read the secret key from instance/, creating it on first run.

    A generated key survives restarts (sessions stay valid) without ever being a
    literal in the code or the repository.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def defaults(instance_path: Path) -> dict[str, Any]:
    sqlite_path = instance_path / "draftflow.sqlite"
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_path}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Celery: an embedded SQLite broker so `make run` needs no Redis.
        "CELERY_BROKER_URL": f"sqla+sqlite:///{instance_path / 'celery-broker.sqlite'}",
        "CELERY_TASK_ALWAYS_EAGER": False,
        "REMINDER_SCAN_MINUTES": 5,
        "REMINDER_CONSULTATION_OFFSETS_DAYS": [3, 1],
        "REMINDER_SCORE_GAP_POINTS": 5,
        # Seconds between scans, overriding REMINDER_SCAN_MINUTES (tests use a few seconds).
        "REMINDER_SCAN_SECONDS": None,
        "REMINDER_SHEET_OFFSETS_DAYS": [3, 1],
        # How long after a deadline a missed notice is still worth sending.
        "REMINDER_CATCH_UP_DAYS": 7,
        "REMINDER_DIGEST_HOUR": 7,
        "REMINDER_DIGEST_MINUTE": 30,
        "REMINDER_RUN_LOG_DAYS": 30,
        "MAIL_SERVER": "",
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_DEFAULT_SENDER": "Draftflow <no-reply@draftflow.local>",
        "MAIL_OUTBOX_DIR": str(instance_path / "outbox"),
        "MAIL_MAX_ATTEMPTS": 5,
        "MAIL_TIMEOUT": 30,
        "MAIL_RETRY_BASE_SECONDS": 60,
        "MAIL_RETRY_MAX_SECONDS": 3600,
        "MAIL_RETRY_SWEEP_SECONDS": 60,
        # Longer than any SMTP conversation can take (MAIL_TIMEOUT per command).
        "MAIL_SEND_LEASE_SECONDS": 300,
        "UPLOAD_DIR": str(instance_path / "uploads"),
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        "EVIDENCE_MAX_BYTES": 10 * 1024 * 1024,
        # Uploaded documents are read in a child process (drafts.sandbox) with these limits:
        # address space in MB, and wall-clock seconds before it is killed.
        "PARSE_MEMORY_MB": 512,
        "PARSE_TIMEOUT_SECONDS": 30.0,
        # A criteria sheet with content past these is refused while it is read.
        "CRITERIA_MAX_ROWS": 5000,
        "CRITERIA_MAX_COLUMNS": 40,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        # app._session_expiry slides the session once a minute instead.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # Days a new API token lasts unless its maker chooses otherwise.
        "API_TOKEN_DAYS": 90,
        # Hours a comment or score request's Idempotency-Key (or form nonce) keeps its answer.
        "IDEMPOTENCY_KEY_HOURS": 24,
        # How long a password-reset link and an invitation link work (until used).
        "PASSWORD_RESET_HOURS": 2,
        "INVITATION_DAYS": 7,
        # At most one reset mail per account in this many minutes, however often asked.
        "PASSWORD_RESET_INTERVAL_MINUTES": 5,
        # Reset requests one address may make (Flask-Limiter syntax).
        "PASSWORD_RESET_RATE_PER_ADDRESS": "5 per minute; 20 per hour",
        # Wrong passwords for one user name from one address before that pair is locked;
        # other addresses can still sign in as that user.
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        # Login attempts one address may make (Flask-Limiter syntax), whatever the names.
        "LOGIN_RATE_PER_ADDRESS": "20 per minute; 100 per hour",
        # Where the limiter counts: memory (one process) unless REDIS_URL or this is set.
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Emulation year: 01/12 of the previous year to 30/11; agencies may differ.
        "EMULATION_YEAR_START_MONTH": 12,
        "EMULATION_YEAR_START_DAY": 1,
        # A unit that was ineligible last year cannot lead its Cụm/Khối; some agencies drop this.
        "RULE_INELIGIBLE_CANNOT_LEAD": True,
        "AGENCY_NAME": "VIỆN KIỂM SÁT NHÂN DÂN TỈNH",
        "AGENCY_PLACE": "Bắc Giang",
        # Who signs the agency's documents (report, comparison table, results), e.g.
        # "KT. VIỆN TRƯỞNG" / "PHÓ VIỆN TRƯỞNG" / name. With no name, the drafting unit's
        # head signs; a unit's own documents are always signed by its head.
        "SIGNER_AUTHORITY": "",
        "SIGNER_TITLE": "",
        "SIGNER_NAME": "",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to believe
        # (nginx alone: 1). Left at 0, such headers are ignored: anyone can send them.
        "TRUSTED_PROXIES": 0,
    }


# Environment variables that override a default, with how to read them.
_ENV: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "CELERY_BROKER_URL": ("CELERY_BROKER_URL", str),
    "REMINDER_SCAN_MINUTES": ("REMINDER_SCAN_MINUTES", int),
    "REMINDER_SCAN_SECONDS": ("REMINDER_SCAN_SECONDS", float),
    "MAIL_MAX_ATTEMPTS": ("MAIL_MAX_ATTEMPTS", int),
    "MAIL_TIMEOUT": ("MAIL_TIMEOUT", float),
    "MAIL_RETRY_BASE_SECONDS": ("MAIL_RETRY_BASE_SECONDS", float),
    "MAIL_RETRY_SWEEP_SECONDS": ("MAIL_RETRY_SWEEP_SECONDS", float),
    "MAIL_SEND_LEASE_SECONDS": ("MAIL_SEND_LEASE_SECONDS", float),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_USE_SSL": ("MAIL_USE_SSL", _bool),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_DEFAULT_SENDER": ("MAIL_DEFAULT_SENDER", str),
    "MAIL_OUTBOX_DIR": ("MAIL_OUTBOX_DIR", str),
    "UPLOAD_DIR": ("UPLOAD_DIR", str),
    "PARSE_MEMORY_MB": ("PARSE_MEMORY_MB", int),
    "PARSE_TIMEOUT_SECONDS": ("PARSE_TIMEOUT_SECONDS", float),
    "CRITERIA_MAX_ROWS": ("CRITERIA_MAX_ROWS", int),
    "CRITERIA_MAX_COLUMNS": ("CRITERIA_MAX_COLUMNS", int),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "RULE_INELIGIBLE_CANNOT_LEAD": ("RULE_INELIGIBLE_CANNOT_LEAD", _bool),
    "AGENCY_NAME": ("AGENCY_NAME", str),
    "AGENCY_PLACE": ("AGENCY_PLACE", str),
    "SIGNER_AUTHORITY": ("SIGNER_AUTHORITY", str),
    "SIGNER_TITLE": ("SIGNER_TITLE", str),
    "SIGNER_NAME": ("SIGNER_NAME", str),
    "PUBLIC_URL": ("PUBLIC_URL", str),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "API_TOKEN_DAYS": ("API_TOKEN_DAYS", int),
    "IDEMPOTENCY_KEY_HOURS": ("IDEMPOTENCY_KEY_HOURS", int),
    "PASSWORD_RESET_HOURS": ("PASSWORD_RESET_HOURS", int),
    "INVITATION_DAYS": ("INVITATION_DAYS", int),
    "PASSWORD_RESET_INTERVAL_MINUTES": ("PASSWORD_RESET_INTERVAL_MINUTES", int),
    "PASSWORD_RESET_RATE_PER_ADDRESS": ("PASSWORD_RESET_RATE_PER_ADDRESS", str),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "LOGIN_RATE_PER_ADDRESS": ("LOGIN_RATE_PER_ADDRESS", str),
}


def normalise_database_url(url: str) -> str:
    """Route plain PostgreSQL URLs through psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = defaults(instance_path)
    for env_name, (key, cast) in _ENV.items():
        if env_name in os.environ and os.environ[env_name] != "":
            config[key] = cast(os.environ[env_name])
    # REDIS_URL is the short way to say "use Redis as the broker".
    if os.environ.get("REDIS_URL") and not os.environ.get("CELERY_BROKER_URL"):
        config["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
    # Several web workers must share the login counters: Redis when there is one.
    if os.environ.get("REDIS_URL") and not os.environ.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = os.environ["REDIS_URL"]
    if overrides:
        config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(instance_path)
    return config
