"""Portrait exports (JSON by model, CSV rows)."""

from __future__ import annotations

from collections.abc import Iterator

from evaluation.sensitivity import RELEASE_DETAILS

from .models import EvaluationRun, PortraitScore
from .selectors import run_sensitivity

PAPER_FAMILIES = ("schwartz", "higher_order", "big_five")


def _done_scores(basis: str):
    return (
        PortraitScore.objects.of_done_runs()
        .filter(persona="", basis=basis)
        .select_related("run__model_config", "run__item_set")
        .order_by("run__finished_at", "run_id", "family", "dimension")
    )


def newest_runs_by_model() -> dict[str, EvaluationRun]:
    """The newest finished run of each model configuration, by model name."""
    runs = EvaluationRun.objects.done().newest_per_model().select_related("model_config")
    return {run.model_config.name: run for run in runs.order_by("finished_at", "id")}


def portraits_by_model(*, basis: str = "answer") -> dict[str, dict[str, float | None]]:
    """``{model_name: {dimension: centred}}``; the newest finished run per model wins.

    Dimension names are unique across the Schwartz, higher-order and Big Five families; a
    dimension of another family (e.g. the 19 refined values) is keyed ``family:dimension``.
    """
    newest = {run.pk: name for name, run in newest_runs_by_model().items()}
    result: dict[str, dict[str, float | None]] = {}
    for score in _done_scores(basis).filter(run_id__in=newest):
        key = (
            score.dimension
            if score.family in PAPER_FAMILIES
            else f"{score.family}:{score.dimension}"
        )
        result.setdefault(newest[score.run_id], {})[key] = score.centred
    return result


def sensitivity_by_model(*, runs: list[EvaluationRun] | None = None) -> dict[str, dict]:
    """``{model_name: {"prompt_metrics", "order_metrics", "consistency_metrics", "details"}}``
    in the release's shape (no persona), for ``runs`` or the newest finished run per model."""
    chosen = (
        {run.model_config.name: run for run in runs} if runs is not None else newest_runs_by_model()
    )
    result = {}
    for name, run in sorted(chosen.items()):
        metrics = run_sensitivity(run=run)
        if metrics:
            result[name] = {
                "prompt_metrics": metrics["prompt_metrics"],
                "order_metrics": metrics["order_metrics"],
                "details": {key: metrics["details"][key] for key in RELEASE_DETAILS},
                "consistency_metrics": metrics["consistency_metrics"],
            }
    return result


def _flatten(prefix: str, value) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    elif isinstance(value, list):  # e.g. details.skipped_items: the table counts them
        yield f"{prefix}.count", len(value)
    else:
        yield prefix, value


def sensitivity_rows(*, runs: list[EvaluationRun] | None = None) -> list[dict]:
    """:func:`sensitivity_by_model` as a table: one row per model and metric, the metric named
    by its path in the JSON (``order_metrics.sensitivities.v1``, ``details.total_items``);
    a list (``details.skipped_items``) is counted (``details.skipped_items.count``); a metric
    without an item to stand on has an empty value."""
    return [
        {"model": model, "metric": metric, "value": value}
        for model, metrics in sensitivity_by_model(runs=runs).items()
        for metric, value in _flatten("", metrics)
    ]


def portrait_rows(*, basis: str = "answer") -> list[dict]:
    """One row per finished run and dimension (all runs, no persona)."""
    return [
        {
            "model": s.run.model_config.name,
            "run_id": s.run_id,
            "run_kind": s.run.kind,
            "item_set": str(s.run.item_set),
            "basis": s.basis,
            "family": s.family,
            "dimension": s.dimension,
            "raw": s.raw,
            "sd": s.sd,
            "n": s.n,
            "family_mean": s.family_mean,
            "centred": s.centred,
        }
        for s in _done_scores(basis)
    ]
