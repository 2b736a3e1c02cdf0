"""An evaluation run's life, in one place: create, start, claim, execute a batch, finish,
score, cancel, resume.

::

    create_run ─ draft ─ start_run ─ queued ─ dispatch (claim) ─ running ─ execute_batch …
        ─ finish_if_complete (claim) ─ scoring ─ score_run ─ done | failed
    cancel_run: queued/running/scoring → cancelled;  resume_run: the one entry point that
    decides between starting (draft, cancelled, failed, done) and re-queueing a stalled run.

Views, the API, commands and the Celery tasks call these functions and nothing else to move
a run. Each task loads the run once. Status changes are conditional UPDATEs (a change that
lost a race changes nothing), so a task delivered twice does its work once. Refusals raise
:mod:`evaluation.errors` (no HTTP codes: the adapters map them).
"""

from __future__ import annotations

import logging

import pandas as pd
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from benchmark.models import ValidatedItemSet
from benchmark.selectors import item_set_entries
from config.celery import app as celery_app
from evaluation import batch_mode, portraits
from evaluation.errors import (
    InvalidRunSettings,
    QueueUnavailable,
    RunNotFound,
    RunStateConflict,
)
from evaluation.execution import execute_units
from evaluation.parsing import DEFAULT_MIN_VALID_PROBABILITY, valid_mass_distribution
from evaluation.personas import PersonaError, validate_persona
from evaluation.prompts.builtin import SET_NAME, SET_VERSION
from evaluation.selectors import answers_frame, missing_units, persona_options, sensitivity_of
from evaluation.services import ensure_builtin_templates
from evaluation.units import Unit, chunks
from survey.language_codes import SOURCE_LANGUAGE, normalise_language
from survey.models import Item
from survey.selectors.scale_words import scale_words

from .models import EvaluationRun, ModelConfiguration, PortraitScore, PromptTemplate, Response

log = logging.getLogger(__name__)
LOGPROB_PROVIDERS = {"openai", "gemini"}
Status = EvaluationRun.Status


