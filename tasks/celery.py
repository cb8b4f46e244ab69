"""Entry point for `celery -A tasks worker` and `celery -A tasks beat`."""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
