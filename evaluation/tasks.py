"""Celery tasks of a run: ``dispatch_run`` fans out into ``evaluate_batch`` tasks.

Thin: each task hands its ids to :mod:`evaluation.lifecycle`, which loads the run once,
exits quietly when it is gone or no longer active, and is safe to run twice (status changes
are conditional updates; rows are unique per unit and written with an insert that ignores
existing ones). ``acks_late`` with reject-on-worker-lost means a batch whose worker dies is
delivered again.
"""

from __future__ import annotations

from celery import shared_task

from evaluation import lifecycle
from evaluation.units import as_unit


@shared_task(name="evaluation.dispatch_run", acks_late=True, ignore_result=True)
def dispatch_run(run_id: int) -> int:
    """Mark the run running and queue one batch task per ``batch_size`` missing units."""
    return lifecycle.dispatch(run_id=run_id)


@shared_task(name="evaluation.evaluate_batch", acks_late=True, ignore_result=True)
def evaluate_batch(run_id: int, units: list[list]) -> int:
    """Answer the batch's units that have no row yet; close the run when it is complete."""
    return lifecycle.execute_batch(run_id=run_id, units=[as_unit(u) for u in units])


@shared_task(name="evaluation.poll_batches", ignore_result=True)
def poll_batches() -> int:
    """Periodic (Celery beat): queue one ``advance_batch`` per provider batch that is due."""
    return lifecycle.poll_batches()


@shared_task(name="evaluation.advance_batch", acks_late=True, ignore_result=True)
def advance_batch(batch_id: int) -> str:
    """Submit or poll one provider batch; store its results once it has ended."""
    return lifecycle.advance_batch(batch_id=batch_id)
