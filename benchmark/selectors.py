"""Read operations of the benchmark app."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.bulk import read_frame, read_rows
from survey.models import Item, ItemRating, Participant, ParticipantScore, Scenario

from .analysis import ParticipantRecord, prepare_inputs
from .comparison import compare_frames
from .language_comparison import compare_languages
from .minimums import RATERS_PER_PAIR, withhold_thin_pairs
from .models import CorrelationRun, StudyAnalysisSettings, ValidatedItemSet
from .selection import SelectionRule


def _frame(queryset, columns: dict[str, str]) -> pd.DataFrame:
    """One query: ``columns`` maps each DataFrame column to the ORM field it reads."""
    rows = queryset.values_list(*columns.values())
    return pd.DataFrame.from_records(list(rows), columns=list(columns))


def _with_release_group(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace the ``metadata`` column by the scenario's ``release_group`` (or None)."""
    frame["release_group"] = frame.pop("metadata").map(
        lambda m: (m or {}).get("release_group") if isinstance(m, dict) else None
    )
    return frame


ITEM_KEY_COLUMNS = {
    "item_id": "item_id",
    "scenario_external_id": "item__scenario__external_id",
    "option_id": "item__option_id",
}
CORRELATION_COLUMNS = {
    **ITEM_KEY_COLUMNS,
    "family": "family",
    "dimension": "dimension",
    "r": "r",
    "p": "p",
    "n": "n",
}


def correlation_frame(*, run: CorrelationRun) -> pd.DataFrame:
    """All rows of a correlation run as a DataFrame (one row per item × dimension)."""
    return _frame(run.rows, CORRELATION_COLUMNS)


def published_run(*, study) -> CorrelationRun | None:
    return (
        study.correlation_runs.filter(kind=CorrelationRun.Kind.PUBLISHED)
        .order_by("created_at")
        .first()
    )


def item_set_entries(*, item_set: ValidatedItemSet) -> pd.DataFrame:
    """The selected pairs of an item set: item_id, portrait/option ids, family, dimension, r, p."""
    columns = {**ITEM_KEY_COLUMNS, "family": "family", "dimension": "dimension", "r": "r", "p": "p"}
    return _frame(item_set.entries, columns)


def latest_computed_run(
    *, study, method: str | None = None, language: str = ""
) -> CorrelationRun | None:
    """The newest finished computed run of ``study`` (optionally of one method) over
    ``language``'s participants; the default, "", is the run pooling every language."""
    runs = study.correlation_runs.filter(
        kind=CorrelationRun.Kind.COMPUTED, status=CorrelationRun.Status.DONE, language=language
    )
    if method:
        runs = runs.filter(method=method)
    return runs.order_by("-created_at", "-id").first()


def language_runs(*, study, languages, method: str) -> dict[str, CorrelationRun]:
    """Language -> its newest finished computed run of ``method``; ``ValueError`` naming the
    languages that have none (recompute with ``--language`` first)."""
    found = {
        language: latest_computed_run(study=study, method=method, language=language)
        for language in languages
    }
    missing = [language for language, run in found.items() if run is None]
    if missing:
        raise ValueError(
            f"no finished {method} run restricted to {', '.join(missing)}: recompute the "
            "correlations per language first"
        )
    return found


def resolve_run(*, study, spec: str) -> CorrelationRun:
    """``published`` | ``latest`` | a run id -> that run of ``study``; ValueError if none."""
    if spec == "published":
        run = published_run(study=study)
    elif spec == "latest":
        run = latest_computed_run(study=study)
    elif spec.isdigit():
        run = study.correlation_runs.filter(pk=int(spec)).first()
    else:
        raise ValueError(f"--correlations must be published, latest or a run id, not {spec!r}")
    if run is None:
        raise ValueError(f"study {study.slug} has no {spec} correlation run")
    if run.status != CorrelationRun.Status.DONE:
        raise ValueError(f"correlation run #{run.pk} is {run.status}, not done")
    return run


def analysis_settings(*, study):
    """The study's analysis settings (defaults, unsaved, when none were stored)."""
    found = StudyAnalysisSettings.objects.filter(study=study).first()
    return found or StudyAnalysisSettings(study=study)


def minimums_for(*, study):
    """The study's minimums (``benchmark.minimums.Minimums``; defaults when none stored)."""
    return analysis_settings(study=study).minimums


def study_item_ids(*, study) -> list[int]:
    """The study's item pool in a stable order (portrait id, option id)."""
    return list(
        study.item_pool.order_by("scenario__external_id", "option_id").values_list("id", flat=True)
    )


def analysis_inputs(*, study, language: str = ""):
    """Everything a correlation run of ``study`` needs, in four queries (see ``analysis``).

    With ``language`` only the participants who took the study in that language count
    (``Participant.objects.in_language``); empty pools every language."""
    people = Participant.objects.filter(study=study)
    if language:
        people = people.in_language(language)
    participants = [
        ParticipantRecord(
            id=pk,
            external_id=external_id,
            status=status,
            flags=tuple((flags or {}).get("flags", [])),
            metadata=metadata or {},
            shown_as=external_id if origin == Participant.Origin.IMPORTED else pseudonym,
        )
        for pk, external_id, status, flags, metadata, origin, pseudonym in people.values_list(
            "id", "external_id", "status", "quality_flags", "metadata", "origin", "pseudonym"
        )
    ]
    pool = list(
        study.item_pool.order_by("scenario__external_id", "option_id").values_list(
            "id", "scenario__metadata"
        )
    )
    # Unordered in SQL (sorting a million joined rows is most of the query's time), then put
    # in the order they were stored (rating id), so every run sees the same order.
    rated = ItemRating.objects.filter(participant__study=study)
    scored = ParticipantScore.objects.filter(participant__study=study)
    if language:
        rated = rated.filter(participant__in=people.values("pk"))
        scored = scored.filter(participant__in=people.values("pk"))
    ratings = np.asarray(
        read_rows(rated.order_by(), ["id", "participant_id", "item_id", "rating"]),
        dtype=np.int64,
    ).reshape(-1, 4)
    ratings = ratings[np.argsort(ratings[:, 0], kind="stable"), 1:]
    scores = read_rows(  # one score per (participant, family, dimension): order irrelevant
        scored.order_by(), ["participant_id", "family", "dimension", "score"]
    )
    return prepare_inputs(
        participants=participants,
        ratings=ratings,
        item_ids=[pk for pk, _ in pool],
        item_groups={pk: (meta or {}).get("release_group") for pk, meta in pool},
        scores=scores,
        exclude_flagged=study.exclude_flagged_participants,
    )


