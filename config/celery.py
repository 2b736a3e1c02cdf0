"""The Celery application; tasks are discovered in each app's ``tasks`` module."""

import os

from celery import Celery, signature
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("valueportrait")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def schedule_periodic_tasks(sender, **kwargs) -> None:
    """Celery beat's schedule (run ``celery -A config beat`` beside the workers): the
    providers' batches of batch-mode evaluation runs are polled every
    ``EVALUATION_BATCH_POLL_SECONDS``; Prolific bonus batches whose payment is unknown are
    checked, and interrupted ones resumed, every ``PROLIFIC_BONUS_CHECK_SECONDS``."""
    sender.add_periodic_task(
        float(settings.EVALUATION_BATCH_POLL_SECONDS),
        signature("evaluation.poll_batches"),
        name="poll-provider-batches",
    )
    sender.add_periodic_task(
        float(settings.PROLIFIC_BONUS_CHECK_SECONDS),
        signature("survey.check_bonus_batches"),
        name="check-unknown-bonus-batches",
    )
    sender.add_periodic_task(
        float(settings.PROLIFIC_BONUS_CHECK_SECONDS),
        signature("survey.resume_bonus_batches"),
        name="resume-interrupted-bonus-batches",
    )


@app.task(name="valueportrait.ping")
def ping() -> str:
    """A no-op task to check that a worker is consuming (used by tests and health checks)."""
    return "pong"