# --- create -------------------------------------------------------------------------------
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
    mode: str = EvaluationRun.Mode.LIVE,
    batch_retry: str = EvaluationRun.BatchRetry.BATCH,
    label: str = "",
    created_by=None,
    language: str = SOURCE_LANGUAGE,
) -> EvaluationRun:
    """Validate and save a draft run (raises :class:`InvalidRunSettings` saying why).

    ``language``: the items are put in it (their reviewed translations, or their source
    text when written in it) with the template set's templates in it; every item of the set
    must be servable in it. Answers are read against the language's labels and number words
    (its message catalogue), so a language needs a catalogue, and phrase scoring needs
    templates that list the catalogue's labels."""
    try:
        language = normalise_language(language)
    except ValueError as exc:
        raise InvalidRunSettings(str(exc)) from None
    try:
        words = scale_words(language=language)
    except LookupError:
        raise InvalidRunSettings(
            f"answers in {language!r} cannot be read: there is no message catalogue for it "
            "(its scale labels and number words)"
        ) from None
    if model_config.provider == ModelConfiguration.Provider.REFERENCE:
        raise InvalidRunSettings("a reference model (imported outputs) cannot be run")
    if mode not in EvaluationRun.Mode.values:
        raise InvalidRunSettings(f"unknown mode {mode!r}; use live or batch")
    if batch_retry not in EvaluationRun.BatchRetry.values:
        raise InvalidRunSettings(f"unknown batch retry {batch_retry!r}; use batch or live")
    if mode == EvaluationRun.Mode.BATCH and not model_config.has_batch_api:
        raise InvalidRunSettings(
            f"batch mode needs a provider with a batch API (OpenAI, Anthropic, Gemini); "
            f"{model_config.name} is {model_config.get_provider_display()}"
        )
    if template_set == SET_NAME and template_set_version == SET_VERSION:
        ensure_builtin_templates()
    templates = PromptTemplate.objects.filter(
        set_name=template_set, set_version=template_set_version, language=language
    )
    available = sorted(set(templates.values_list("variant", flat=True)))
    if not available:
        raise InvalidRunSettings(
            f"template set {template_set} v{template_set_version} does not exist in {language!r}"
        )
    set_items = Item.objects.filter(validated_entries__item_set=item_set).distinct()
    untranslated = set_items.count() - set_items.servable_in(language).count()
    if untranslated:
        raise InvalidRunSettings(
            f"{untranslated} item(s) of {item_set} have no reviewed translation into {language!r}"
        )
    variants = list(variants or available)
    unknown = sorted(set(variants) - set(available))
    if unknown:
        raise InvalidRunSettings(
            f"unknown variant(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    styles_needed = set(
        item_set.entries.values_list("item__scenario__source__style", flat=True).distinct()
    )
    have = set(templates.filter(variant__in=variants).values_list("variant", "style"))
    missing = [f"{v}/{s}" for v in variants for s in styles_needed if (v, s) not in have]
    if missing:
        raise InvalidRunSettings(f"templates missing for {', '.join(missing)}")
    if scoring == EvaluationRun.Scoring.PHRASE and language != SOURCE_LANGUAGE:
        # The parser reads the catalogue's labels: a template listing other words (written
        # before a catalogue change) would get answers it can never read.
        for template in templates.filter(variant__in=variants):
            lines = {line.strip() for line in template.text.splitlines()}
            if not set(words.labels) <= lines:
                raise InvalidRunSettings(
                    f"template {template} does not list the {language!r} catalogue's labels "
                    f"({', '.join(words.labels)}), which its answers are read against"
                )
    if scoring == EvaluationRun.Scoring.PROBABILITY:
        if templates.filter(variant__in=variants, digit_text="").exists():
            raise InvalidRunSettings(
                "probability scoring needs templates with a digit form (the built-in set has one)"
            )
        if model_config.provider in LOGPROB_PROVIDERS and not model_config.top_logprobs:
            raise InvalidRunSettings(
                "probability scoring needs top log-probabilities: set 'top logprobs' on the model"
            )
        if model_config.provider == ModelConfiguration.Provider.ANTHROPIC:
            raise InvalidRunSettings("the Anthropic Messages API gives no token probabilities")
    try:
        clean_personas = [validate_persona(p, persona_options()) for p in (personas or [])]
    except PersonaError as exc:
        raise InvalidRunSettings(str(exc)) from None
    if not 1 <= repetitions <= 20:
        raise InvalidRunSettings("repetitions must be between 1 and 20")
    if not 0 <= invalid_retries <= 10:
        raise InvalidRunSettings("invalid retries must be between 0 and 10")
    if not 0 <= min_valid_probability <= 1:
        raise InvalidRunSettings("the minimum valid probability must be between 0 and 1")
    run = EvaluationRun(
        label=label,
        model_config=model_config,
        item_set=item_set,
        template_set=template_set,
        template_set_version=template_set_version,
        language=language,
        variants=variants,
        personas=clean_personas,
        repetitions=repetitions,
        scoring=scoring,
        use_cache=use_cache,
        invalid_retries=invalid_retries,
        reask_follow_up=reask_follow_up,
        min_valid_probability=min_valid_probability,
        batch_size=batch_size,
        mode=mode,
        batch_retry=batch_retry,
        created_by=created_by,
    )
    run.parameters_fingerprint = run.compute_fingerprint()
    run.save()
    return run


# --- start, resume, cancel ----------------------------------------------------------------
def _load(run_id: int) -> EvaluationRun:
    run = EvaluationRun.objects.select_related("model_config", "item_set").filter(pk=run_id).first()
    if run is None:
        raise RunNotFound(f"no evaluation run {run_id}")
    return run


def broker_connection():
    """A connection to the Celery broker (a seam for tests of an unreachable broker)."""
    return celery_app.connection_for_write()


