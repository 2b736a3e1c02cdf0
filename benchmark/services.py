"""Write operations of the benchmark app."""

from __future__ import annotations

from collections.abc import Sequence

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
