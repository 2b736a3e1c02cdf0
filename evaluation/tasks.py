"""Celery tasks of a run: ``dispatch_run`` fans out into ``evaluate_batch`` tasks.

Tasks take ids and JSON units, re-fetch, exit quietly when the run is gone or no longer
active, and are safe to run twice (rows are unique per unit and written with an insert that
ignores existing ones). ``acks_late`` with reject-on-worker-lost means a batch whose worker
dies is delivered again.
"""

from __future__ import annotations

import logging

from celery import shared_task

from evaluation.units import as_unit, chunks

from .models import EvaluationRun

log = logging.getLogger(__name__)


@shared_task(name="evaluation.dispatch_run", acks_late=True, ignore_result=True)
def dispatch_run(run_id: int) -> int:
    """Mark the run running and queue one batch task per ``batch_size`` missing units."""
    from .selectors import missing_units
    from .services import finish_run_if_complete

    claimed = EvaluationRun.objects.filter(
        pk=run_id, status__in=[EvaluationRun.Status.QUEUED, EvaluationRun.Status.RUNNING]
    ).update(status=EvaluationRun.Status.RUNNING)
    if not claimed:
        return 0
    run = EvaluationRun.objects.select_related("item_set").get(pk=run_id)
    batches = chunks(missing_units(run=run), run.batch_size)
    for batch in batches:
        evaluate_batch.apply_async(args=[run_id, [list(u) for u in batch]])
    if not batches:
        finish_run_if_complete(run_id=run_id)
    return len(batches)


@shared_task(name="evaluation.evaluate_batch", acks_late=True, ignore_result=True)
def evaluate_batch(run_id: int, units: list[list]) -> int:
    """Answer the batch's units that have no row yet; close the run when it is complete."""
    from .execution import execute_units
    from .services import finish_run_if_complete

    written = execute_units(run_id, [as_unit(u) for u in units])
    finish_run_if_complete(run_id=run_id)
    return written
