"""The shared extension objects, created unbound; `app.create_app` attaches them.

This is the foundation layer: every package may import it, and it imports no
package of ours (config.py aside), so the import graph never closes a circle here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

# Constraint names must be deterministic so Alembic can alter them, on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# No default limits: only the credential endpoints are limited (see accounts.views.login).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets the web server and the Celery worker read while the other writes;
    # SQLite leaves foreign keys off unless asked, per connection.
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def select_locale() -> str:
    # Tasks and commands have no session: their messages are in the default language.
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    lang = session.get("lang")
    if lang in languages:
        return lang
    if request.path.startswith("/api/"):
        # A program names its language in the header; otherwise the token's owner
        # reads the answers in the language they chose for the site. Pages ignore the
        # header: the site speaks Vietnamese until its reader picks another language.
        asked = request.accept_languages.best_match(languages)
        if asked:
            return asked
        owner = g.get("api_user")
        if getattr(owner, "locale", None) in languages:
            return owner.locale
    return default


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# --- the Celery binding -------------------------------------------------------------------
# tasks.init_celery binds a Celery app to the Flask app; lower layers hand work to it by
# task name, so they never import the tasks package that defines the task.
def enqueue(task_name: str, *args: Any) -> None:
    """Hand a task to the worker (inline when Celery is eager).

    A broker that is down is not an error here: the rows are committed, and the
    sweep picks them up once the worker runs.
    """
    celery_app = current_app.extensions["celery"]
    try:
        celery_app.tasks[task_name].apply_async(args)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue %s%r: %s", task_name, args, exc.__class__.__name__)
