"""Write operations of the benchmark app."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from core.bulk import insert_frame
from survey.instruments import dimensions as dims
from survey.instruments.keys import load_key
from survey.models import InstrumentResponse, ItemRating, Participant, Study

from .estimates import DEFAULT_PERMUTATIONS, item_set_chance, languages_chance
from .language_comparison import language_states, valid_in_all
from .minimums import refuse_thin_selection, too_few
from .models import (
    Correlation,
    CorrelationRun,
    PairExclusion,
    StudyAnalysisSettings,
    ValidatedItem,
    ValidatedItemSet,
)
from .selection import PRESETS, Exclusion, SelectionRule, select_pairs
from .selectors import (
    analysis_inputs,
    analysis_settings,
    full_correlation_frame,
    language_runs,
    minimums_for,
)
from .stats.bootstrap import bootstrap_ci
from .stats.correlation import correlate
from .stats.multiple import adjust_p
from .stats.reliability import (
    corrected_item_total,
    cronbach_alpha,
    most_shared_respondents,
    standardised_alpha,
)

logger = logging.getLogger(__name__)
KENDALL_BOOTSTRAP_CAP = 50
STALE_RUN_AFTER = timedelta(hours=1)  # the release takes ~2 s with 200 bootstrap replicates


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
            new.append((run.pk, item_id, family, dimension, r, p))
        elif (have[1], have[2]) != (r, p):
            changed.append(Correlation(id=have[0], r=r, p=p))
    frame = pd.DataFrame(new, columns=["run", "item", "family", "dimension", "r", "p"])
    insert_frame(model=Correlation, frame=frame.astype({"r": float, "p": float}))
    Correlation.objects.bulk_update(changed, ["r", "p"], batch_size=5000)
    return run, len(new), len(changed)


def next_item_set_version(name: str) -> int:
    last = ValidatedItemSet.objects.filter(name=name).order_by("-version").first()
    return 1 if last is None else last.version + 1


def _admin_exclusions(study: Study):
    return tuple(
        Exclusion(scenario_external_id=ext, option_id=opt, dimension=dim, reason=f"admin: {why}")
        for ext, opt, dim, why in PairExclusion.objects.filter(study=study).values_list(
            "item__scenario__external_id", "item__option_id", "dimension", "reason"
        )
    )


@transaction.atomic
def create_item_set(
    *,
    run: CorrelationRun,
    rule,
    name: str,
    preset: str = "",
    created_by=None,
    use_admin_exclusions: bool = True,
    chance_permutations: int = DEFAULT_PERMUTATIONS,
    languages: Sequence[str] = (),
):
    """Freeze a new version of item set ``name``: the pairs ``rule`` selects from ``run``.

    With ``languages`` the set is "valid in all of these languages": a pair is kept only
    when the rule also selects it, with at least the study's minimum raters, in each
    language's newest run of the same method restricted to that language
    (``benchmark.language_comparison.valid_in_all``); the runs used are stored in the rule.

    With ``use_admin_exclusions`` the study's admin-made pair exclusions are added to the
    rule's own; all applied exclusions are stored with their reasons on the set, and the
    reliability of each dimension's selected items on the human ratings is computed once and
    frozen with it, as are the rule's expected chance selections over
    ``chance_permutations`` permutations and its split-half replication
    (``benchmark.estimates``); a set valid in several languages also stores the rule's
    estimate on each language's run and the bound it gives on the pairs kept in all of them
    (``chance["languages"]``, :func:`benchmark.estimates.languages_chance`). A rule with
    ``max_chance_share`` is frozen with the threshold
    that bounds the chance share. Refused (``TooFewToSelect``, a ``ValueError`` with the
    reason) when the rule would select a pair with fewer raters than the study's minimum.
    """
    if run.status != CorrelationRun.Status.DONE:
        raise ValueError(f"correlation run #{run.pk} is {run.status}, not done")
    if use_admin_exclusions:
        extra = _admin_exclusions(run.study)
        if extra:
            rule = dataclasses.replace(rule, exclusions=tuple(rule.exclusions) + extra)
    minimums = minimums_for(study=run.study)
    frame = full_correlation_frame(run=run)
    first = select_pairs(frame, rule)  # a rule the run cannot take (e.g. FDR) fails first
    if rule.max_chance_share is None:  # refused before seconds of permutations, not after
        refuse_thin_selection(first, minimums.raters_per_pair)
    rule, chance = item_set_chance(
        run=run, rule=rule, frame=frame, n_permutations=chance_permutations
    )
    selected = select_pairs(frame, rule)
    rule_json = rule.as_json()
    if languages:
        by_language = language_runs(study=run.study, languages=languages, method=run.method)
        keys = valid_in_all(
            [
                language_states(full_correlation_frame(run=other), rule, minimums.raters_per_pair)
                for other in by_language.values()
            ]
        )
        in_all = [
            (i, f, d) in keys
            for i, f, d in zip(
                selected["item_id"], selected["family"], selected["dimension"], strict=True
            )
        ]
        selected = selected[np.asarray(in_all, dtype=bool)].reset_index(drop=True)
        rule_json["valid_in_languages"] = {lang: r.pk for lang, r in by_language.items()}
    refuse_thin_selection(selected, minimums.raters_per_pair)
    if languages:  # the base run's estimate is of its own selection, before the intersection
        chance = {
            **chance,
            "languages": languages_chance(
                runs=by_language, rule=rule, kept=len(selected), n_permutations=chance_permutations
            ),
        }
    item_set = ValidatedItemSet.objects.create(
        name=name,
        version=next_item_set_version(name),
        study=run.study,
        correlation_run=run,
        preset=preset,
        rule=rule_json,
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
        reliability=selected_items_reliability(
            study=run.study, selected=selected, minimums=minimums, language=run.language
        ),
        chance=chance,
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


def _finite(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def selected_items_reliability(
    *, study: Study, selected: pd.DataFrame, minimums=None, language: str = ""
) -> dict:
    """Reliability of each dimension's selected items on the study's human ratings.

    Cronbach's α (Feldt 95% CI) and corrected item–total r are computed within *rater
    blocks* — items rated by the same raters (a survey group of the release) — because no
    rater saw every item of a dimension; the standardised α of the whole k-item scale comes
    from the mean inter-item correlation over item pairs with enough shared raters. Below the
    study's minimum respondents a statistic is stored as ``TooFew`` JSON, not as a number.
    With ``language`` only the ratings of participants who took the study in it count (an
    item set frozen from a run restricted to that language). Keyed by dimension name.
    """
    required = (minimums or minimums_for(study=study)).reliability_respondents

    def withheld(n: int) -> dict:
        return too_few(n, required, "reliability_respondents").as_json()

    if selected.empty:
        return {}
    raters = Participant.objects.counted(study)
    if language:
        raters = raters.in_language(language)
    ratings = pd.DataFrame.from_records(
        list(
            ItemRating.objects.filter(
                participant__in=raters,
                item_id__in=selected["item_id"].unique().tolist(),
            ).values_list("participant_id", "item_id", "rating")
        ),
        columns=["participant_id", "item_id", "rating"],
    )
    if ratings.empty:
        return {}
    matrix = ratings.pivot(index="participant_id", columns="item_id", values="rating").astype(float)
    codes = dict(
        zip(
            selected["item_id"],
            selected["scenario_external_id"].astype(str) + "/" + selected["option_id"].astype(str),
            strict=False,
        )
    )
    out = {}
    for dimension, group in selected.groupby("dimension", sort=False):
        items = [i for i in group["item_id"].unique() if i in matrix.columns]
        sub = matrix[items]
        std_alpha, mean_r, pairs = standardised_alpha(sub.to_numpy(), min_pairs=required)
        blocks: dict[frozenset, list[int]] = {}
        for item in items:
            blocks.setdefault(frozenset(sub.index[sub[item].notna()]), []).append(item)
        block_rows, item_total = [], {}
        for raters, block_items in blocks.items():
            if len(block_items) < 2:  # α of a single item is undefined, not too few
                continue
            data = sub.loc[sorted(raters), block_items].to_numpy()
            alpha = cronbach_alpha(data)
            enough = alpha.n >= required
            block_rows.append(
                {
                    "items": len(block_items),
                    "n": alpha.n,
                    "alpha": _finite(alpha.alpha) if enough else withheld(alpha.n),
                    "ci_low": _finite(alpha.ci_low) if enough else None,
                    "ci_high": _finite(alpha.ci_high) if enough else None,
                }
            )
            for item, value in zip(block_items, corrected_item_total(data), strict=True):
                item_total[codes[item]] = _finite(value) if enough else withheld(alpha.n)
        alphas = [b["alpha"] for b in block_rows if isinstance(b["alpha"], float)]
        shared = most_shared_respondents(sub.to_numpy())
        out[dimension] = {
            "k": len(items),
            "standardised_alpha": _finite(std_alpha) if pairs else withheld(shared),
            "mean_inter_item_r": _finite(mean_r) if pairs else withheld(shared),
            "item_pairs": pairs,
            "blocks": block_rows,
            "median_block_alpha": _finite(float(np.median(alphas))) if alphas else None,
            "corrected_item_total": item_total,
        }
    return out


def questionnaire_reliability(*, study: Study) -> dict:
    """Cronbach's α of each questionnaire scale on the raw answers of counted participants.

    Reverse-keyed items are recoded first. Keyed ``{instrument: {dimension: {...}}}``;
    empty for imported studies (the release holds scores, not answers). A scale answered
    completely by fewer respondents than the study's minimum gets ``TooFew`` JSON as its α
    and no CI.
    """

    required = minimums_for(study=study).reliability_respondents
    # The same people the correlations count (finished; unflagged if the study says so).
    answers = pd.DataFrame.from_records(
        list(
            InstrumentResponse.objects.filter(
                participant__in=Participant.objects.counted(study)
            ).values_list("instrument__code", "participant_id", "item_number", "value")
        ),
        columns=["code", "participant_id", "item_number", "value"],
    )
    out: dict = {}
    for code, frame in answers.groupby("code"):
        try:
            key = load_key(code)
        except KeyError:
            continue
        matrix = frame.pivot(index="participant_id", columns="item_number", values="value")
        matrix = matrix.astype(float)
        for number in key.reverse_items:
            if number in matrix:
                matrix[number] = key.scale_min + key.scale_max - matrix[number]
        scales = {}
        for family, dimensions in key.families.items():
            for dimension, numbers in dimensions.items():
                columns = [n for n in numbers if n in matrix.columns]
                alpha = cronbach_alpha(matrix[columns].to_numpy()) if len(columns) >= 2 else None
                enough = alpha is not None and alpha.n >= required
                withheld = (
                    too_few(alpha.n, required, "reliability_respondents").as_json()
                    if alpha is not None and not enough
                    else None
                )
                scales[f"{family}:{dimension}"] = {
                    "family": family,
                    "dimension": dimension,
                    "items": len(numbers),
                    "n": alpha.n if alpha else 0,
                    "alpha": _finite(alpha.alpha) if enough else withheld,
                    "ci_low": _finite(alpha.ci_low) if enough else None,
                    "ci_high": _finite(alpha.ci_high) if enough else None,
                }
        out[code] = scales
    return out


def create_preset_item_set(
    *,
    run: CorrelationRun,
    preset: str = "valueportrait-2025",
    created_by=None,
    languages: Sequence[str] = (),
):
    """Apply a named preset (``benchmark.selection.PRESETS``) to ``run`` (``languages``: as
    ``create_item_set``)."""
    return create_item_set(
        run=run,
        rule=PRESETS[preset],
        name=preset,
        preset=preset,
        created_by=created_by,
        languages=languages,
    )


def freeze_item_set(
    *,
    run: CorrelationRun,
    created_by=None,
    preset: str = "",
    threshold: float = SelectionRule.threshold,
    mode: str = SelectionRule.mode,
    families: Sequence[str] = (),
    fdr_alpha: float | None = None,
    fdr_method: str = "",
    ci_bound: float | None = None,
    max_chance_share: float | None = None,
    name: str = "",
    languages: Sequence[str] = (),
):
    """Freeze an item set from ``run``: the named ``preset``, else the threshold rule these
    values describe. The one place where a request becomes a selection rule: a value left
    empty takes ``SelectionRule``'s own default, for the staff page and the API alike.
    ``languages``: keep only the pairs valid in each of them (``create_item_set``).
    Raises ``ValueError`` with a reader's message when the rule or the run is refused."""
    if preset:
        return create_preset_item_set(
            run=run, preset=preset, created_by=created_by, languages=languages
        )
    rule = SelectionRule(
        threshold=threshold,
        mode=mode,
        families=tuple(families) or SelectionRule.families,
        fdr_alpha=fdr_alpha,
        fdr_method=fdr_method or SelectionRule.fdr_method,
        ci_bound=ci_bound,
        max_chance_share=max_chance_share,
    )
    name = name or f"{run.study.slug}-r{threshold:g}-{mode}" + "".join(
        f"-{language}" for language in languages
    )
    return create_item_set(
        run=run, rule=rule, name=name, created_by=created_by, languages=languages
    )


