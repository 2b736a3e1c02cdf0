"""Write operations of the benchmark app."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from django.db import transaction
from django.utils import timezone

from survey.models import Study

from .models import Correlation, CorrelationRun


@transaction.atomic
def store_published_correlations(
    *,
    study: Study,
    label: str,
    rows: Sequence[tuple[int, str, str, float, float | None]],
) -> tuple[CorrelationRun, int, int]:
    """Store (or complete) the read-only published correlation run of ``study``.

    ``rows`` are ``(item_id, family, dimension, r, p)``. Idempotent: rows already present
    with the same values are left alone. Returns ``(run, created, updated)``.
    """
    run, _ = CorrelationRun.objects.get_or_create(
        study=study,
        kind=CorrelationRun.Kind.PUBLISHED,
        label=label,
        defaults={
            "method": CorrelationRun.Method.SPEARMAN,
            "status": CorrelationRun.Status.DONE,
            "finished_at": timezone.now(),
            "parameters": {"source": "Value Portrait public data release"},
        },
    )
    existing = {
        (i, f, d): (pk, r, p)
        for pk, i, f, d, r, p in run.rows.values_list(
            "id", "item_id", "family", "dimension", "r", "p"
        )
    }
    new, changed = [], []
    for item_id, family, dimension, r, p in rows:
        have = existing.get((item_id, family, dimension))
        if have is None:
            new.append(
                Correlation(run=run, item_id=item_id, family=family, dimension=dimension, r=r, p=p)
            )
        elif (have[1], have[2]) != (r, p):
            changed.append(Correlation(id=have[0], r=r, p=p))
    Correlation.objects.bulk_create(new, batch_size=5000)
    Correlation.objects.bulk_update(changed, ["r", "p"], batch_size=5000)
    return run, len(new), len(changed)


def next_item_set_version(name: str) -> int:
    from .models import ValidatedItemSet

    last = ValidatedItemSet.objects.filter(name=name).order_by("-version").first()
    return 1 if last is None else last.version + 1


@transaction.atomic
def create_item_set(
    *,
    run: CorrelationRun,
    rule,
    name: str,
    preset: str = "",
    created_by=None,
):
    """Freeze a new version of item set ``name``: the pairs ``rule`` selects from ``run``."""
    from .models import ValidatedItem, ValidatedItemSet
    from .selection import select_pairs
    from .selectors import correlation_frame

    selected = select_pairs(correlation_frame(run=run), rule)
    item_set = ValidatedItemSet.objects.create(
        name=name,
        version=next_item_set_version(name),
        study=run.study,
        correlation_run=run,
        preset=preset,
        rule=rule.as_json(),
        excluded_pairs=[
            {
                "portrait_id": e.scenario_external_id,
                "option_id": e.option_id,
                "dimension": e.dimension,
                "reason": e.reason,
            }
            for e in rule.exclusions
        ],
        participants={"n_participants": run.n_participants, "exclusions": run.exclusions},
        created_by=created_by,
    )
    ValidatedItem.objects.bulk_create(
        ValidatedItem(
            item_set=item_set,
            item_id=row.item_id,
            family=row.family,
            dimension=row.dimension,
            r=row.r,
            p=None if pd.isna(row.p) else row.p,
        )
        for row in selected.itertuples()
    )
    return item_set


def create_preset_item_set(
    *, run: CorrelationRun, preset: str = "valueportrait-2025", created_by=None
):
    """Apply a named preset (``benchmark.selection.PRESETS``) to ``run``."""
    from .selection import PRESETS

    return create_item_set(
        run=run, rule=PRESETS[preset], name=preset, preset=preset, created_by=created_by
    )
