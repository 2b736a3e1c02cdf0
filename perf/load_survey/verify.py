"""After the run: compare the database with what the participants were acknowledged.

Django side (called after ``django.setup()``). An acknowledged answer is *lost* when no row
holds it or the row holds another value; *duplicated* when more than one row exists for
the same participant and question (the unique constraints forbid it; counted anyway) or
one panel id became two participants. Rows nobody was acknowledged (a request that timed
out after the commit) are reported separately: they are not lost answers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np


@dataclass
class Verification:
    acknowledged: int
    stored_matching: int
    lost: int
    wrong_value: int
    duplicated_rows: int
    duplicated_participants: int
    unacknowledged_rows: int
    completed_in_db: int
    completed_seen: int
    # Balance over the launch study's item loads (completed + leased).
    items: int
    ideal: float
    min_load: int
    max_load: int
    within_one: bool

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.wrong_value == 0
            and self.duplicated_rows == 0
            and self.duplicated_participants == 0
            and self.completed_in_db == self.completed_seen
            and self.within_one
        )


def stored_answers(slugs: list[str]) -> tuple[dict[tuple, int], int]:
    """{(external id, "item"|instrument code, position|number): value} and the row surplus."""
    from django.db.models import Count

    from survey.models import Assignment, InstrumentResponse, ItemRating

    position_of = {
        (participant_id, item_id): position
        for participant_id, item_id, position in Assignment.objects.filter(
            participant__study__slug__in=slugs, item__isnull=False
        ).values_list("participant_id", "item_id", "position")
    }
    stored: dict[tuple, int] = {}
    for participant_id, external_id, item_id, rating in ItemRating.objects.filter(
        participant__study__slug__in=slugs
    ).values_list("participant_id", "participant__external_id", "item_id", "rating"):
        stored[(external_id, "item", position_of[(participant_id, item_id)])] = rating
    for external_id, position, value in Assignment.objects.filter(
        participant__study__slug__in=slugs,
        kind=Assignment.Kind.ATTENTION,
        given_value__isnull=False,
    ).values_list("participant__external_id", "position", "given_value"):
        stored[(external_id, "item", position)] = value
    for external_id, code, number, value in InstrumentResponse.objects.filter(
        participant__study__slug__in=slugs
    ).values_list("participant__external_id", "instrument__code", "item_number", "value"):
        stored[(external_id, code, number)] = value
    surplus = sum(
        row["n"] - 1
        for model, fields in (
            (ItemRating, ("participant", "item")),
            (InstrumentResponse, ("participant", "instrument", "item_number")),
        )
        for row in model.objects.filter(participant__study__slug__in=slugs)
        .values(*fields)
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    return stored, surplus


def balance(slug: str) -> tuple[int, float, int, int]:
    """(items, ideal, min, max) of each pool item's load: completed plus still-leased ratings.

    This is the quantity the balanced assignment equalises (``Study.item_loads``); after a
    run cut short it also covers participants still in progress.
    """
    from django.db.models import Q

    from survey.models import Assignment, Study

    study = Study.objects.get(slug=slug)
    pool = list(study.item_pool.values_list("pk", flat=True))
    counts = Counter(
        Assignment.objects.filter(participant__study=study, kind=Assignment.Kind.ITEM)
        .filter(Q(completed_at__isnull=False) | Q(released_at__isnull=True))
        .values_list("item_id", flat=True)
    )
    loads = np.array([counts.get(pk, 0) for pk in pool])
    return len(pool), float(loads.mean()), int(loads.min()), int(loads.max())


def verify(
    *, acknowledged: dict[tuple, int], completed_seen: int, slugs: list[str], launch_slug: str
) -> Verification:
    from django.db.models import Count

    from survey.models import Participant

    stored, surplus = stored_answers(slugs)
    lost = sum(1 for key in acknowledged if key not in stored)
    wrong = sum(1 for key, value in acknowledged.items() if key in stored and stored[key] != value)
    duplicated_participants = (
        Participant.objects.filter(study__slug__in=slugs)
        .values("study", "external_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    items, ideal, low, high = balance(launch_slug)
    return Verification(
        acknowledged=len(acknowledged),
        stored_matching=len(acknowledged) - lost - wrong,
        lost=lost,
        wrong_value=wrong,
        duplicated_rows=surplus,
        duplicated_participants=duplicated_participants,
        unacknowledged_rows=sum(1 for key in stored if key not in acknowledged),
        completed_in_db=Participant.objects.filter(
            study__slug=launch_slug, status=Participant.Status.COMPLETED
        ).count(),
        completed_seen=completed_seen,
        items=items,
        ideal=ideal,
        min_load=low,
        max_load=high,
        within_one=high > 0 and (high - ideal) <= 1 and (ideal - low) <= 1,
    )
