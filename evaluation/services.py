"""Write operations of the evaluation app."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from benchmark.models import ValidatedItemSet
from benchmark.selectors import item_set_entries
from evaluation import portraits
from evaluation.parsing import DEFAULT_MIN_VALID_PROBABILITY, valid_mass_distribution
from evaluation.personas import PERSONA_OPTIONS, PersonaError, persona_key, validate_persona
from evaluation.prompts import TemplateSpec, load_release_layout
from evaluation.prompts.builtin import SET_NAME, SET_VERSION, builtin_templates

from .models import EvaluationRun, ModelConfiguration, PortraitScore, PromptTemplate, Response
from .selectors import answers_frame, sensitivity_of

log = logging.getLogger(__name__)
LOGPROB_PROVIDERS = {"openai", "gemini"}


def persona_options() -> dict[str, tuple[str, ...]]:
    """The allowed persona values: ``settings.EVALUATION_PERSONA_OPTIONS`` when a deployment
    sets it (to match its survey's answer options), else :data:`PERSONA_OPTIONS`."""
    from django.conf import settings

    return getattr(settings, "EVALUATION_PERSONA_OPTIONS", None) or PERSONA_OPTIONS


class QueueUnavailable(Exception):
    """The task queue (broker) cannot be reached: nothing was queued."""


# --- prompt templates ---------------------------------------------------------------------
def store_templates(
    *, specs: list[TemplateSpec], set_name: str, set_version: int, origin: str
) -> tuple[int, int]:
    """Create or update templates of ``set_name`` v``set_version``; ``(created, updated)``."""
    created = updated = 0
    with transaction.atomic():
        for spec in specs:
            _, was_created = PromptTemplate.objects.update_or_create(
                set_name=set_name,
                set_version=set_version,
                variant=spec.variant,
                style=spec.style,
                defaults={
                    "text": spec.text,
                    "digit_text": spec.digit_text,
                    "option_order": list(spec.option_order),
                    "origin": origin,
                },
            )
            created += was_created
            updated += not was_created
    return created, updated


def ensure_builtin_templates() -> None:
    """The project's own 12 templates (idempotent)."""
    if PromptTemplate.objects.filter(set_name=SET_NAME, set_version=SET_VERSION).count() != 12:
        store_templates(
            specs=builtin_templates(), set_name=SET_NAME, set_version=SET_VERSION, origin="builtin"
        )


def load_prompt_templates(
    *, directory: str, set_name: str, set_version: int = 1
) -> tuple[int, int]:
    """Load a directory in the release's layout (raises ``TemplateError`` with the file)."""
    specs = load_release_layout(directory)
    return store_templates(
        specs=specs, set_name=set_name, set_version=set_version, origin=str(directory)
    )


# --- runs ---------------------------------------------------------------------------------
def create_run(
    *,
    model_config: ModelConfiguration,
    item_set: ValidatedItemSet,
    variants: list[str] | None = None,
    personas: list[dict] | None = None,
    repetitions: int = 1,
    scoring: str = EvaluationRun.Scoring.PHRASE,
    use_cache: bool = True,
    invalid_retries: int = 2,
    reask_follow_up: bool = True,
    min_valid_probability: float = DEFAULT_MIN_VALID_PROBABILITY,
    template_set: str = SET_NAME,
    template_set_version: int = SET_VERSION,
    batch_size: int = 16,
    label: str = "",
    created_by=None,
) -> EvaluationRun:
    """Validate and save a draft run (raises ``ValidationError`` with a clear message)."""
    if model_config.provider == ModelConfiguration.Provider.REFERENCE:
        raise ValidationError("a reference model (imported outputs) cannot be run")
    if template_set == SET_NAME and template_set_version == SET_VERSION:
        ensure_builtin_templates()
    templates = PromptTemplate.objects.filter(
        set_name=template_set, set_version=template_set_version
    )
    available = sorted(set(templates.values_list("variant", flat=True)))
    if not available:
        raise ValidationError(f"template set {template_set} v{template_set_version} does not exist")
    variants = list(variants or available)
    unknown = sorted(set(variants) - set(available))
    if unknown:
        raise ValidationError(
            f"unknown variant(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    styles_needed = set(
        item_set.entries.values_list("item__scenario__source__style", flat=True).distinct()
    )
    have = set(templates.filter(variant__in=variants).values_list("variant", "style"))
    missing = [f"{v}/{s}" for v in variants for s in styles_needed if (v, s) not in have]
    if missing:
        raise ValidationError(f"templates missing for {', '.join(missing)}")
    if scoring == EvaluationRun.Scoring.PROBABILITY:
        if templates.filter(variant__in=variants, digit_text="").exists():
            raise ValidationError(
                "probability scoring needs templates with a digit form (the built-in set has one)"
            )
        if model_config.provider in LOGPROB_PROVIDERS and not model_config.top_logprobs:
            raise ValidationError(
                "probability scoring needs top log-probabilities: set 'top logprobs' on the model"
            )
        if model_config.provider == ModelConfiguration.Provider.ANTHROPIC:
            raise ValidationError("the Anthropic Messages API gives no token probabilities")
    try:
        clean_personas = [validate_persona(p, persona_options()) for p in (personas or [])]
    except PersonaError as exc:
        raise ValidationError(str(exc)) from None
    if not 1 <= repetitions <= 20:
        raise ValidationError("repetitions must be between 1 and 20")
    if not 0 <= invalid_retries <= 10:
        raise ValidationError("invalid retries must be between 0 and 10")
    if not 0 <= min_valid_probability <= 1:
        raise ValidationError("the minimum valid probability must be between 0 and 1")
    return EvaluationRun.objects.create(
        label=label,
        model_config=model_config,
        item_set=item_set,
        template_set=template_set,
        template_set_version=template_set_version,
        variants=variants,
        personas=clean_personas,
        repetitions=repetitions,
        scoring=scoring,
        use_cache=use_cache,
        invalid_retries=invalid_retries,
        reask_follow_up=reask_follow_up,
        min_valid_probability=min_valid_probability,
        batch_size=batch_size,
        created_by=created_by,
    )


def broker_connection():
    """A connection to the Celery broker (a seam for tests of an unreachable broker)."""
    from config.celery import app

    return app.connection_for_write()


def _publish(run_id: int) -> None:
    from kombu.exceptions import OperationalError

    from .tasks import dispatch_run

    connection = broker_connection()
    try:
        with connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2)
            dispatch_run.apply_async(args=[run_id], connection=connection, retry=False)
    except (OperationalError, OSError) as exc:
        broker = "Redis" if connection.transport_cls == "redis" else connection.transport_cls
        raise QueueUnavailable(
            f"The task queue is unavailable: cannot reach the Celery broker ({broker}: "
            f"{type(exc).__name__}). Nothing was queued; start the run again when the queue "
            "is back."
        ) from exc


