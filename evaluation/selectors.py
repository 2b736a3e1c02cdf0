"""Read operations of the evaluation app (never imports a write module).

The last section holds what other apps (the dashboards) read from evaluation: they use these
selectors, not evaluation's models.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator
from datetime import date, timedelta

import pandas as pd
from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from benchmark.models import ValidatedItem, ValidatedItemSet
from benchmark.selectors import item_set_entries
from evaluation import portraits
from evaluation.personas import PERSONA_OPTIONS, parse_persona_key
from evaluation.sensitivity import sensitivity
from evaluation.units import Unit, all_units, build_prompt
from survey.models import Item
from survey.selectors.translations import reviewed_translations

from .models import (
    EvaluationRun,
    ModelConfiguration,
    PortraitScore,
    Response,
    Sweep,
)

ANSWER_COLUMNS = [
    "item_id",
    "variant",
    "repetition",
    "persona",
    "state",
    "rating",
    "expected_rating",
    "parse_method",
    "several_options",
    "reference_rating",
    "valid_mass",
]


def persona_options() -> dict[str, tuple[str, ...]]:
    """The allowed persona values: ``settings.EVALUATION_PERSONA_OPTIONS`` when a deployment
    sets it (to match its survey's answer options), else :data:`PERSONA_OPTIONS`."""
    return getattr(settings, "EVALUATION_PERSONA_OPTIONS", None) or PERSONA_OPTIONS


def answers_frame(*, run: EvaluationRun) -> pd.DataFrame:
    rows = run.responses.values_list(*ANSWER_COLUMNS)
    frame = pd.DataFrame.from_records(list(rows), columns=ANSWER_COLUMNS)
    frame["rating"] = frame["rating"].astype(float).where(frame["state"] == "valid")
    frame["expected_rating"] = frame["expected_rating"].astype(float)
    return frame


def sensitivity_of(answers: pd.DataFrame) -> dict:
    """:func:`evaluation.sensitivity.sensitivity` with skipped items named by their codes."""
    result = sensitivity(answers)
    skipped = result["details"]["skipped_items"]
    if skipped:
        codes = {
            item.pk: item.code
            for item in Item.objects.filter(pk__in=skipped).select_related("scenario")
        }
        result["details"]["skipped_items"] = [codes.get(pk, pk) for pk in skipped]
    return result


def run_sensitivity(
    *, run: EvaluationRun, persona: str = "", paper_parse: bool = False
) -> dict | None:
    """The paper's prompt-sensitivity metrics of one persona of a run (``paper_parse``: on
    the paper's readings of imported raw answers): from the summary written when the run was
    scored, else computed from its answers. ``None`` when it has no answer."""
    key = "sensitivity_paper_parse" if paper_parse else "sensitivity"
    stored = run.summary.get("personas", {}).get(persona, {}).get(key)
    if stored is not None:
        return stored
    answers = answers_frame(run=run)
    answers = answers[answers["persona"] == persona]
    if answers.empty or (paper_parse and run.reference_source != run.ReferenceSource.RAW):
        return None
    if paper_parse:
        answers = answers.assign(rating=answers["reference_rating"])
    return sensitivity_of(answers)


def run_item_ids(*, run: EvaluationRun) -> list[int]:
    return sorted(set(run.item_set.entries.values_list("item_id", flat=True)))


def run_units(*, run: EvaluationRun) -> list[Unit]:
    return all_units(run_item_ids(run=run), run.variants, run.repetitions, run.persona_keys())


def missing_units(*, run: EvaluationRun) -> list[Unit]:
    done = set(run.responses.values_list("item_id", "variant", "repetition", "persona"))
    return [u for u in run_units(run=run) if u not in done]


def progress(*, run: EvaluationRun) -> dict:
    """Done / failed / invalid / remaining, tokens, cost estimate and ETA of a run."""
    totals = run.responses.aggregate(
        answered=Count("id"),
        valid=Count("id", filter=Q(state=Response.State.VALID)),
        invalid=Count("id", filter=Q(state=Response.State.INVALID)),
        failed=Count("id", filter=Q(state=Response.State.FAILED)),
        cached=Count("id", filter=Q(cached=True)),
        batched_answers=Count("id", filter=Q(batched=True)),
        # Before the totals: their names would shadow the fields.
        batched_input_tokens=Sum("input_tokens", filter=Q(batched=True)),
        batched_output_tokens=Sum("output_tokens", filter=Q(batched=True)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
    )
    expected = run.expected_units()
    answered = totals["answered"]
    remaining = max(expected - answered, 0)
    input_tokens = totals["input_tokens"] or 0
    output_tokens = totals["output_tokens"] or 0
    batched_in = totals["batched_input_tokens"] or 0
    batched_out = totals["batched_output_tokens"] or 0
    config = run.model_config
    # Answers that came through the provider's batch API cost the batch price.
    cost = config.cost_of(
        input_tokens=input_tokens - batched_in, output_tokens=output_tokens - batched_out
    ) + config.cost_of(input_tokens=batched_in, output_tokens=batched_out, batched=True)
    eta_seconds = None
    rate = None
    if run.is_answering and remaining:
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
        "cost_estimate_usd": float(cost),
        "batched_answers": totals["batched_answers"],
        "answers_per_second": rate,
        "eta_seconds": eta_seconds,
        "error": run.error,
        "mode": run.mode,
        "batch_retry": run.batch_retry if run.mode == EvaluationRun.Mode.BATCH else None,
        "batch_discount": float(config.batch_discount)
        if run.mode == EvaluationRun.Mode.BATCH
        else None,
        "batches": batch_overview(run=run) if run.mode == EvaluationRun.Mode.BATCH else [],
    }


def batch_overview(*, run: EvaluationRun) -> list[dict]:
    """The run's provider batches (batch mode), oldest first: round, our status, the
    provider's id, state and counts, requests, error."""
    return list(
        run.batches.order_by("round", "id").values(
            "id", "round", "status", "provider_batch_id", "provider_state", "counts",
            "request_count", "error", "submitted_at", "ended_at",
        )
    )  # fmt: skip


def model_configurations() -> list[ModelConfiguration]:
    """Every model configuration, by name (one query)."""
    return list(ModelConfiguration.objects.order_by("name"))


def problem_answers(*, run: EvaluationRun, limit: int = 50) -> list[Response]:
    """The run's first ``limit`` invalid or failed answers, with their items (one query)."""
    return list(
        run.responses.exclude(state=Response.State.VALID).select_related("item__scenario")[:limit]
    )


def model_snapshots(*, run: EvaluationRun) -> list[dict]:
    """The model versions the provider reported for the run's answers, most answers first
    (``""``: not reported, e.g. imported outputs or failed calls)."""
    rows = (
        run.responses.values("model_snapshot")
        .annotate(answers=Count("id"))
        .order_by("-answers", "model_snapshot")
    )
    return [{"snapshot": r["model_snapshot"], "answers": r["answers"]} for r in rows]


def portrait_table(*, run: EvaluationRun, basis: str = PortraitScore.Basis.ANSWER) -> list[dict]:
    return list(
        run.scores.filter(basis=basis).values(
            "persona", "family", "dimension", "raw", "sd", "n", "family_mean", "centred"
        )
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
    items = dict(
        ValidatedItem.objects.filter(item_set__in={r.item_set_id for r in runs})
        .values("item_set")
        .annotate(n=Count("item", distinct=True))
        .values_list("item_set", "n")
    )
    for run in runs:
        run.expected = run.expected_units(items=items.get(run.item_set_id, 0))
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


# Below this many items a share moves by 10 points or more with a single item: not shown as a
# number (the page says "too few (n = k of N)").
SENSITIVITY_MIN_ITEMS = 10


def _figure(value, n: int, of: int) -> dict:
    too_few = value is None or n < SENSITIVITY_MIN_ITEMS
    return {"value": None if too_few else value, "n": n, "of": of, "too_few": too_few}


def sensitivity_rows(metrics: dict | None) -> list[dict]:
    """The paper's metrics of a run as labelled rows, each with the items it stands on."""
    if not metrics:
        return []
    prompt, order = metrics["prompt_metrics"], metrics["order_metrics"]
    details, spread = metrics["details"], metrics["consistency_metrics"]
    total, valid = details["total_items"], details["prompt_valid_items"]
    by_version = details["valid_items_by_version"]
    rows = [
        ("Prompt sensitivity: share of items whose answer changes with the wording",
         prompt["sensitivity"], valid),
        ("Mean |difference| between wordings", prompt["avg_version_difference"], valid),
        ("Mean |difference| between all variants (both orders)",
         prompt["global_avg_version_difference"], details.get("global_valid_items", valid)),
    ]  # fmt: skip
    for wording in sorted(by_version):
        n = by_version[wording]
        rows.append((f"Order sensitivity {wording}: share changing when reversed",
                     order["sensitivities"][wording], n))  # fmt: skip
        rows.append((f"Order |difference| {wording}", order["differences"][wording], n))
    if by_version:
        fewest = min(by_version.values())
        rows.append(
            ("Order sensitivity, mean over wordings", order["sensitivities"]["average"], fewest)
        )
        rows.append(
            ("Order |difference|, mean over wordings", order["differences"]["average"], fewest)
        )
    answered = details.get("valid_answers_by_variant", {})
    for variant, sd in sorted(spread["per_prompt_std"].items()):
        rows.append((f"SD of the answers over items, {variant}", sd, answered.get(variant, total)))
    rows.append(("Overall consistency (mean of those SDs)", spread["overall_consistency"], total))
    return [{"metric": label, **_figure(value, n, total)} for label, value, n in rows]


def sensitivity_ranking(*, run_ids: list[int]) -> list[dict]:
    """One row per run (no persona) with its headline metrics, most prompt-sensitive first;
    a run whose numbers stand on too few items comes last, saying so. Reads only the metrics
    out of each run's summary (one query), computing them for a run scored before they were
    stored."""
    stored = KeyTransform("sensitivity", KeyTransform("", KeyTransform("personas", "summary")))
    rows = []
    for run in (
        EvaluationRun.objects.filter(pk__in=run_ids)
        .select_related("model_config")
        .annotate(stored_sensitivity=stored)
        .defer("summary", "params")
    ):
        metrics = run.stored_sensitivity or run_sensitivity(run=run)
        if not metrics:
            continue
        details = metrics["details"]
        total, valid = details["total_items"], details["prompt_valid_items"]
        by_version = details["valid_items_by_version"]
        order_n = min(by_version.values()) if by_version else 0
        rows.append(
            {
                "model": run.model_config.name,
                "run_id": run.pk,
                "kind": run.kind,
                "sensitivity": _figure(metrics["prompt_metrics"]["sensitivity"], valid, total),
                "version_difference": _figure(
                    metrics["prompt_metrics"]["avg_version_difference"], valid, total
                ),
                "order_sensitivity": _figure(
                    metrics["order_metrics"]["sensitivities"]["average"], order_n, total
                ),
                "consistency": _figure(
                    metrics["consistency_metrics"]["overall_consistency"], total, total
                ),
            }
        )
    for row in rows:
        # Formatted here: one string per cell keeps the compare page's template cheap.
        row["cells"] = [
            f"too few (n = {f['n']} of {f['of']})"
            if f["too_few"]
            else f"{f['value']:.3f} (n = {f['n']})"
            for f in (
                row[key]
                for key in ("sensitivity", "version_difference", "order_sensitivity", "consistency")
            )
        ]
    rows.sort(key=lambda r: (r["sensitivity"]["too_few"], -(r["sensitivity"]["value"] or 0)))
    return rows


# --- What other apps read (the dashboards): plain frames, dicts and runs ------------------
DONE_PORTRAIT_COLUMNS = [
    "run_id",
    "model_id",
    "model",
    "provider",
    "kind",
    "item_set_id",
    "item_set",
    "finished_at",
    "basis",
    "dimension",
    "centred",
    "raw",
    "n",
]


def run_counts() -> dict[str, int]:
    """How many runs exist, are done, and are done with personas, and how many model
    configurations (four counts)."""
    runs = EvaluationRun.objects
    return {
        "total": runs.count(),
        "done": runs.done().count(),
        "persona": runs.done().with_persona().count(),
        "models": ModelConfiguration.objects.count(),
    }


def done_portrait_scores(
    *,
    family: str,
    persona: str = "",
    model_ids: Collection[int] | None = None,
    provider: str = "",
    finished_from: date | None = None,
    finished_to: date | None = None,
    item_set_id: int | None = None,
    kind: str = "",
    sweep_id: int | None = None,
) -> pd.DataFrame:
    """Long frame (:data:`DONE_PORTRAIT_COLUMNS`, one query) of the portrait scores of
    ``family`` of finished runs for ``persona`` (default: no persona), every scoring basis;
    narrowed to model configuration ids, provider, finish dates (inclusive), item set, kind,
    sweep when given. ``model_id`` is the model configuration's id."""
    rows = PortraitScore.objects.of_done_runs().filter(persona=persona, family=family)
    if model_ids is not None:
        rows = rows.filter(run__model_config_id__in=list(model_ids))
    if provider:
        rows = rows.filter(run__model_config__provider=provider)
    if finished_from:
        rows = rows.filter(run__finished_at__date__gte=finished_from)
    if finished_to:
        rows = rows.filter(run__finished_at__date__lte=finished_to)
    if item_set_id:
        rows = rows.filter(run__item_set_id=item_set_id)
    if kind:
        rows = rows.filter(run__kind=kind)
    if sweep_id:
        rows = rows.filter(run__sweeps=sweep_id)
    values = rows.values_list(
        "run_id",
        "run__model_config_id",
        "run__model_config__name",
        "run__model_config__provider",
        "run__kind",
        "run__item_set_id",
        "run__item_set__name",
        "run__finished_at",
        "basis",
        "dimension",
        "centred",
        "raw",
        "n",
    )
    return pd.DataFrame.from_records(list(values), columns=DONE_PORTRAIT_COLUMNS)


def model_providers() -> list[str]:
    """The providers that model configurations use, sorted (one query)."""
    return list(
        ModelConfiguration.objects.order_by("provider")
        .values_list("provider", flat=True)
        .distinct()
    )


def item_sets_with_runs() -> list[tuple[int, str, int]]:
    """``(id, name, version)`` of the validated item sets some run used (one query)."""
    return list(
        ValidatedItemSet.objects.filter(runs__isnull=False)
        .distinct()
        .order_by("name", "-version")
        .values_list("id", "name", "version")
    )


def run_for_page(*, run_id: int) -> EvaluationRun | None:
    """The run with its model configuration, item set (and study) and creator (one query),
    or ``None``."""
    return (
        EvaluationRun.objects.select_related("model_config", "item_set__study", "created_by")
        .filter(pk=run_id)
        .first()
    )


def portrait_personas(*, run: EvaluationRun) -> list[str]:
    """The persona keys the run has portraits for (``""`` = no persona), one query."""
    return sorted(set(run.scores.values_list("persona", flat=True).distinct()))


PORTRAIT_FRAME_COLUMNS = [
    "persona",
    "basis",
    "dimension",
    "raw",
    "sd",
    "n",
    "family_mean",
    "centred",
]


def portrait_frame(
    *, run: EvaluationRun, family: str, persona: str | None = "", with_persona: bool = False
) -> pd.DataFrame:
    """The run's stored scores of ``family`` (:data:`PORTRAIT_FRAME_COLUMNS`, every basis,
    one query): for one ``persona`` (default: none), or every persona with ``persona=None``
    (``with_persona=True``: only the persona portraits)."""
    rows = run.scores.filter(family=family)
    if persona is not None:
        rows = rows.filter(persona=persona)
    if with_persona:
        rows = rows.exclude(persona="")
    return pd.DataFrame.from_records(
        list(rows.values_list(*PORTRAIT_FRAME_COLUMNS)), columns=PORTRAIT_FRAME_COLUMNS
    )


def done_persona_runs() -> list[EvaluationRun]:
    """Finished runs that asked the model as personas, newest first, with the model's name
    (one query)."""
    return list(
        EvaluationRun.objects.done()
        .with_persona()
        .select_related("model_config")
        .only("id", "label", "personas", "finished_at", "model_config__name")
        .order_by("-finished_at", "-id")
    )


def variant_scores(
    *, run: EvaluationRun, family: str, personas: list[str] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """``{persona: {variant: {"family:dimension": centred}}}``: the portrait of ``family``
    from each prompt variant alone, for ``personas`` (default: all). Read from the summary
    written when the run was scored (no query); for a run scored before it was stored,
    computed from its answers with the same rule (two queries)."""
    summary = (run.summary or {}).get("personas", {})
    stored = {
        persona: (block.get("consistency") or {}).get("variant_scores") or {}
        for persona, block in summary.items()
        if personas is None or persona in personas
    }
    if any(stored.values()):
        return stored
    answers = answers_frame(run=run)
    if personas is not None:
        answers = answers[answers["persona"].isin(personas)]
    if answers.empty:
        return {}
    entries = item_set_entries(item_set=run.item_set)
    entries = entries[entries["family"] == family]
    scores = {}
    for persona, of_persona in answers.groupby("persona", sort=True):
        per_variant = portraits.variant_portraits(
            portraits.informative_answers(of_persona), entries
        )
        scores[persona] = {
            variant: {
                f"{family}:{dimension}": value
                for dimension, value in zip(part["dimension"], part["centred"], strict=True)
                if pd.notna(value)
            }
            for variant, part in per_variant.groupby("variant")
        }
    return scores


ITEM_ANSWER_COLUMNS = [
    "run_id", "model", "kind", "status", "persona", "variant", "state", "rating", "raw_text",
]  # fmt: skip


def item_answers(*, item_id: int) -> pd.DataFrame:
    """Every stored answer to one item across runs (:data:`ITEM_ANSWER_COLUMNS`, one query;
    ``rating`` as stored, also for invalid answers: compare ``state``)."""
    rows = Response.objects.filter(item_id=item_id).values_list(
        "run_id",
        "run__model_config__name",
        "run__kind",
        "run__status",
        "persona",
        "variant",
        "state",
        "rating",
        "raw_text",
    )
    return pd.DataFrame.from_records(list(rows), columns=ITEM_ANSWER_COLUMNS)


def sweep_progress(*, sweep: Sweep) -> dict:
    """Runs of the sweep counted per status, and its units answered (valid or invalid),
    failed and expected over all its runs (three queries)."""
    runs = list(
        sweep.runs.annotate(
            answered=Count("responses", filter=~Q(responses__state=Response.State.FAILED)),
            failed=Count("responses", filter=Q(responses__state=Response.State.FAILED)),
        ).order_by("id")
    )
    items = dict(
        ValidatedItem.objects.filter(item_set_id__in={r.item_set_id for r in runs})
        .values_list("item_set_id")
        .annotate(n=Count("item_id", distinct=True))
    )
    status_counts: dict[str, int] = {}
    for run in runs:
        status_counts[run.status] = status_counts.get(run.status, 0) + 1
    return {
        "runs": len(runs),
        "run_ids": [r.pk for r in runs],
        "status_counts": status_counts,
        "units_answered": sum(r.answered for r in runs),
        "units_failed": sum(r.failed for r in runs),
        "units_expected": sum(r.expected_units(items=items.get(r.item_set_id, 0)) for r in runs),
    }


def sweep_choices() -> list[tuple[int, str]]:
    """``(id, name)`` of every sweep, newest first (one query)."""
    return list(Sweep.objects.values_list("id", "name"))


def sweep_runs(*, sweep_id: int) -> list[EvaluationRun]:
    """The sweep's runs with their model configurations and ``answered`` counts (answers
    that are not failed calls), by id (one query)."""
    return list(
        EvaluationRun.objects.filter(sweeps=sweep_id)
        .select_related("model_config")
        .annotate(answered=Count("responses", filter=~Q(responses__state=Response.State.FAILED)))
        .order_by("id")
    )


# --- Per-answer logs ------------------------------------------------------------------------
# Column of the log: the stored answer's field it is read from.
ANSWER_LOG_VALUES = {
    "response_id": "id",
    "run_id": "run_id",
    "model_snapshot": "model_snapshot",
    "item_id": "item_id",
    "variant": "variant",
    "persona": "persona",
    "repetition": "repetition",
    "prompt_sha256": "prompt_sha256",
    "raw_text": "raw_text",
    "reasoning": "reasoning",
    "invalid_answers": "invalid_answers",
    "state": "state",
    "rating": "rating",
    "label": "label",
    "parse_method": "parse_method",
    "reason": "error",
    "several_options": "several_options",
    "attempts": "attempts",
    "option_probabilities": "option_probabilities",
    "valid_mass": "valid_mass",
    "expected_rating": "expected_rating",
    "reference_rating": "reference_rating",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "latency_ms": "latency_ms",
    "cached": "cached",
    "batched": "batched",
    "request_params": "request_params",
    "answered_at": "created_at",
}
ANSWER_LOG_CHUNK = 5000


def _probabilities(stored: dict | None) -> list[float] | None:
    """P(rating 1..6) out of a stored ``option_probabilities`` (``None``: not scored so)."""
    if not stored or not stored.get("probabilities"):
        return None
    return [stored["probabilities"].get(str(rating)) for rating in range(1, 7)]


class _PromptBook:
    """The run's prompts rebuilt from its templates, each (item, variant, persona) once."""

    def __init__(self, run: EvaluationRun):
        digits = run.scoring == EvaluationRun.Scoring.PROBABILITY
        self.templates = {
            (variant, style): digit_text if digits else text
            for variant, style, text, digit_text in run.templates().values_list(
                "variant", "style", "text", "digit_text"
            )
        }
        self.prompts: dict[tuple, tuple[str | None, str]] = {}

    def lookup(self, key: tuple, item: dict) -> tuple[str | None, str]:
        """``(prompt text or None without a template, its sha256 or '')``."""
        if key not in self.prompts:
            _, variant, persona = key
            template = self.templates.get((variant, item["style"]))
            text = (
                build_prompt(
                    template,
                    title=item["title"],
                    scenario=item["scenario_text"],
                    response=item["text"],
                    persona=parse_persona_key(persona),
                )
                if template
                else None
            )
            self.prompts[key] = (text, hashlib.sha256(text.encode()).hexdigest() if text else "")
        return self.prompts[key]


def answer_log_frames(
    *, run: EvaluationRun, chunk_size: int = ANSWER_LOG_CHUNK
) -> Iterator[pd.DataFrame]:
    """Every stored answer of ``run`` (valid, invalid and failed), ``chunk_size`` rows a frame
    in id order, with the columns of :data:`evaluation.answer_logs.ANSWER_LOG_FIELDS`.

    Reads plain values in keyset-paged chunks (never all model objects at once): per chunk
    one query for the answers and one for their items; the run's templates and the item
    set's dimensions once. The prompt is rebuilt from the run's template and compared with
    the hash of the prompt that was sent."""
    config = run.model_config
    dimensions: dict[int, list[str]] = {}
    for item_id, family, dimension in run.item_set.entries.order_by(
        "item_id", "family", "dimension"
    ).values_list("item_id", "family", "dimension"):
        dimensions.setdefault(item_id, []).append(f"{family}:{dimension}")
    prompts = _PromptBook(run)
    price_in = float(config.input_cost_per_million) / 1_000_000
    price_out = float(config.output_cost_per_million) / 1_000_000
    fields = list(ANSWER_LOG_VALUES.values())
    last_id = 0
    while True:
        rows = list(
            run.responses.filter(id__gt=last_id).order_by("id").values_list(*fields)[:chunk_size]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        frame = pd.DataFrame.from_records(rows, columns=list(ANSWER_LOG_VALUES))
        items = {
            row["id"]: row
            for row in Item.objects.filter(id__in=set(frame["item_id"])).values(
                "id",
                "option_id",
                "text",
                "scenario_id",
                external=F("scenario__external_id"),
                title=F("scenario__title"),
                scenario_text=F("scenario__text"),
                style=F("scenario__source__style"),
            )
        }
        for item_id, (title, scenario, response) in reviewed_translations(
            item_ids=items, language=run.language
        ).items():  # the texts the run put to the model
            items[item_id].update(title=title, scenario_text=scenario, text=response)
        item_rows = [items[item_id] for item_id in frame["item_id"]]
        frame["scenario_id"] = [str(i["external"] or i["scenario_id"]) for i in item_rows]
        frame["option_id"] = [i["option_id"] for i in item_rows]
        frame["item_code"] = frame["scenario_id"] + "/" + frame["option_id"].astype(str)
        frame["dimensions"] = [dimensions.get(item_id, []) for item_id in frame["item_id"]]
        rebuilt = [
            prompts.lookup(key, item)
            for key, item in zip(
                zip(frame["item_id"], frame["variant"], frame["persona"], strict=True),
                item_rows,
                strict=True,
            )
        ]
        frame["prompt_text"] = [text for text, _ in rebuilt]
        sent = frame["prompt_sha256"].to_numpy()
        frame["prompt_text_matches"] = pd.Series(
            [
                sha == stored if stored else None
                for (_, sha), stored in zip(rebuilt, sent, strict=True)
            ],
            dtype=object,
        )
        frame["probabilities"] = frame.pop("option_probabilities").map(_probabilities)
        frame["rating"] = (
            frame["rating"].astype(float).where(frame["state"] == Response.State.VALID)
        )
        frame["cost_usd"] = (
            frame["input_tokens"] * price_in + frame["output_tokens"] * price_out
        ) * frame["batched"].map({True: 1 - float(config.batch_discount), False: 1.0})
        frame["request_params"] = frame["request_params"].map(
            lambda params: json.dumps(params or {}, sort_keys=True)
        )
        frame["run_id"] = run.pk
        frame["model"] = config.name
        frame["provider"] = config.provider
        frame["model_id"] = config.model_id
        frame["template_set"] = run.template_set
        frame["template_set_version"] = run.template_set_version
        yield frame
