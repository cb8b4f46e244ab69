"""Entry point for `celery -A tasks worker` and `celery -A tasks beat`.

The worker reads the same environment as the web app (DATABASE_URL, REDIS_URL,
MAIL_*, REMINDER_*), through config.py.
"""

from typing import Any

from celery.signals import worker_process_init

from app import create_app
from extensions import db

flask_app = create_app()
celery = flask_app.extensions["celery"]


@worker_process_init.connect
def _fresh_connections(**_kwargs: Any) -> None:
    # Prefork children must not reuse the parent's database connections.
    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