def start_run(*, run: EvaluationRun) -> EvaluationRun:
    """Freeze the generation parameters and queue the run (draft/cancelled/failed/done → queued).

    Call it outside a transaction (views and commands run in autocommit): the status change
    must be committed before a worker can claim the run. When the broker is unreachable the
    run goes back to its previous state and :class:`QueueUnavailable` says so.
    """
    previous = run.status
    if run.is_active:
        raise ValidationError("the run is already queued or running")
    params = run.params or run.model_config.generation_params()
    updated = EvaluationRun.objects.filter(pk=run.pk, status=previous).update(
        status=EvaluationRun.Status.QUEUED,
        params=params,
        error="",
        started_at=run.started_at or timezone.now(),
        finished_at=None,
    )
    if not updated:
        raise ValidationError("the run changed meanwhile; reload and try again")
    try:
        _publish(run.pk)
    except QueueUnavailable as exc:
        EvaluationRun.objects.filter(pk=run.pk, status=EvaluationRun.Status.QUEUED).update(
            status=previous, error=str(exc)
        )
        run.refresh_from_db()
        raise
    run.refresh_from_db()
    return run


def resume_run(*, run: EvaluationRun) -> EvaluationRun:
    """Ask again the units that failed (request errors) and queue every unit without a row.

    Also for a run that is still marked running (e.g. after its worker was killed, before
    the broker re-delivers its batches): units answered twice are written once.
    """
    if run.status in (EvaluationRun.Status.QUEUED, EvaluationRun.Status.RUNNING):
        # Re-queueing a run that is progressing would ask its in-flight units twice.
        if not is_stalled(run=run):
            raise ValidationError(
                "the run is progressing; only a run without answers for "
                f"{STALLED_AFTER.seconds // 60} minutes can be re-queued"
            )
        run.responses.filter(state=Response.State.FAILED).delete()
        _publish(run.pk)
        return run
    run.responses.filter(state=Response.State.FAILED).delete()
    if run.status == EvaluationRun.Status.SCORING:
        raise ValidationError("the run is being scored")
    return start_run(run=run)


STALLED_AFTER = timedelta(minutes=2)


def is_stalled(*, run: EvaluationRun) -> bool:
    """An active run that has written no answer for :data:`STALLED_AFTER` (e.g. its worker
    died and the broker has not re-delivered its batches yet)."""
    if not run.is_active:
        return False
    since = timezone.now() - STALLED_AFTER
    if run.started_at and run.started_at > since:
        return False
    return not run.responses.filter(created_at__gte=since).exists()


def cancel_run(*, run: EvaluationRun) -> bool:
    """Stop an active run: queued batches exit, running ones stop asking. Rows are kept."""
    return bool(
        EvaluationRun.objects.filter(pk=run.pk, status__in=EvaluationRun.ACTIVE).update(
            status=EvaluationRun.Status.CANCELLED, finished_at=timezone.now()
        )
    )


