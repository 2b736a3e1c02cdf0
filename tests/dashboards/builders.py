"""Build dashboard data through the real models and the evaluation app's scoring service.

Used by the dashboards' tests, the browser test and ``perf/bench_dashboards.py``. Model runs
are stored as answers (``Response`` rows) and scored with ``evaluation.lifecycle.score_run``,
so portraits, per-variant spreads and summaries are exactly what a real run produces.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils import timezone

from benchmark.models import CorrelationRun, ValidatedItem, ValidatedItemSet
from dashboards.models import ModelCard
from evaluation.lifecycle import score_run
from evaluation.models import EvaluationRun, ModelConfiguration, Response
from evaluation.personas import persona_key
from survey.instruments.dimensions import SCHWARTZ_VALUES
from survey.models import Participant, ParticipantScore, Study

VARIANTS = ("v1", "v1_reversed", "v2")


def small_item_set(*, study: Study, items_per_value: int = 2) -> ValidatedItemSet:
    """A validated item set with ``items_per_value`` new items per Schwartz value."""
    from tests.factories import ItemFactory

    correlation_run = CorrelationRun.objects.create(
        study=study, kind=CorrelationRun.Kind.COMPUTED, status=CorrelationRun.Status.DONE
    )
    item_set = ValidatedItemSet.objects.create(
        name=f"set-{study.slug}",
        version=1,
        study=study,
        correlation_run=correlation_run,
        rule={"families": ["schwartz"], "threshold": 0.3},
    )
    entries = []
    for value in SCHWARTZ_VALUES:
        for _ in range(items_per_value):
            item = ItemFactory()
            study.item_pool.add(item)
            entries.append(
                ValidatedItem(
                    item_set=item_set, item=item, family="schwartz", dimension=value, r=0.4
                )
            )
    ValidatedItem.objects.bulk_create(entries)
    return item_set


def model_run(
    *,
    item_set: ValidatedItemSet,
    name: str,
    base: dict[str, float],
    rng: np.random.Generator,
    provider: str = ModelConfiguration.Provider.OPENAI,
    personas: list[dict] | None = None,
    persona_shift: dict[str, dict[str, float]] | None = None,
    variants: tuple[str, ...] = VARIANTS,
    noise: float = 0.4,
    card: dict | None = None,
    finished_at: dt.datetime | None = None,
    kind: str = EvaluationRun.Kind.LIVE,
) -> EvaluationRun:
    """A finished run whose answers are ``base[dimension]`` (+ persona shift) + noise.

    ``persona_shift`` maps a persona key to per-dimension shifts of the answers.
    """
    config, _ = ModelConfiguration.objects.get_or_create(
        name=name, defaults={"provider": provider, "model_id": name}
    )
    if card:
        ModelCard.objects.update_or_create(model_config=config, defaults=card)
    run = EvaluationRun.objects.create(
        label=f"{name} test run",
        kind=kind,
        model_config=config,
        item_set=item_set,
        variants=list(variants),
        personas=personas or [],
        status=EvaluationRun.Status.SCORING,
        params={"temperature": 0.0, "max_tokens": 64},
        started_at=timezone.now(),
    )
    keys = [persona_key(p) for p in personas] if personas else [""]
    # An item may measure several dimensions: its answer leans to the mean of their bases.
    dimensions_of_item: dict[int, list[str]] = {}
    for item_id, dimension in item_set.entries.values_list("item_id", "dimension"):
        dimensions_of_item.setdefault(item_id, []).append(dimension)
    rows = []
    for key in keys:
        shift = (persona_shift or {}).get(key, {})
        for item_id, dimensions in sorted(dimensions_of_item.items()):
            centre = np.mean([base.get(d, 3.5) + shift.get(d, 0.0) for d in dimensions])
            answers = centre + rng.normal(0, noise, size=len(variants))
            for variant, rating in zip(variants, np.clip(np.rint(answers), 1, 6), strict=True):
                rows.append(
                    Response(
                        run=run,
                        item_id=item_id,
                        variant=variant,
                        persona=key,
                        state=Response.State.VALID,
                        rating=float(rating),
                        raw_text=f"answer {int(rating)}",
                    )
                )
    Response.objects.bulk_create(rows, batch_size=5000)
    score_run(run=run)
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.DONE, finished_at=finished_at or timezone.now()
    )
    run.refresh_from_db()
    return run


def participants_with_scores(
    *,
    study: Study,
    n: int,
    rng: np.random.Generator,
    demographics=None,
    means: dict[str, float] | None = None,
) -> list[Participant]:
    """``n`` completed participants with centred Schwartz scores (and demographics).

    ``demographics(i)`` returns participant i's answers; ``means`` shifts value means.
    """
    people = Participant.objects.bulk_create(
        [
            Participant(
                study=study,
                external_id=f"{study.slug}-{i}",
                status=Participant.Status.COMPLETED,
                demographics=demographics(i) if demographics else {},
            )
            for i in range(n)
        ]
    )
    scores = []
    for person in people:
        raw = rng.normal(0, 0.6, size=len(SCHWARTZ_VALUES))
        raw = raw - raw.mean()
        for value, score in zip(SCHWARTZ_VALUES, raw, strict=True):
            scores.append(
                ParticipantScore(
                    participant=person,
                    family="schwartz",
                    dimension=value,
                    score=float(score + (means or {}).get(value, 0.0)),
                )
            )
    ParticipantScore.objects.bulk_create(scores, batch_size=5000)
    return people


def participant_ratings(
    *,
    item_set: ValidatedItemSet,
    people: list[Participant],
    rng: np.random.Generator,
    share: float = 1.0,
    lean: dict[str, float] | None = None,
) -> int:
    """Each person rates ``share`` of the set's items (at least one): 3.5 + their own
    centred score on the item's dimension(s) + ``lean[dimension]`` + noise, on 1-6.

    Returns the number of ratings stored.
    """
    from survey.models import ItemRating

    dimensions_of_item: dict[int, list[str]] = {}
    for item_id, dimension in item_set.entries.values_list("item_id", "dimension"):
        dimensions_of_item.setdefault(item_id, []).append(dimension)
    scores: dict[int, dict[str, float]] = {}
    for pk, dimension, value in ParticipantScore.objects.filter(participant__in=people).values_list(
        "participant_id", "dimension", "score"
    ):
        scores.setdefault(pk, {})[dimension] = value
    items = sorted(dimensions_of_item)
    rows = []
    for person in people:
        chosen = [i for i in items if rng.random() < share] or [items[0]]
        for item_id in chosen:
            centre = 3.5 + np.mean(
                [
                    scores.get(person.pk, {}).get(d, 0.0) + (lean or {}).get(d, 0.0)
                    for d in dimensions_of_item[item_id]
                ]
            )
            rating = int(np.clip(np.rint(centre + rng.normal(0, 0.8)), 1, 6))
            rows.append(ItemRating(participant=person, item_id=item_id, rating=rating))
    ItemRating.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
