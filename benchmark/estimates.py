"""How many of a rule's selected pairs are chance: the study's data through ``stats.chance``.

``estimate_chance`` applies a selection rule to a correlation run and to permutations of the
study's own data (whole value profiles shuffled among the raters, item ratings kept), and
splits each item's raters in halves to see how many selected pairs both halves select again.
``chance_bounded_rule`` raises a rule's threshold until the expected chance selections are at
most a given share of the selection. Results are plain dicts, stored on the item set when it
is frozen and on a run by ``store_run_chance`` (a Celery task after each recomputation, or
``manage.py estimate_chance``), so pages read them instead of recomputing.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from .minimums import too_few, withhold_thin_pairs
from .models import CorrelationRun
from .selection import PRESETS, SelectionRule, select_pairs
from .selectors import analysis_inputs, full_correlation_frame, minimums_for
from .stats.chance import (
    Criterion,
    approximate_ci,
    chance_selections,
    correlate_n,
    split_half_replication,
)

logger = logging.getLogger(__name__)
DEFAULT_PERMUTATIONS = 200
DEFAULT_SPLITS = 10
DEFAULT_SEED = 2025
DEFAULT_MAX_SHARE = 0.10
THRESHOLD_STEP = 0.01
CI_LEVEL = 0.95  # the level of the runs' bootstrap CIs
NULL_DESCRIPTION = (
    "whole value profiles permuted among the raters (within raters scored on the same "
    "dimensions), item ratings kept; the rule applied to each permutation"
)
CI_APPROXIMATION = (
    "under permutation and in the split halves the bootstrap CI is replaced by the Fisher-z "
    "interval at 95% with Bonett-Wright's standard error (no bootstrap inside each "
    "permutation)"
)
HEADLINE_PRESET = "valueportrait-2025"
# Called with the number of permutations (or splits) just done: one call per block.
Progress = Callable[[int], object]


class ChanceUnavailable(ValueError):
    """The study's data cannot give a permutation estimate (no raters with profiles)."""


