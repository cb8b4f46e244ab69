"""Background work: the Celery app bound to Flask, deadline scans, reminders, e-mail.

`celery -A tasks worker` finds the Celery app in `tasks/celery.py`, which builds the
Flask app once so every task runs inside its app context.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_ignore_result=True,
        task_always_eager=app.config["CELERY_TASK_ALWAYS_EAGER"],
        task_eager_propagates=True,
        timezone="Asia/Ho_Chi_Minh",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
    )
    app.extensions["celery"] = celery_app
    return celery_app
