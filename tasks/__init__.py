"""Background work: the Celery app bound to Flask, deadline scans, reminders, e-mail.

`celery -A tasks worker` and `celery -A tasks beat` find the Celery app in
`tasks/celery.py`, which builds the Flask app once so every task runs inside its
app context. The beat schedule is here, in code: the deadline scan every
REMINDER_SCAN_MINUTES (REMINDER_SCAN_SECONDS when set, for tests), the daily digest
at REMINDER_DIGEST_HOUR:REMINDER_DIGEST_MINUTE Asia/Ho_Chi_Minh, and the mail retry
sweep every MAIL_RETRY_SWEEP_SECONDS, and the background-job sweep every JOB_SWEEP_SECONDS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

# Settings of this package that config.py does not define (yet); config.py wins.


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            # A fresh app context per task: its own database session, removed after.
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
        # A web request that commits must not hang on a broker that is down: the
        # sweep finds the committed mail anyway.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(app.config),
    )
    app.extensions["celery"] = celery_app
    _register_shared_tasks()
    _register_templating(app)
    return celery_app


def scan_interval(config: Any) -> timedelta:
    seconds = config.get("REMINDER_SCAN_SECONDS")
    if seconds:
        return timedelta(seconds=float(seconds))
    return timedelta(minutes=float(config["REMINDER_SCAN_MINUTES"]))


def beat_schedule(config: Any) -> dict[str, dict[str, Any]]:
    from tasks.background import JOB_SWEEP
    from tasks.jobs import DIGEST, SCAN, SWEEP

    scan_every = scan_interval(config)
    sweep_every = timedelta(seconds=float(config["MAIL_RETRY_SWEEP_SECONDS"]))
    job_sweep_every = timedelta(seconds=float(config["JOB_SWEEP_SECONDS"]))
    return {
        "reminder-scan": {
            "task": SCAN,
            "schedule": scan_every,
            # Scans queued while no worker ran are stale: the next one does their work.
            "options": {"expires": scan_every.total_seconds()},
        },
        "daily-digest": {
            "task": DIGEST,
            "schedule": crontab(
                hour=int(config["REMINDER_DIGEST_HOUR"]),
                minute=int(config["REMINDER_DIGEST_MINUTE"]),
            ),
            "options": {"expires": 12 * 3600},
        },
        "mail-retry-sweep": {
            "task": SWEEP,
            "schedule": sweep_every,
            "options": {"expires": sweep_every.total_seconds()},
        },
        "job-sweep": {
            "task": JOB_SWEEP,
            "schedule": job_sweep_every,
            "options": {"expires": job_sweep_every.total_seconds()},
        },
    }


def _register_shared_tasks() -> None:
    # Importing the module declares the shared tasks; every Celery app gets them.
    import tasks.jobs
    import tasks.runners  # noqa: F401


def _register_templating(app: Flask) -> None:
    from flask_login import current_user

    from notices.notify import unread_count

    def unread_for(user: Any) -> int:
        return unread_count(user) if getattr(user, "is_authenticated", False) else 0

    # accounts.templating reads this for the "Thông báo" label without importing tasks.
    app.extensions["unread_notifications"] = unread_for

    @app.context_processor
    def _unread() -> dict[str, Any]:
        return {"unread_notifications": lambda: unread_for(current_user)}