def _publish(run_id: int) -> None:
    # Import cycle: the tasks call this module.
    from evaluation.tasks import dispatch_run

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


def start_run(*, run_id: int) -> EvaluationRun:
    """Freeze the generation parameters and queue the run (draft/cancelled/failed/done → queued).

    Call it outside a transaction (views and commands run in autocommit): the status change
    must be committed before a worker can claim the run. When the broker is unreachable the
    run goes back to its previous state and :class:`QueueUnavailable` says so.
    """
    return _start(_load(run_id))


def _start(run: EvaluationRun) -> EvaluationRun:
    previous = run.status
    if run.is_active:
        raise RunStateConflict("the run is already queued or running")
    run.params = run.params or run.model_config.generation_params()
    updated = EvaluationRun.objects.filter(pk=run.pk, status=previous).update(
        status=Status.QUEUED,
        params=run.params,
        # The parameters are frozen now: so is what "the same parameters" means for the run.
        parameters_fingerprint=run.compute_fingerprint(),
        error="",
        started_at=run.started_at or timezone.now(),
        finished_at=None,
    )
    if not updated:
        raise RunStateConflict("the run changed meanwhile; reload and try again")
    try:
        _publish(run.pk)
    except QueueUnavailable as exc:
        EvaluationRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=previous, error=str(exc)
        )
        run.refresh_from_db()
        raise
    run.refresh_from_db()
    return run


def resume_run(*, run_id: int) -> EvaluationRun:
    """Ask what is missing: the one place that decides between starting and resuming.

    A draft is started. Otherwise the units that failed (request errors) are asked again and
    every unit without a row is queued, also for a run still marked queued or running once it
    is stalled (its worker was killed, before the broker re-delivers its batches): units
    answered twice are written once. A reference run has nothing to ask.
    """
    run = _load(run_id)
    if run.kind == EvaluationRun.Kind.REFERENCE:
        raise RunStateConflict("a reference run has nothing to ask")
    if run.status == Status.DRAFT:
        return _start(run)
    if run.is_answering:
        # Re-queueing a run that is progressing would ask its in-flight units twice.
        if not run.is_stalled():
            raise RunStateConflict(
                "the run is progressing; only a run without answers for "
                f"{EvaluationRun.STALLED_AFTER.seconds // 60} minutes can be re-queued"
            )
        run.responses.filter(state=Response.State.FAILED).delete()
        _publish(run.pk)
        return run
    if run.status == Status.SCORING:
        raise RunStateConflict("the run is being scored")
    run.responses.filter(state=Response.State.FAILED).delete()
    return _start(run)


def answer_in_process(*, run_id: int) -> EvaluationRun:
    """Answer a draft run here and now, without the task queue, then score it (the demo
    loader, which runs before any worker does). Draft → running (the generation parameters
    frozen as ``start_run`` freezes them) → every unit asked (``execution.execute_units``) →
    scored and done (``finish_if_complete``). ``RunStateConflict`` unless the run is a
    draft; a run left incomplete (some answers failed) stays running and says so, resumable
    like any other."""
    run = _load(run_id)
    params = run.params or run.model_config.generation_params()
    claimed = EvaluationRun.objects.filter(pk=run.pk, status=Status.DRAFT).update(
        status=Status.RUNNING,
        params=params,
        parameters_fingerprint=run.compute_fingerprint(),
        started_at=timezone.now(),
        error="",
    )
    if not claimed:
        raise RunStateConflict("only a draft run can be answered in this process")
    run = _load(run_id)
    execute_units(run=run, units=missing_units(run=run))
    finish_if_complete(run=run)
    return _load(run_id)


def cancel_run(*, run_id: int) -> EvaluationRun:
    """Stop an active run: queued batches exit, running ones stop asking. Rows are kept."""
    cancelled = (
        EvaluationRun.objects.active()
        .filter(pk=run_id)
        .update(status=Status.CANCELLED, finished_at=timezone.now())
    )
    if not cancelled:
        _load(run_id)  # RunNotFound when it is not there at all
        raise RunStateConflict("the run is not active")
    return _load(run_id)