def _grid_index(inputs, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of ``frame``: its (item row, dimension column) on the inputs grid, and
    whether it is on the grid at all."""
    item_row = pd.Series(np.arange(len(inputs.item_ids)), index=inputs.item_ids)
    column = {key: j for j, key in enumerate(inputs.dimensions)}
    rows = item_row.reindex(frame["item_id"].to_numpy()).to_numpy()
    cols = np.array(
        [column.get(k, -1) for k in zip(frame["family"], frame["dimension"], strict=True)],
        dtype=np.int64,
    )
    on_grid = ~np.isnan(rows.astype(float)) & (cols >= 0)
    return np.nan_to_num(rows, nan=-1).astype(np.int64), cols, on_grid


def _on_grid(inputs, frame: pd.DataFrame, column: str, fill) -> np.ndarray:
    grid = np.full((len(inputs.item_ids), len(inputs.dimensions)), fill, dtype=type(fill))
    rows, cols, on = _grid_index(inputs, frame)
    grid[rows[on], cols[on]] = frame[column].to_numpy()[on]
    return grid


def rule_criterion(
    *, inputs, frame: pd.DataFrame, rule: SelectionRule, min_raters: int = 1
) -> Criterion:
    """The rule in array form on the study's items × dimensions grid (see ``select_pairs``).

    Pairs with fewer than ``min_raters`` raters (``frame``'s ``n``) are not considered: they
    cannot be selected in the data, so they are not counted as chance selections either
    (a permutation keeps every pair's raters, hence its ``n``)."""
    considered = np.zeros((len(inputs.item_ids), len(inputs.dimensions)), dtype=bool)
    families = np.array([f in rule.families for f, _ in inputs.dimensions], dtype=bool)
    considered[:, families] = True
    if "n" in frame:  # a run that states no n (a published one) withholds nothing
        n = pd.to_numeric(frame["n"], errors="coerce").astype(float)
        considered &= ~(_on_grid(inputs, frame.assign(n=n), "n", np.nan) < min_raters)
    if rule.exclusions:
        keys = frame.drop_duplicates("item_id").set_index(["scenario_external_id", "option_id"])
        ids = keys["item_id"]
        item_row = {item_id: i for i, item_id in enumerate(inputs.item_ids.tolist())}
        for e in rule.exclusions:  # exclusions name a dimension, in whichever family
            item_id = ids.get((e.scenario_external_id, e.option_id))
            if item_id is None or item_id not in item_row:
                continue
            for j, (_, dimension) in enumerate(inputs.dimensions):
                if dimension == e.dimension:
                    considered[item_row[item_id], j] = False
    return Criterion(
        considered=considered,
        mode=rule.mode,
        fdr_alpha=rule.fdr_alpha,
        fdr_method=rule.fdr_method,
        ci_bound=rule.ci_bound,
        ci_level=CI_LEVEL,
    )


def _rounded(value: float, digits: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _study_inputs(run: CorrelationRun):
    """The study's analysis inputs, refused (``ChanceUnavailable``) below the study's minimum
    raters per pair: with a handful of profiles there are only a few distinct permutations
    (two raters: two), and no pair from so few raters is selectable anyway."""
    inputs = analysis_inputs(study=run.study, language=run.language)  # the run's raters
    usable = ~np.isnan(inputs.scores).all(axis=1) if inputs.scores.size else np.array([])
    required = max(2, minimums_for(study=run.study).raters_per_pair)
    if not len(inputs.dimensions) or usable.sum() < required:
        shortfall = too_few(int(usable.sum()), required, "raters_per_pair")
        raise ChanceUnavailable(f"{shortfall.reason}; too few value profiles to permute")
    return inputs


def estimate_chance(
    *,
    run: CorrelationRun,
    rule: SelectionRule,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_splits: int = DEFAULT_SPLITS,
    seed: int = DEFAULT_SEED,
    inputs=None,
    frame: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> dict:
    """The rule's selection on ``run``, the expected chance selections and their SD over
    ``n_permutations`` seeded permutations, and split-half replication (``n_splits`` splits).
    ``progress(k)``: k more permutations or splits done (``n_permutations + n_splits`` in
    all).

    Raises ``ValueError`` when the rule cannot be applied to the run (e.g. FDR on a published
    run), ``ChanceUnavailable`` when the study has nothing to permute.
    """
    started = time.perf_counter()
    min_raters = minimums_for(study=run.study).raters_per_pair
    frame = withhold_thin_pairs(
        full_correlation_frame(run=run) if frame is None else frame, min_raters
    )
    selected = select_pairs(frame, rule)
    inputs = _study_inputs(run) if inputs is None else inputs
    criterion = rule_criterion(inputs=inputs, frame=frame, rule=rule, min_raters=min_raters)
    estimate = chance_selections(
        inputs.ratings,
        inputs.scores,
        criterion,
        [rule.threshold],
        method=run.method,
        n_permutations=n_permutations,
        seed=seed,
        progress=progress,
    )
    selected_grid = np.zeros(criterion.considered.shape, dtype=bool)
    rows, cols, on = _grid_index(inputs, selected)
    selected_grid[rows[on], cols[on]] = True
    replication = split_half_replication(
        inputs.ratings,
        inputs.scores,
        criterion,
        rule.threshold,
        selected_grid,
        method=run.method,
        n_splits=n_splits,
        seed=seed,
        with_chance=True,
        progress=progress,
    )
    mean, sd = float(estimate.mean[0]), float(estimate.sd[0])
    result = {
        "rule": rule.as_json(),
        "method": run.method,
        "selected": len(selected),
        "expected_chance_selections": {
            "mean": _rounded(mean, 2),
            "sd": _rounded(sd, 2),
            "permutations": n_permutations,
            "seed": seed,
            "share_of_selection": _rounded(mean / len(selected)) if len(selected) else None,
            "null": NULL_DESCRIPTION,
        },
        "split_half_replication": {
            "share": _rounded(replication.mean),
            "sd": _rounded(float(replication.shares.std(ddof=1)) if n_splits > 1 else None),
            "splits": n_splits,
            "seed": seed,
            "selected_on_grid": replication.selected,
            "chance_share": _rounded(replication.chance_mean),
            "chance_share_means": (
                "the share of the pairs the rule selects in permuted data (one permutation "
                "of whole value profiles per split) that both halves select again"
            ),
        },
    }
    if rule.ci_bound is not None:
        result["expected_chance_selections"]["ci_bound"] = CI_APPROXIMATION
        r = _on_grid(inputs, frame, "r", np.nan)
        p = _on_grid(inputs, frame, "p", np.nan)
        n = correlate_n(inputs.ratings, inputs.scores)
        eligible = criterion.eligible(r, n, run.method, p=p, ci=approximate_ci(r, n, run.method))
        result["selected_with_approximate_ci"] = int(
            criterion.counts(r, eligible, [rule.threshold])[0]
        )
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def chance_bounded_rule(
    *,
    run: CorrelationRun,
    rule: SelectionRule,
    max_share: float = DEFAULT_MAX_SHARE,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    inputs=None,
    frame: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> tuple[SelectionRule, dict]:
    """The lowest threshold, from ``rule.threshold`` up in steps of 0.01, at which the
    expected chance selections are at most ``max_share`` of the pairs the rule selects.

    Returns the rule with that threshold (and ``max_chance_share`` recorded) and the search:
    at each threshold tried, the selection and the chance mean. ``ValueError`` when no
    threshold below 1 bounds the share.
    """
    if not 0 < max_share < 1:
        raise ValueError("the chance share bound must be in (0, 1)")
    min_raters = minimums_for(study=run.study).raters_per_pair
    frame = withhold_thin_pairs(
        full_correlation_frame(run=run) if frame is None else frame, min_raters
    )
    inputs = _study_inputs(run) if inputs is None else inputs
    start = math.ceil(round(rule.threshold / THRESHOLD_STEP, 9)) * THRESHOLD_STEP
    grid = np.unique(
        np.round(np.concatenate(([rule.threshold], np.arange(start, 0.995, THRESHOLD_STEP))), 6)
    )
    grid = grid[grid >= rule.threshold]
    criterion = rule_criterion(inputs=inputs, frame=frame, rule=rule, min_raters=min_raters)
    estimate = chance_selections(
        inputs.ratings,
        inputs.scores,
        criterion,
        grid,
        method=run.method,
        n_permutations=n_permutations,
        seed=seed,
        progress=progress,
    )
    observed = [len(select_pairs(frame, dataclasses.replace(rule, threshold=t))) for t in grid]
    tried = []
    for t, selected, mean in zip(grid, observed, estimate.mean, strict=True):
        tried.append({"threshold": float(t), "selected": selected, "chance_mean": float(mean)})
        if selected and mean <= max_share * selected:
            search = {
                "max_share": max_share,
                "floor": rule.threshold,
                "threshold": float(t),
                "permutations": n_permutations,
                "seed": seed,
                "tried": tried,
            }
            return dataclasses.replace(rule, threshold=float(t), max_chance_share=max_share), search
    raise ValueError(
        f"no threshold from {rule.threshold:g} to {grid[-1]:g} keeps the expected chance "
        f"selections at most {max_share:.0%} of the selection "
        f"(at r {rule.mode} {grid[-1]:g}: {observed[-1]} selected, "
        f"{estimate.mean[-1]:.1f} expected by chance)"
    )


def run_headline_chance(
    *,
    run: CorrelationRun,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_splits: int = DEFAULT_SPLITS,
    seed: int = DEFAULT_SEED,
    max_share: float = DEFAULT_MAX_SHARE,
    progress: Progress | None = None,
) -> dict:
    """What the run page shows: the paper preset's selection with its chance estimate and
    replication, and the threshold that bounds the chance share at ``max_share``.
    ``progress(k)``: k more permutations or splits done, :func:`headline_chance_steps` in
    all (fewer when no threshold bounds the share)."""
    frame = full_correlation_frame(run=run)
    try:
        inputs = _study_inputs(run)
    except ChanceUnavailable as exc:
        return {"unavailable": str(exc)}
    preset = PRESETS[HEADLINE_PRESET]
    out = {
        "preset": HEADLINE_PRESET,
        "paper_rule": estimate_chance(
            run=run,
            rule=preset,
            n_permutations=n_permutations,
            n_splits=n_splits,
            seed=seed,
            inputs=inputs,
            frame=frame,
            progress=progress,
        ),
    }
    try:
        bounded, search = chance_bounded_rule(
            run=run,
            rule=preset,
            max_share=max_share,
            n_permutations=n_permutations,
            seed=seed,
            inputs=inputs,
            frame=frame,
            progress=progress,
        )
    except ValueError as exc:
        out["bounded_rule"] = {"max_share": max_share, "unavailable": str(exc)}
    else:
        out["bounded_rule"] = {
            **estimate_chance(
                run=run,
                rule=bounded,
                n_permutations=n_permutations,
                n_splits=n_splits,
                seed=seed,
                inputs=inputs,
                frame=frame,
                progress=progress,
            ),
            "search": {k: v for k, v in search.items() if k != "tried"},
        }
    return out


def headline_chance_steps(*, n_permutations: int, n_splits: int) -> int:
    """The steps :func:`run_headline_chance` reports: the preset's estimate (permutations +
    splits), the search for the bounding threshold (permutations) and its estimate."""
    return 3 * n_permutations + 2 * n_splits


def store_run_chance(*, run: CorrelationRun, **options) -> dict:
    """Compute ``run_headline_chance`` and store it on the run (``CorrelationRun.chance``)."""
    if run.status != CorrelationRun.Status.DONE:
        raise ValueError(f"correlation run #{run.pk} is {run.status}, not done")
    chance = run_headline_chance(run=run, **options)
    CorrelationRun.objects.filter(pk=run.pk).update(chance=chance)
    run.chance = chance
    return chance


IN_ALL_LANGUAGES_BOUND = (
    "a pair kept in the set is selected in every language, so in each permutation the pairs "
    "selected by chance in all languages are among those selected by chance in any one of "
    "them: their expected number is at most the smallest of the languages' expected chance "
    "selections (the set's own intersection is not permuted jointly)"
)


def languages_chance(
    *,
    runs: dict[str, CorrelationRun],
    rule: SelectionRule,
    kept: int,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_splits: int = DEFAULT_SPLITS,
    seed: int = DEFAULT_SEED,
) -> dict:
    """The chance estimates of a set frozen "valid in all of these languages": ``rule``'s
    estimate on each language's own run (its raters' profiles permuted among them; a
    language without profiles gets ``{"unavailable": reason}``) and, for the ``kept`` pairs
    selected in all of them, the upper bound on their expected chance selections
    (:data:`IN_ALL_LANGUAGES_BOUND`; None when a language has no estimate)."""
    per_language: dict[str, dict] = {}
    for language, run in runs.items():
        try:
            per_language[language] = {
                "run": run.pk,
                **estimate_chance(
                    run=run, rule=rule, n_permutations=n_permutations, n_splits=n_splits, seed=seed
                ),
            }
        except ChanceUnavailable as exc:
            per_language[language] = {"run": run.pk, "unavailable": str(exc)}
    means = [
        entry["expected_chance_selections"]["mean"]
        for entry in per_language.values()
        if "unavailable" not in entry
    ]
    bound = min(means) if means and len(means) == len(per_language) else None
    return {
        "per_language": per_language,
        "in_all_languages": {
            "kept": kept,
            "expected_chance_at_most": bound,
            "share_at_most": _rounded(bound / kept) if bound is not None and kept else None,
            "why": IN_ALL_LANGUAGES_BOUND,
        },
    }


def item_set_chance(
    *,
    run: CorrelationRun,
    rule: SelectionRule,
    frame: pd.DataFrame,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    n_splits: int = DEFAULT_SPLITS,
    seed: int = DEFAULT_SEED,
) -> tuple[SelectionRule, dict]:
    """What an item set freezes: the rule (its threshold resolved when it bounds the chance
    share) and the chance estimate and replication of that rule on ``run``.

    A study without value profiles to permute gets ``{"unavailable": reason}``; a rule that
    bounds the chance share then cannot be resolved and raises ``ValueError``.
    """
    try:
        inputs = _study_inputs(run)
    except ChanceUnavailable as exc:
        if rule.max_chance_share is not None:
            raise ValueError(f"cannot bound the chance share: {exc}") from None
        return rule, {"unavailable": str(exc)}
    search = None
    if rule.max_chance_share is not None:
        rule, search = chance_bounded_rule(
            run=run,
            rule=rule,
            max_share=rule.max_chance_share,
            n_permutations=n_permutations,
            seed=seed,
            inputs=inputs,
            frame=frame,
        )
    chance = estimate_chance(
        run=run,
        rule=rule,
        n_permutations=n_permutations,
        n_splits=n_splits,
        seed=seed,
        inputs=inputs,
        frame=frame,
    )
    if search is not None:
        chance["search"] = search
    return rule, chance


def enqueue_chance(*, run_id: int) -> bool:
    """Queue the run's chance estimate; a broker that refuses is logged, not raised (the run
    is done either way, and its page says the estimate is missing)."""
    # Imported here: a real cycle (the task module calls this one).
    from .tasks import estimate_chance

    try:
        estimate_chance.delay(run_id)
    except Exception:  # broker down: the estimate can be made later (manage.py estimate_chance)
        logger.exception("could not enqueue the chance estimate of run %s", run_id)
        return False
    return True
