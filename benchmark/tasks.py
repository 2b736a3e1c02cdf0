"""Celery tasks of the benchmark app: recompute a study's correlations off the web request."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from .estimates import enqueue_chance, store_run_chance
from .models import CorrelationRun
from .services import claim_run, execute_run

logger = logging.getLogger(__name__)


@shared_task(name="benchmark.recompute_correlations", acks_late=True, ignore_result=True)
def recompute_correlations(run_id: int) -> None:
    """Compute the pending correlation run ``run_id``.

    Claims the run with a conditional update (pending -> running), so a duplicate delivery
    or a second call does nothing; exits quietly when the run is gone. The duration and
    any failure are recorded on the run. A finished run then queues its chance estimate
    (``estimate_chance``), which the run page shows when it is stored.
    """

    if not claim_run(run_id=run_id):
        logger.info("correlation run %s is gone or already claimed; nothing to do", run_id)
        return
    run = CorrelationRun.objects.select_related("study").filter(pk=run_id).first()
    if run is None:
        return
    execute_run(run=run)
    transaction.on_commit(lambda: enqueue_chance(run_id=run_id))


@shared_task(name="benchmark.estimate_chance", acks_late=True, ignore_result=True)
def estimate_chance(run_id: int) -> None:
    """Store the expected chance selections of the finished run ``run_id`` on it.

    Exits quietly when the run is gone, not done, or already has its estimate (so a
    duplicate delivery does nothing).
    """
    run = CorrelationRun.objects.select_related("study").filter(pk=run_id).first()
    if run is None or run.status != CorrelationRun.Status.DONE or run.chance:
        logger.info("correlation run %s: no chance estimate to make", run_id)
        return
    store_run_chance(run=run)