# --- claim, execute, finish (the Celery tasks) --------------------------------------------
def dispatch(*, run_id: int) -> int:
    """Claim a queued run (mark it running) and queue one batch per ``batch_size`` (at least
    the model's ``max_concurrency``) missing units — in batch mode, plan the provider batches (:mod:`evaluation.batch_mode`); finish
    it at once when nothing is missing. Returns the batches queued."""
    # Import cycle: the tasks call this module.
    from evaluation.tasks import evaluate_batch

    claimed = EvaluationRun.objects.answering().filter(pk=run_id).update(status=Status.RUNNING)
    if not claimed:
        return 0
    run = EvaluationRun.objects.select_related("item_set", "model_config").filter(pk=run_id).first()
    if run is None:
        return 0
    if run.mode == EvaluationRun.Mode.BATCH:
        planned = batch_mode.submit_run(run=run)
        if not planned and not run.batches.open().exists():
            finish_if_complete(run=run)
        return planned
    # A task holds at least as many units as the model may have requests in flight: with
    # smaller tasks, a worker's few running tasks together often hold fewer waiting units
    # than free slots (and slots idle while the next task loads its units).
    size = max(run.batch_size, run.model_config.max_concurrency)
    batches = chunks(missing_units(run=run), size)
    for batch in batches:
        evaluate_batch.apply_async(args=[run_id, [list(u) for u in batch]])
    if not batches:
        finish_if_complete(run=run)
    return len(batches)


def execute_batch(*, run_id: int, units: list[Unit]) -> int:
    """Answer the units that have no row yet and close the run when it is complete; returns
    the rows written. Exits quietly when the run is gone or no longer asking (cancelled)."""
    run = (
        EvaluationRun.objects.answering()
        .select_related("model_config", "item_set")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        return 0
    written = execute_units(run=run, units=units)
    finish_if_complete(run=run)
    return written


def poll_batches() -> int:
    """Queue an :func:`advance_batch` task per provider batch that is due (Celery beat calls
    this periodically); returns how many."""
    # Import cycle: the tasks call this module.
    from evaluation.tasks import advance_batch as advance_batch_task

    ids = batch_mode.due_batch_ids()
    for batch_id in ids:
        advance_batch_task.delay(batch_id)
    return len(ids)


def advance_batch(*, batch_id: int) -> str:
    """Submit or poll one provider batch (:func:`evaluation.batch_mode.advance_batch`) and
    close its run when that completed it."""
    outcome, run = batch_mode.advance_batch(batch_id=batch_id)
    if run is not None and outcome in ("ingested", "refused", "lost"):
        run.refresh_from_db(fields=["status"])
        finish_if_complete(run=run)
    return outcome


def finish_if_complete(*, run: EvaluationRun) -> bool:
    """Score and close the run once every unit has a stored response (claimed once: only
    the caller whose conditional update moves it from running to scoring scores it)."""
    if run.responses.count() < run.expected_units():
        return False
    claimed = EvaluationRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
        status=Status.SCORING
    )
    if not claimed:
        return False
    try:
        score_run(run=run)
    except Exception as exc:  # keep the answers; say why scoring failed
        log.exception("scoring run %s failed", run.pk)
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, error=f"scoring failed: {exc}"
        )
        return False
    _mark_done(run)
    return True


def close_reference_run(*, run: EvaluationRun) -> EvaluationRun:
    """Score an imported reference run and mark it done (again, on a re-import); a scoring
    error propagates (the import says it)."""
    score_run(run=run)
    EvaluationRun.objects.filter(pk=run.pk).update(status=Status.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def _mark_done(run: EvaluationRun) -> None:
    EvaluationRun.objects.filter(pk=run.pk, status=Status.SCORING).update(
        status=Status.DONE, finished_at=timezone.now()
    )


# --- score --------------------------------------------------------------------------------
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
