"""Receivers: count completed participants and recompute after enough new ones; mark runs
stale when a participant's data is erased."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from survey.signals import participant_completed, participant_erased

from .services import mark_runs_stale_after_erasure, note_completion

logger = logging.getLogger(__name__)


@receiver(participant_completed, dispatch_uid="benchmark.count_completion")
def count_completion(sender, participant_id: int, study_id: int, **kwargs) -> None:
    """Never lets a bookkeeping error reach the participant's request that sent the signal."""
    try:
        note_completion(study_id=study_id)
    except Exception:
        logger.exception("could not count the completion of participant %s", participant_id)


@receiver(participant_erased, dispatch_uid="benchmark.mark_runs_stale")
def mark_stale_on_erasure(
    sender,
    study_id: int,
    external_id: str,
    pseudonym: str,
    arrived_at,
    erasure_id: int,
    **kwargs,
) -> None:
    """Runs inside the erasure's transaction: an error here stops the erasure (so no run
    holding erased data is left unmarked)."""
    mark_runs_stale_after_erasure(
        study_id=study_id,
        names=(external_id, pseudonym),
        arrived_at=arrived_at,
        erasure_id=erasure_id,
    )
