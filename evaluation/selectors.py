"""Read operations of the evaluation app."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from evaluation.units import Unit, all_units

from .models import EvaluationRun, PortraitScore, Response


def run_item_ids(*, run: EvaluationRun) -> list[int]:
    return sorted(set(run.item_set.entries.values_list("item_id", flat=True)))


def run_units(*, run: EvaluationRun) -> list[Unit]:
    from .services import persona_keys

    return all_units(run_item_ids(run=run), run.variants, run.repetitions, persona_keys(run))


def expected_unit_count(*, run: EvaluationRun) -> int:
    items = run.item_set.entries.values("item_id").distinct().count()
    return items * len(run.variants) * run.repetitions * max(len(run.personas), 1)


def missing_units(*, run: EvaluationRun) -> list[Unit]:
    done = set(run.responses.values_list("item_id", "variant", "repetition", "persona"))
    return [u for u in run_units(run=run) if u not in done]


def progress(*, run: EvaluationRun) -> dict:
    """Done / failed / invalid / remaining, tokens, cost estimate and ETA of a run."""
    from .services import cost_of

    totals = run.responses.aggregate(
        answered=Count("id"),
        valid=Count("id", filter=Q(state=Response.State.VALID)),
        invalid=Count("id", filter=Q(state=Response.State.INVALID)),
        failed=Count("id", filter=Q(state=Response.State.FAILED)),
        cached=Count("id", filter=Q(cached=True)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
    )
    expected = expected_unit_count(run=run)
    answered = totals["answered"]
    remaining = max(expected - answered, 0)
    input_tokens = totals["input_tokens"] or 0
    output_tokens = totals["output_tokens"] or 0
    eta_seconds = None
    rate = None
    if run.status in (EvaluationRun.Status.QUEUED, EvaluationRun.Status.RUNNING) and remaining:
        window = timezone.now() - timedelta(minutes=2)
        recent = run.responses.filter(created_at__gte=window).count()
        if recent:
            rate = recent / 120.0
            eta_seconds = remaining / rate
    return {
        "run": run.pk,
        "status": run.status,
        "expected": expected,
        "answered": answered,
        "done": totals["valid"],
        "invalid": totals["invalid"],
        "failed": totals["failed"],
        "remaining": remaining,
        "cached": totals["cached"],
        "percent": round(100.0 * answered / expected, 1) if expected else 100.0,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_estimate_usd": float(
            cost_of(config=run.model_config, input_tokens=input_tokens, output_tokens=output_tokens)
        ),
        "answers_per_second": rate,
        "eta_seconds": eta_seconds,
        "error": run.error,
    }


def portrait_table(*, run: EvaluationRun, basis: str = PortraitScore.Basis.ANSWER) -> list[dict]:
    return list(
        run.scores.filter(basis=basis).values(
            "persona", "family", "dimension", "raw", "sd", "n", "family_mean", "centred"
        )
    )


def latest_done_runs():
    return EvaluationRun.objects.filter(status=EvaluationRun.Status.DONE).select_related(
        "model_config", "item_set"
    )


def runs_with_counts(*, limit: int = 200) -> list[EvaluationRun]:
    """Newest runs with answer counts and the expected total (three queries in all)."""
    runs = list(
        EvaluationRun.objects.select_related("model_config", "item_set")
        .annotate(
            answered=Count("responses"),
            invalid=Count("responses", filter=Q(responses__state=Response.State.INVALID)),
            failed=Count("responses", filter=Q(responses__state=Response.State.FAILED)),
        )
        .order_by("-created_at")[:limit]
    )
    from benchmark.models import ValidatedItem

    items = dict(
        ValidatedItem.objects.filter(item_set__in={r.item_set_id for r in runs})
        .values("item_set")
        .annotate(n=Count("item", distinct=True))
        .values_list("item_set", "n")
    )
    for run in runs:
        run.expected = (
            items.get(run.item_set_id, 0)
            * len(run.variants)
            * run.repetitions
            * max(len(run.personas), 1)
        )
        run.percent = round(100.0 * run.answered / run.expected, 1) if run.expected else 100.0
    return runs


def parse_comparison(*, run: EvaluationRun, limit: int = 500) -> dict | None:
    """The paper's parse against ours on a run of imported raw answers (``None`` for other
    runs): counts, and the answers read differently with both readings (at most ``limit``)."""
    if run.reference_source != EvaluationRun.ReferenceSource.RAW:
        return None
    answered = run.responses.answered()
    valid, paper = Q(state=Response.State.VALID), Q(reference_rating__isnull=False)
    counts = answered.aggregate(
        answers=Count("id"),
        paper_valid=Count("id", filter=paper),
        ours_valid=Count("id", filter=valid),
        same_rating=Count("id", filter=valid & paper & Q(rating=F("reference_rating"))),
        neither=Count("id", filter=~valid & ~paper),
        several_options=Count("id", filter=Q(several_options=True)),
    )
    disagreements = answered.disagreeing_with_reference().select_related("item__scenario")
    counts["agree"] = counts["same_rating"] + counts["neither"]
    counts["disagree"] = counts["answers"] - counts["agree"]
    counts["rows"] = [
        {
            "item": row.item.code,
            "variant": row.variant,
            "paper": row.reference_rating,
            "paper_label": row.reference_label,
            "ours": row.rating,
            "ours_label": row.label,
            "why": row.error,
            "text": row.raw_text,
        }
        for row in disagreements.order_by("item_id", "variant")[:limit]
    ]
    return counts
