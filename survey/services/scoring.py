"""Compute and store a participant's value and trait scores from their raw answers."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from survey.instruments.scoring import ScoringError, score_answers
from survey.models import Participant, ParticipantScore


@transaction.atomic
def compute_participant_scores(*, participant: Participant) -> list[ParticipantScore]:
    """Score every instrument the participant completed and store the scores.

    Values instruments store centred (MRAT) scores with the raw mean beside them; trait
    instruments store the raw mean as the score. An instrument with missing answers raises
    ``ScoringError`` (a partial questionnaire is never scored). Re-running replaces the
    computed scores; imported scores of other families are left alone.
    """
    answers: dict[str, dict[int, int]] = {}
    instruments = {}
    for response in participant.instrument_responses.select_related("instrument"):
        answers.setdefault(response.instrument.code, {})[response.item_number] = response.value
        instruments[response.instrument.code] = response.instrument
    rows: list[ParticipantScore] = []
    now = timezone.now()
    for code, given in answers.items():
        key = instruments[code].key
        scores = score_answers(key, given)
        analysis = scores.for_analysis()
        for family, values in scores.raw.items():
            for dimension, raw in values.items():
                rows.append(
                    ParticipantScore(
                        participant=participant,
                        family=family,
                        dimension=dimension,
                        score=analysis[family][dimension],
                        raw_score=raw,
                        instrument_code=code,
                        origin=ParticipantScore.Origin.COMPUTED,
                        computed_at=now,
                    )
                )
    families = {row.family for row in rows}
    participant.scores.filter(family__in=families).delete()
    ParticipantScore.objects.bulk_create(rows)
    return rows


__all__ = ["ScoringError", "compute_participant_scores"]
