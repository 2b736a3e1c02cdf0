"""The Celery application; tasks are discovered in each app's ``tasks`` module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("valueportrait")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="valueportrait.ping")
def ping() -> str:
    """A no-op task to check that a worker is consuming (used by tests and health checks)."""
    return "pong"
