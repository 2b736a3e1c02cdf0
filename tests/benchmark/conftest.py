"""A small live study with completed participants, ratings and value scores."""

import numpy as np
import pytest
from scipy import stats

from benchmark.models import StudyAnalysisSettings
from survey.instruments import dimensions as dims
from survey.models import ItemRating, Participant, ParticipantScore
from tests.factories import ItemFactory, ParticipantFactory, StudyFactory

SMALL_STUDY_MINIMUMS = {"min_raters_per_pair": 10, "min_reliability_respondents": 10}


@pytest.fixture
def small_study(db):
    """6 items × 10 Schwartz values; 14 completed raters (one flagged), 1 still in progress.

    Item k's ratings follow Power for k = 0, 1 (r > 0.3), the rest are noise. Its 13
    counted raters are below the default minimums (20), so the study's analysis settings
    lower the raters-per-pair and reliability minimums to 10 (``SMALL_STUDY_MINIMUMS``) for
    the tests of the selection and export mechanics.
    """
    return build_small_study()


def build_small_study():
    """The ``small_study`` fixture's data (also used by the real-worker test's subprocess)."""
    rng = np.random.default_rng(5)
    items = [ItemFactory() for _ in range(6)]
    study = StudyFactory(items=items, exclude_flagged_participants=True)
    people = []
    for k in range(15):
        status = Participant.Status.IN_PROGRESS if k == 14 else Participant.Status.COMPLETED
        flags = {"flags": ["straightlining"]} if k == 13 else {}
        people.append(ParticipantFactory(study=study, status=status, quality_flags=flags))
    power = dims.SCHWARTZ_VALUES.index("Power")
    scores = rng.normal(size=(15, 10))
    ParticipantScore.objects.bulk_create(
        ParticipantScore(participant=p, family=dims.SCHWARTZ, dimension=name, score=scores[i, j])
        for i, p in enumerate(people)
        for j, name in enumerate(dims.SCHWARTZ_VALUES)
    )
    ratings = []
    for i, p in enumerate(people):
        for j, item in enumerate(items):
            signal = 1.5 * scores[i, power] if j < 2 else 0
            value = int(np.clip(np.round(3.5 + signal + rng.normal()), 1, 6))
            ratings.append(ItemRating(participant=p, item=item, rating=value))
    ItemRating.objects.bulk_create(ratings)
    StudyAnalysisSettings.objects.create(study=study, **SMALL_STUDY_MINIMUMS)
    return study


def expected_spearman(study, item, dimension):
    """scipy on the counted raters (completed and unflagged) of one pair."""
    rows = ItemRating.objects.filter(
        item=item, participant__status="completed", participant__quality_flags={}
    ).values_list("participant_id", "rating")
    scores = dict(
        ParticipantScore.objects.filter(dimension=dimension, family=dims.SCHWARTZ).values_list(
            "participant_id", "score"
        )
    )
    x = [r for pid, r in rows]
    y = [scores[pid] for pid, _ in rows]
    return stats.spearmanr(x, y)
