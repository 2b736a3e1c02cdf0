"""Receivers: count completed participants and recompute after enough new ones."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from survey.signals import participant_completed

from .services import note_completion

logger = logging.getLogger(__name__)


@receiver(participant_completed, dispatch_uid="benchmark.count_completion")
def count_completion(sender, participant_id: int, study_id: int, **kwargs) -> None:
    """Never lets a bookkeeping error reach the participant's request that sent the signal."""
    try:
        note_completion(study_id=study_id)
    except Exception:
        logger.exception("could not count the completion of participant %s", participant_id)
