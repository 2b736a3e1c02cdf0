"""Portrait exports (JSON by model, CSV rows)."""

from __future__ import annotations

from .models import EvaluationRun, PortraitScore

PAPER_FAMILIES = ("schwartz", "higher_order", "big_five")


def _done_scores(basis: str):
    return (
        PortraitScore.objects.filter(run__status=EvaluationRun.Status.DONE, persona="", basis=basis)
        .select_related("run__model_config", "run__item_set")
        .order_by("run__finished_at", "run_id", "family", "dimension")
    )


def portraits_by_model(*, basis: str = "answer") -> dict[str, dict[str, float | None]]:
    """``{model_name: {dimension: centred}}``; the newest finished run per model wins.

    Dimension names are unique across the Schwartz, higher-order and Big Five families; a
    dimension of another family (e.g. the 19 refined values) is keyed ``family:dimension``.
    """
    result: dict[str, dict[str, float | None]] = {}
    latest_run: dict[str, int] = {}
    for score in _done_scores(basis):
        name = score.run.model_config.name
        if latest_run.get(name) != score.run_id:
            latest_run[name] = score.run_id
            result[name] = {}
        key = (
            score.dimension
            if score.family in PAPER_FAMILIES
            else f"{score.family}:{score.dimension}"
        )
        result[name][key] = score.centred
    return result


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