def item_catalogue(*, item_ids) -> pd.DataFrame:
    """Item id -> portrait id, option id, scenario title/text, item text, release group."""
    columns = {
        "item_id": "id",
        "scenario_external_id": "scenario__external_id",
        "option_id": "option_id",
        "scenario_title": "scenario__title",
        "scenario_text": "scenario__text",
        "item_text": "text",
        "source": "scenario__source__slug",
        "metadata": "scenario__metadata",
    }
    return _with_release_group(_frame(Item.objects.filter(id__in=list(item_ids)), columns))


def full_correlation_frame(*, run: CorrelationRun) -> pd.DataFrame:
    """``correlation_frame`` plus adjusted p, CI and each item's release group."""
    columns = {
        **CORRELATION_COLUMNS,
        "p_bh": "p_bh",
        "p_by": "p_by",
        "ci_low": "ci_low",
        "ci_high": "ci_high",
        "scenario_id": "item__scenario_id",
    }
    frame = _frame(run.rows, columns)
    # Each scenario's metadata once, not once per row (a run has a row per item × dimension).
    groups = {
        pk: (metadata or {}).get("release_group") if isinstance(metadata, dict) else None
        for pk, metadata in Scenario.objects.filter(items__correlations__run=run)
        .distinct()
        .values_list("id", "metadata")
    }
    frame["release_group"] = frame.pop("scenario_id").map(groups)
    for column in ("r", "p", "n", "p_bh", "p_by", "ci_low", "ci_high"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def raters_minimum_by_study(*, study_ids) -> dict[int, int]:
    """Study id -> its minimum raters per pair (the default where nothing is stored)."""
    stored = dict(
        StudyAnalysisSettings.objects.filter(study_id__in=list(study_ids)).values_list(
            "study_id", "min_raters_per_pair"
        )
    )
    return {int(pk): stored.get(pk, RATERS_PER_PAIR) for pk in study_ids}


def reported_correlation_frame(*, run: CorrelationRun) -> pd.DataFrame:
    """``full_correlation_frame`` as pages, exports and the API report it: pairs with fewer
    raters than the study's minimum have r, p and CI blanked and an ``r_reason``."""
    return withhold_thin_pairs(
        full_correlation_frame(run=run), minimums_for(study=run.study).raters_per_pair
    )


def _run_values(run: CorrelationRun) -> pd.DataFrame:
    """item_id, family, dimension, r, p, n of every row (no joins), in no particular order."""
    # Unordered: sorting a run's rows by their text keys in SQL spills to disk on a large run
    # and costs ten times the read; callers join on the key columns instead.
    frame = read_frame(run.rows.order_by(), ["item_id", "family", "dimension", "r", "p", "n"])
    for column in ("r", "p", "n"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def compare_runs(*, reference: CorrelationRun, other: CorrelationRun) -> dict:
    """Pair-by-pair differences of two runs (e.g. published vs recomputed).

    Returns ``frame`` (both r and p, Δr, Δp per pair present in both) and a summary: pairs
    compared, identical (bit for bit), within 1e-12, max |Δr| / |Δp|, and per release group.
    """

    # The study's pool covers every item a run of it can hold (a left join keeps the rest).
    catalogue = _with_release_group(
        _frame(
            reference.study.item_pool.all(),
            {
                "item_id": "id",
                "scenario_external_id": "scenario__external_id",
                "option_id": "option_id",
                "metadata": "scenario__metadata",
            },
        )
    )
    reference_frame = (
        _run_values(reference)
        .merge(catalogue, on="item_id", how="left")
        .sort_values(["scenario_external_id", "option_id", "family", "dimension"], kind="stable")
        .reset_index(drop=True)
    )  # the order of correlation_frame: portrait, option, family, dimension
    return compare_frames(reference_frame, _run_values(other))


def languages_with_runs(*, study, method: str) -> list[str]:
    """The study's offered languages (in its order) that have a finished ``method`` run
    restricted to them."""
    done = set(
        study.correlation_runs.filter(
            kind=CorrelationRun.Kind.COMPUTED, status=CorrelationRun.Status.DONE, method=method
        )
        .exclude(language="")
        .values_list("language", flat=True)
    )
    return [language for language in study.offered_languages() if language in done]


def language_comparison(
    *,
    study,
    languages,
    rule: SelectionRule,
    pair: tuple[str, str] | None = None,
    method: str = "spearman",
) -> dict:
    """Each language's newest ``method`` run side by side (``compare_languages``): the
    runs used, the study's raters minimum and the wide table."""
    runs = language_runs(study=study, languages=languages, method=method)
    required = minimums_for(study=study).raters_per_pair
    table = compare_languages(
        {language: full_correlation_frame(run=run) for language, run in runs.items()},
        rule=rule,
        required=required,
        pair=pair,
        method=method,
    )
    return {"runs": runs, "required": required, "table": table}
