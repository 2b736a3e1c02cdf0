"""Receivers: count completed participants and recompute after enough new ones."""

from __future__ import annotations

from django.dispatch import receiver

from survey.signals import participant_completed


@receiver(participant_completed, dispatch_uid="benchmark.count_completion")
def count_completion(sender, participant_id: int, study_id: int, **kwargs) -> None:
    from .services import note_completion

    note_completion(study_id=study_id)
