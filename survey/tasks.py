"""Background work of the survey app."""

from __future__ import annotations

from celery import shared_task

from survey.models import BonusBatch
from survey.prolific import services as prolific
from survey.prolific.errors import ProlificOperationError
from survey.services import ending


@shared_task(name="survey.expire_stale_sessions")
def expire_stale_sessions() -> int:
    """Mark in-progress participants whose item lease ran out as timed out.

    Item loads never depend on this (an expired lease stops counting at its ``expires_at``);
    the sweep keeps participant statuses current for the monitor and exports. Safe to run
    twice or concurrently (one conditional UPDATE). Schedule it with celery beat if wanted.
    """
    return ending.expire_stale()


@shared_task(name="survey.resume_bonus_batches")
def resume_bonus_batches() -> dict[int, str]:
    """Carry on bonus batches that a crash or a temporary Prolific failure left part-way
    (``prolific.resumable_batch_ids``); returns each batch's state afterwards.

    Safe to run twice or beside a researcher's click: every step of a batch is claimed with a
    conditional UPDATE, and a batch whose payment is unknown is never touched (that is
    ``check_bonus_batches``). A batch that fails again keeps its error for the review page.
    Celery beat runs it every ``PROLIFIC_BONUS_CHECK_SECONDS`` (config/celery.py).
    """
    return _step_each(prolific.resumable_batch_ids(), prolific.pay_bonus_batch)


@shared_task(name="survey.check_bonus_batches")
def check_bonus_batches() -> dict[int, str]:
    """Learn from Prolific what happened to each bonus batch whose payment is unknown
    (``prolific.check_bonus_batch``: paid if Prolific lists its bonuses, paid again only if
    none is listed after the settling time); returns each batch's state afterwards.

    Safe to run twice or beside a researcher's click (each check is claimed first). Celery
    beat runs it every ``PROLIFIC_BONUS_CHECK_SECONDS`` (config/celery.py)."""
    return _step_each(prolific.unknown_batch_ids(), prolific.check_bonus_batch)


def _step_each(batch_ids, step) -> dict[int, str]:
    """Run ``step(batch_id=...)`` on each batch; each batch's state afterwards. A step that
    fails is recorded on the batch and in the action log by ``step`` itself: the next batch
    still gets its turn, and the failed one reports the state it was left in."""
    states = {}
    for batch_id in batch_ids:
        try:
            states[batch_id] = step(batch_id=batch_id).state
        except ProlificOperationError:
            batch = BonusBatch.objects.filter(pk=batch_id).first()
            if batch is not None:
                states[batch_id] = batch.state
    return states
