"""Celery tasks of the benchmark app: recompute a study's correlations off the web request."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="benchmark.recompute_correlations", acks_late=True, ignore_result=True)
def recompute_correlations(run_id: int) -> None:
    """Compute the pending correlation run ``run_id``.

    Claims the run with a conditional update (pending -> running), so a duplicate delivery
    or a second call does nothing; exits quietly when the run is gone. The duration and
    any failure are recorded on the run.
    """
    from .models import CorrelationRun
    from .services import claim_run, execute_run

    if not claim_run(run_id=run_id):
        logger.info("correlation run %s is gone or already claimed; nothing to do", run_id)
        return
    run = CorrelationRun.objects.select_related("study").filter(pk=run_id).first()
    if run is None:
        return
    execute_run(run=run)