def compute_correlations(
    *, study: Study, method: str, bootstrap_resamples: int, seed: int, language: str = ""
):
    """Compute (not store) a study's correlations; returns (inputs, result, extras).
    ``language`` restricts them to the participants who took the study in it ("": pooled).

    ``extras`` holds the whole-run BH/BY adjusted p and, when ``bootstrap_resamples`` > 0,
    the bootstrap CI bounds (arrays shaped like ``result.r``).
    """
    inputs = analysis_inputs(study=study, language=language)
    result = correlate(inputs.ratings, inputs.scores, method)
    extras = {"p_bh": adjust_p(result.p, "bh"), "p_by": adjust_p(result.p, "by")}
    if bootstrap_resamples:
        ci = bootstrap_ci(
            inputs.ratings, inputs.scores, method, n_resamples=bootstrap_resamples, seed=seed
        )
        extras["ci_low"], extras["ci_high"] = ci.low, ci.high
    return inputs, result, extras


def request_recomputation(
    *,
    study: Study,
    method: str = CorrelationRun.Method.SPEARMAN,
    created_by=None,
    trigger: str = "manual",
    enqueue: bool = True,
    language: str = "",
) -> CorrelationRun:
    """Create a pending computed run; with ``enqueue`` the Celery task runs it after commit.
    ``language`` (one the study offers) restricts the run to that language's participants;
    empty pools them all."""
    if method not in CorrelationRun.Method.values:
        raise ValueError(f"unknown method {method!r}; use one of {CorrelationRun.Method.values}")
    if language and language not in study.offered_languages():
        raise ValueError(
            f"study {study.slug} is not offered in {language!r} "
            f"(its languages: {', '.join(study.offered_languages())})"
        )
    fail_stale_runs(study=study)
    settings_row = analysis_settings(study=study)
    resamples = settings_row.bootstrap_resamples
    if method == CorrelationRun.Method.KENDALL:
        # τ-b costs ~20× Spearman per replicate (1.6 s on the release): cap the bootstrap.
        resamples = min(resamples, KENDALL_BOOTSTRAP_CAP)
    run = CorrelationRun.objects.create(
        study=study,
        kind=CorrelationRun.Kind.COMPUTED,
        method=method,
        status=CorrelationRun.Status.PENDING,
        language=language,
        label=f"{CorrelationRun.Method(method).label} from stored responses"
        + (f" ({language} only)" if language else ""),
        parameters={
            "trigger": trigger,
            "bootstrap_resamples": resamples,
            "bootstrap_seed": settings_row.bootstrap_seed,
            "fdr": ["bh", "by"],
        },
        created_by=created_by,
    )
    if enqueue:
        transaction.on_commit(lambda: enqueue_run(run_id=run.pk))
    return run