def score_run(*, run: EvaluationRun, entries: pd.DataFrame | None = None) -> dict:
    """(Re)compute the run's portrait scores and summary from its stored responses."""
    if entries is None:
        entries = item_set_entries(item_set=run.item_set)
    all_answers = answers_frame(run=run)
    answers = all_answers[all_answers["item_id"].isin(entries["item_id"])]
    scores = []
    summary: dict = {"personas": {}}
    for persona, group in answers.groupby("persona", sort=True):
        asked = all_answers[all_answers["persona"] == persona]
        constant_variants = []
        for basis, column in (
            (PortraitScore.Basis.ANSWER, "rating"),
            (PortraitScore.Basis.PROBABILITY, "expected_rating"),
        ):
            # A template answered with one rating throughout says nothing about the values:
            # left out of the portrait, named in the summary.
            constant = portraits.constant_variants(group, value=column)
            constant_variants += [
                {"basis": str(basis), "variant": row.variant, "rating": float(row.rating),
                 "items": int(row.items)}
                for row in constant.itertuples()
            ]  # fmt: skip
            informative = group[~group["variant"].isin(constant["variant"])]
            # A basis without a single valid answer has no portrait (not one of empty scores).
            if not informative[column].notna().any():
                continue
            table = portraits.model_portrait(informative, entries, value=column)
            for row in table.itertuples():
                scores.append(
                    PortraitScore(
                        run=run,
                        persona=persona,
                        basis=basis,
                        family=row.family,
                        dimension=row.dimension,
                        raw=_num(row.raw),
                        sd=_num(row.sd),
                        n=int(row.n),
                        family_mean=_num(row.family_mean),
                        centred=_num(row.centred),
                    )
                )
        counts = group.groupby(["variant", "state"]).size().unstack(fill_value=0)
        answered = group.dropna(subset=["rating"]).groupby("item_id")["variant"].nunique()
        variants_total = group["variant"].nunique()
        summary["personas"][persona] = {
            "answers": int(len(group)),
            "valid": int((group["state"] == "valid").sum()),
            "invalid": int((group["state"] == "invalid").sum()),
            "failed": int((group["state"] == "failed").sum()),
            "by_variant": {
                v: {str(k): int(n) for k, n in row.items()} for v, row in counts.iterrows()
            },
            # Answers that named two different options (resolved by the longest phrase) and
            # answers read from a negated phrase ("not really like me"): counted, not hidden.
            "several_options": int(group["several_options"].sum()),
            "negation": int((group["parse_method"] == "negation").sum()),
            "items_rated": int(len(answered)),
            # Items whose mean is over fewer variants than the run asked: said, not hidden.
            "items_with_missing_variants": int((answered < variants_total).sum()),
            # Over the variants the portrait stands on (a constant one would add a flat
            # variant portrait to the spread the dashboards draw as error bars).
            "consistency": portraits.consistency(portraits.informative_answers(group), entries),
            "constant_variants": constant_variants,
            "valid_mass": valid_mass_distribution(
                group["valid_mass"].dropna().tolist(), run.min_valid_probability
            )
            if group["valid_mass"].notna().any()
            else None,
            # The paper's prompt-sensitivity analysis over every item the run asked.
            "sensitivity": sensitivity_of(asked),
        }
        if run.reference_source == EvaluationRun.ReferenceSource.RAW:
            # The same analysis on the paper's own parse of these answers, to compare.
            summary["personas"][persona]["sensitivity_paper_parse"] = sensitivity_of(
                asked.assign(rating=asked["reference_rating"])
            )
    with transaction.atomic():
        run.scores.all().delete()
        PortraitScore.objects.bulk_create(scores)
        EvaluationRun.objects.filter(pk=run.pk).update(summary=summary)
    run.summary = summary
    return summary


def _num(value) -> float | None:
    return None if pd.isna(value) else float(value)


def finish_run_if_complete(*, run_id: int) -> bool:
    """Score and close the run once every unit has a stored response (claimed once)."""
    from .selectors import expected_unit_count

    run = EvaluationRun.objects.filter(pk=run_id).select_related("item_set").first()
    if run is None or run.status != EvaluationRun.Status.RUNNING:
        return False
    if run.responses.count() < expected_unit_count(run=run):
        return False
    claimed = EvaluationRun.objects.filter(pk=run_id, status=EvaluationRun.Status.RUNNING).update(
        status=EvaluationRun.Status.SCORING
    )
    if not claimed:
        return False
    try:
        score_run(run=run)
    except Exception as exc:  # keep the answers; say why scoring failed
        log.exception("scoring run %s failed", run_id)
        EvaluationRun.objects.filter(pk=run_id).update(
            status=EvaluationRun.Status.FAILED, error=f"scoring failed: {exc}"
        )
        return False
    EvaluationRun.objects.filter(pk=run_id, status=EvaluationRun.Status.SCORING).update(
        status=EvaluationRun.Status.DONE, finished_at=timezone.now()
    )
    return True


def cost_of(*, config: ModelConfiguration, input_tokens: int, output_tokens: int) -> Decimal:
    return (
        Decimal(input_tokens) * config.input_cost_per_million
        + Decimal(output_tokens) * config.output_cost_per_million
    ) / Decimal(1_000_000)


def persona_keys(run: EvaluationRun) -> list[str]:
    return [persona_key(p) for p in run.personas] or [""]