def enqueue_run(*, run_id: int) -> bool:
    """Send the run to the Celery queue; if the broker refuses, mark the run failed (and say
    why) instead of failing the web request that asked for it."""
    # Imported here: a real cycle (the task module calls this one's services).
    from .tasks import recompute_correlations

    try:
        recompute_correlations.delay(run_id)
    except Exception as exc:  # broker down or misconfigured: recorded on the run
        logger.exception("could not enqueue correlation run %s", run_id)
        CorrelationRun.objects.filter(pk=run_id, status=CorrelationRun.Status.PENDING).update(
            status=CorrelationRun.Status.FAILED,
            error=f"could not reach the task queue: {type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        return False
    return True


def claim_run(*, run_id: int) -> bool:
    """Move a pending run to running; False when it is gone or another worker has it."""
    return bool(
        CorrelationRun.objects.filter(pk=run_id, status=CorrelationRun.Status.PENDING).update(
            status=CorrelationRun.Status.RUNNING, started_at=timezone.now()
        )
    )


def fail_stale_runs(*, study: Study, older_than: timedelta = STALE_RUN_AFTER) -> int:
    """Mark runs still 'running' long after a worker claimed them (a lost worker) failed."""
    return CorrelationRun.objects.filter(
        study=study,
        status=CorrelationRun.Status.RUNNING,
        started_at__lt=timezone.now() - older_than,
    ).update(
        status=CorrelationRun.Status.FAILED,
        error="the worker was lost before the run finished; recompute to try again",
        finished_at=timezone.now(),
    )


CORRELATION_ROW_FIELDS = (
    "run",
    "item",
    "family",
    "dimension",
    "r",
    "p",
    "n",
    "p_bh",
    "p_by",
    "ci_low",
    "ci_high",
)


def correlation_table(*, run_id: int, inputs, result, extras: dict) -> pd.DataFrame:
    """The run's rows, one column per name in ``CORRELATION_ROW_FIELDS``: items × dimensions,
    item-major. Undefined values (NaN or ±inf r, p or bound) are NaN, stored as NULL."""
    n_items, n_dims = len(inputs.item_ids), len(inputs.dimensions)

    def floats(values) -> np.ndarray:
        column = np.asarray(values, dtype=float).ravel().copy()
        column[~np.isfinite(column)] = np.nan
        return column

    missing = np.full(n_items * n_dims, np.nan)
    return pd.DataFrame(
        {
            "run": np.full(n_items * n_dims, run_id, dtype=np.int64),
            "item": np.repeat(np.asarray(inputs.item_ids, dtype=np.int64), n_dims),
            "family": [family for family, _ in inputs.dimensions] * n_items,
            "dimension": [dimension for _, dimension in inputs.dimensions] * n_items,
            "r": floats(result.r),
            "p": floats(result.p),
            "n": np.asarray(result.n, dtype=np.int64).ravel(),
            "p_bh": floats(extras["p_bh"]),
            "p_by": floats(extras["p_by"]),
            "ci_low": floats(extras["ci_low"]) if "ci_low" in extras else missing,
            "ci_high": floats(extras["ci_high"]) if "ci_high" in extras else missing,
        },
        columns=list(CORRELATION_ROW_FIELDS),
    )


# Stages execute_run reports to its ``progress`` callback (for a command's progress bar).
EXECUTE_STAGES = ("computed", "stored")


def execute_run(
    *, run: CorrelationRun, progress: Callable[[str], None] | None = None
) -> CorrelationRun:
    """Compute and store the rows of a claimed (running) run; records duration and failures.
    ``progress(stage)`` is called after each of :data:`EXECUTE_STAGES`."""
    started = time.perf_counter()
    tick = progress or (lambda stage: None)
    try:
        inputs, result, extras = compute_correlations(
            study=run.study,
            method=run.method,
            bootstrap_resamples=int(run.parameters.get("bootstrap_resamples", 0)),
            seed=int(run.parameters.get("bootstrap_seed", 0)),
            language=run.language,
        )
        tick("computed")
        with transaction.atomic():
            run.rows.all().delete()  # a retried run replaces its own partial rows only
            insert_frame(
                model=Correlation,
                frame=correlation_table(run_id=run.pk, inputs=inputs, result=result, extras=extras),
            )
            run.status = CorrelationRun.Status.DONE
            run.exclusions = inputs.exclusions
            run.n_participants = inputs.n_participants
            run.parameters = {
                **run.parameters,
                "items": len(inputs.item_ids),
                "dimensions": len(inputs.dimensions),
                "fdr_family_size": int(np.isfinite(result.p).sum()),
            }
            run.duration_seconds = time.perf_counter() - started
            run.finished_at = timezone.now()
            run.error = ""
            run.save()
        tick("stored")
    except Exception as exc:  # recorded on the run, then re-raised for the worker's log
        CorrelationRun.objects.filter(pk=run.pk).update(
            status=CorrelationRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            duration_seconds=time.perf_counter() - started,
            finished_at=timezone.now(),
        )
        raise
    return run


def recompute_now(
    *,
    study: Study,
    method: str = CorrelationRun.Method.SPEARMAN,
    created_by=None,
    language: str = "",
    progress: Callable[[str], None] | None = None,
) -> CorrelationRun:
    """Create, claim and execute a run in this process (management command, tests);
    ``progress`` as :func:`execute_run`'s."""
    run = request_recomputation(
        study=study,
        method=method,
        created_by=created_by,
        trigger="command",
        enqueue=False,
        language=language,
    )
    claim_run(run_id=run.pk)
    run.refresh_from_db()
    return execute_run(run=run, progress=progress)


def note_completion(*, study_id: int) -> CorrelationRun | None:
    """Count a completed participant; enqueue a recomputation after the configured number."""
    with transaction.atomic():
        row, _ = StudyAnalysisSettings.objects.select_for_update().get_or_create(study_id=study_id)
        row.completions_since_last_run += 1
        due = 0 < row.recompute_after_completions <= row.completions_since_last_run
        if due:
            row.completions_since_last_run = 0
        row.save(update_fields=["completions_since_last_run"])
        if not due:
            return None
        return request_recomputation(
            study=row.study, method=row.method, trigger="auto: new completions"
        )


def exclude_pair(*, study: Study, item, dimension: str, reason: str, created_by=None):
    """Record an admin's exclusion of (item, dimension) from future item sets of ``study``."""

    if not reason.strip():
        raise ValueError("an exclusion needs a reason")
    family = dims.family_of(dimension)
    exclusion, _ = PairExclusion.objects.update_or_create(
        study=study,
        item=item,
        family=family,
        dimension=dimension,
        defaults={"reason": reason.strip(), "created_by": created_by},
    )
    return exclusion


ERASED_PARTICIPANT = "(erased)"


def _scrub_exclusions(exclusions: dict, names: Sequence[str]) -> tuple[dict, bool]:
    """``exclusions`` with every entry naming one of ``names`` renamed ``ERASED_PARTICIPANT``."""
    changed = False
    scrubbed = dict(exclusions or {})
    for key in ("participants", "ratings"):
        entries = []
        for entry in scrubbed.get(key) or []:
            if entry.get("participant") in names:
                entry, changed = {**entry, "participant": ERASED_PARTICIPANT}, True
            entries.append(entry)
        if key in scrubbed:
            scrubbed[key] = entries
    return scrubbed, changed


def mark_runs_stale_after_erasure(
    *, study_id: int, names: Sequence[str], arrived_at, erasure_id: int
) -> list[int]:
    """A participant's data was erased: the study's computed runs that may have read it
    become stale (the run page says so; the next recomputation leaves the data out since it
    is gone), and ``names`` (their panel id and pseudonym) are removed from every run's and
    item set's lists of left-out participants. Returns the ids of the runs marked stale."""
    now = timezone.now()
    reason = (
        f"Computed while data of a participant later erased on request was stored "
        f"(erasure #{erasure_id}, {now:%Y-%m-%d %H:%M} UTC). Recompute to leave it out."
    )
    stale = list(
        CorrelationRun.objects.may_hold_data_since(study_id=study_id, arrived_at=arrived_at)
        .filter(stale_since__isnull=True)
        .values_list("pk", flat=True)
    )
    CorrelationRun.objects.filter(pk__in=stale).update(stale_since=now, stale_reason=reason)
    for run in CorrelationRun.objects.filter(study_id=study_id).only("pk", "exclusions"):
        exclusions, changed = _scrub_exclusions(run.exclusions, names)
        if changed:
            CorrelationRun.objects.filter(pk=run.pk).update(exclusions=exclusions)
    for item_set in ValidatedItemSet.objects.filter(study_id=study_id).only("pk", "participants"):
        participants = dict(item_set.participants or {})
        exclusions, changed = _scrub_exclusions(participants.get("exclusions") or {}, names)
        if changed:
            participants["exclusions"] = exclusions
            ValidatedItemSet.objects.filter(pk=item_set.pk).update(participants=participants)
    return stale
