"""Read operations of the dashboards: survey, benchmark and evaluation data as DataFrames.

Every selector runs a fixed, small number of queries (``values_list`` into pandas; no query
per model, run or participant) so a page stays fast with 50 models and 100 persona runs
(see ``perf/bench_dashboards.py``). Statistics happen in :mod:`dashboards.stats`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Count, Exists, OuterRef

from benchmark.minimums import withhold_thin_pairs
from benchmark.models import Correlation
from benchmark.selectors import item_set_entries, raters_minimum_by_study
from evaluation import selectors as evaluation_selectors
from evaluation.portraits import informative_answers, replicate_portraits
from survey.instruments import dimensions as dims
from survey.models import Item, ItemRating, Participant, ParticipantScore, Study

from . import stats
from .models import ModelCard

DASHBOARD_FAMILIES: tuple[str, ...] = (dims.SCHWARTZ, dims.HIGHER_ORDER, dims.BIG_FIVE)
PREFERRED_STUDY = "valueportrait-2025"
PORTRAIT_BASES = ("answer", "probability")  # preference order when a run has both


def dimensions_of(family: str) -> tuple[str, ...]:
    return dims.FAMILIES[family]


# --- Humans --------------------------------------------------------------------------------


def scored_studies() -> list[Study]:
    """Studies with at least one participant score, the imported release first."""
    has_scores = ParticipantScore.objects.filter(participant__study=OuterRef("pk"))
    studies = list(Study.objects.listed().filter(Exists(has_scores)).order_by("-created_at"))
    studies.sort(key=lambda s: s.slug != PREFERRED_STUDY)
    return studies


def pick_study(slug: str | None, studies: list[Study]) -> Study | None:
    for study in studies:
        if study.slug == slug:
            return study
    return studies[0] if studies else None


def human_scores(*, study: Study, family: str) -> pd.DataFrame:
    """Participants × dimensions of ``family`` (index: participant id), one query."""
    rows = ParticipantScore.objects.filter(
        participant__in=Participant.objects.counted(study), family=family
    )
    frame = pd.DataFrame.from_records(
        list(rows.values_list("participant_id", "dimension", "score")),
        columns=["participant_id", "dimension", "score"],
    )
    wanted = list(dimensions_of(family))
    if frame.empty:
        return pd.DataFrame(columns=wanted, dtype=float)
    # One score per (participant, family, dimension) is a database constraint.
    matrix = frame.pivot(index="participant_id", columns="dimension", values="score")
    return matrix.reindex(columns=[d for d in wanted if d in matrix.columns])


# Families whose human scores are stored raw (traits); values are stored centred (MRAT).
RAW_HUMAN_FAMILIES = (dims.BIG_FIVE,)


def questionnaire_scores(*, study: Study, family: str) -> pd.DataFrame:
    """:func:`human_scores` from the questionnaires (PVQ, BFI), each person centred.

    Value scores are stored centred on the person's mean answer (MRAT); trait scores are
    stored raw and centred here on the person's mean over the traits. This is the
    questionnaire's scale, not the items': never compared with a model portrait (for that,
    see :mod:`dashboards.human_selectors`).
    """
    scores = human_scores(study=study, family=family)
    return stats.centre_rows(scores) if family in RAW_HUMAN_FAMILIES else scores


# --- Models (evaluation app) ---------------------------------------------------------------


@dataclass(frozen=True)
class ModelFilters:
    """What the compare and humans-vs-models pages narrow the models to (read from the
    query by :meth:`dashboards.params.DashboardQuery.model_filters`)."""

    provider: str = ""
    family: str = ""
    size_min: float | None = None
    size_max: float | None = None
    open_weights: bool | None = None
    date_from: dt.date | None = None  # run finished
    date_to: dt.date | None = None
    released_from: dt.date | None = None  # model release date (model card)
    released_to: dt.date | None = None
    item_set: int | None = None
    kind: str = ""  # "live" or "reference" (the paper's published runs)
    sweep: int | None = None  # only the runs of this sweep
    models: tuple[str, ...] = field(default_factory=tuple)


# The evaluation app's portrait columns with the model card's between the run's and the
# scores' (one list: a column added there reaches the dashboards).
_RUN_PART = evaluation_selectors.DONE_PORTRAIT_COLUMNS.index("basis")
PORTRAIT_COLUMNS = [
    *evaluation_selectors.DONE_PORTRAIT_COLUMNS[:_RUN_PART],
    "model_family",
    "size_b",
    "open_weights",
    "release_date",
    *evaluation_selectors.DONE_PORTRAIT_COLUMNS[_RUN_PART:],
]


CARD_COLUMNS = {
    "family": "model_family",
    "parameters_billion": "size_b",
    "open_weights": "open_weights",
    "release_date": "release_date",
}


def portrait_scores(*, family: str, filters: ModelFilters | None = None) -> pd.DataFrame:
    """Long frame of the no-persona portrait scores of finished runs (two queries).

    Columns: :data:`PORTRAIT_COLUMNS`. The scores come from the evaluation app's selector;
    model metadata (family, size, open weights, release date) from
    :class:`dashboards.models.ModelCard` when one exists.
    """
    filters = filters or ModelFilters()
    cards = ModelCard.objects.all()
    narrowed = False
    if filters.family:
        cards, narrowed = cards.filter(family__iexact=filters.family), True
    if filters.size_min is not None:
        cards, narrowed = cards.filter(parameters_billion__gte=filters.size_min), True
    if filters.size_max is not None:
        cards, narrowed = cards.filter(parameters_billion__lte=filters.size_max), True
    if filters.open_weights is not None:
        cards, narrowed = cards.filter(open_weights=filters.open_weights), True
    if filters.released_from:
        cards, narrowed = cards.filter(release_date__gte=filters.released_from), True
    if filters.released_to:
        cards, narrowed = cards.filter(release_date__lte=filters.released_to), True
    card_rows = pd.DataFrame.from_records(
        list(cards.values_list("model_config_id", *CARD_COLUMNS)),
        columns=["model_id", *CARD_COLUMNS.values()],
    )
    scores = evaluation_selectors.done_portrait_scores(
        family=family,
        # A filter on the model card keeps only the models whose card matches.
        model_ids=card_rows["model_id"].tolist() if narrowed else None,
        provider=filters.provider,
        finished_from=filters.date_from,
        finished_to=filters.date_to,
        item_set_id=filters.item_set,
        kind=filters.kind,
        sweep_id=filters.sweep,
    )
    merged = scores.merge(card_rows, on="model_id", how="left")
    for column in CARD_COLUMNS.values():
        # A model without a card has None there, typed as a database outer join gives it.
        merged[column] = pd.Series(
            [None if pd.isna(v) else v for v in merged[column]], index=merged.index, dtype=None
        )
    return merged[PORTRAIT_COLUMNS]


def comparable_portraits(
    scores: pd.DataFrame, *, item_set: int | None
) -> tuple[pd.DataFrame, int | None]:
    """Keep one item set, so every model is scored on the same items.

    Without a choice, the item set most models were run on (ties: the newest set) is used.
    Returns the filtered scores and the item set id.
    """
    if scores.empty:
        return scores, item_set
    if item_set is None:
        counts = scores.groupby("item_set_id")["model_id"].nunique()
        ranked = sorted(counts.items(), key=lambda pair: (pair[1], pair[0]), reverse=True)
        item_set = int(ranked[0][0])
    return scores[scores["item_set_id"] == item_set], item_set


def latest_portraits(scores: pd.DataFrame) -> pd.DataFrame:
    """Keep each model's newest run, and per run its preferred scoring basis."""
    if scores.empty:
        return scores
    basis_rank = scores["basis"].map({b: i for i, b in enumerate(PORTRAIT_BASES)}).fillna(9)
    scores = scores.assign(_basis_rank=basis_rank)
    best_basis = scores.groupby("run_id")["_basis_rank"].transform("min")
    scores = scores[scores["_basis_rank"] == best_basis]
    runs = (
        scores[["run_id", "model_id", "finished_at"]]
        .drop_duplicates("run_id")
        .sort_values(["finished_at", "run_id"], na_position="first")
    )
    latest = runs.drop_duplicates("model_id", keep="last")["run_id"]
    return scores[scores["run_id"].isin(latest)].drop(columns="_basis_rank")


def model_matrix(latest: pd.DataFrame, *, family: str) -> pd.DataFrame:
    """Models × dimensions of centred scores (index: model name), dimension order kept."""
    if latest.empty:
        return pd.DataFrame(columns=list(dimensions_of(family)), dtype=float)
    matrix = latest.pivot_table(index="model", columns="dimension", values="centred")
    return matrix.reindex(columns=[d for d in dimensions_of(family) if d in matrix.columns])


def model_choices() -> dict[str, list]:
    """Distinct values for the filter bar (providers, model families, item sets, sweeps)."""
    return {
        "providers": evaluation_selectors.model_providers(),
        "model_families": list(
            ModelCard.objects.exclude(family="")
            .order_by("family")
            .values_list("family", flat=True)
            .distinct()
        ),
        "item_sets": evaluation_selectors.item_sets_with_runs(),
        "sweeps": evaluation_selectors.sweep_choices(),
    }


def model_names() -> list[str]:
    """The names of the model configurations, sorted (one query)."""
    return [config.name for config in evaluation_selectors.model_configurations()]


def run_with_context(*, run_id: int):
    """The run with its model configuration, item set and study (one query), or None; its
    model card is :func:`model_card`."""
    return evaluation_selectors.run_for_page(run_id=run_id)


def model_card(*, run) -> ModelCard | None:
    return ModelCard.objects.filter(model_config_id=run.model_config_id).first()


def run_personas(*, run) -> list[str]:
    """The persona keys the run has portraits for ("" = no persona), one query."""
    return evaluation_selectors.portrait_personas(run=run)


def run_portrait(*, run, family: str, persona: str = "") -> pd.DataFrame:
    """The run's stored portrait of ``family`` for one persona (preferred basis), one query."""
    frame = evaluation_selectors.portrait_frame(run=run, family=family, persona=persona).drop(
        columns="persona"
    )
    if frame.empty:
        return frame
    for basis in PORTRAIT_BASES:
        if (frame["basis"] == basis).any():
            frame = frame[frame["basis"] == basis]
            break
    order = {d: i for i, d in enumerate(dimensions_of(family))}
    return frame.sort_values("dimension", key=lambda s: s.map(order)).reset_index(drop=True)


def variant_spread(*, run, family: str, personas: list[str] | None = None) -> pd.DataFrame:
    """Per (persona, dimension): mean, SD, n and SE of the centred score over prompt variants
    (the evaluation app's per-variant portraits: no query when the run's summary has them)."""
    scores = evaluation_selectors.variant_scores(run=run, family=family, personas=personas)
    if not scores:
        return pd.DataFrame(columns=["persona", "dimension", "mean", "sd", "n", "se"])
    return stats.variant_spread(scores, family=family)


# --- Personas and demographic groups -------------------------------------------------------


def persona_runs() -> list:
    """Finished runs that asked the model with personas, newest first (one query)."""
    return evaluation_selectors.done_persona_runs()


def persona_portraits(*, run, family: str) -> pd.DataFrame:
    """The run's stored portrait per persona (preferred basis): persona, dimension, centred."""
    frame = evaluation_selectors.portrait_frame(
        run=run, family=family, persona=None, with_persona=True
    )[["persona", "basis", "dimension", "centred", "n"]]
    if frame.empty:
        return frame
    for basis in PORTRAIT_BASES:
        if (frame["basis"] == basis).any():
            return frame[frame["basis"] == basis].reset_index(drop=True)
    return frame


def replicate_spread(*, run, family: str, personas: list[str]) -> pd.DataFrame:
    """Per (persona, dimension): mean, SD, n and SE of the centred score over the run's
    replicates — each (prompt variant, repetition) scored alone by the portrait rule
    (:func:`evaluation.portraits.replicate_portraits`, all at once). A single replicate
    gives NaN SD and SE.
    """
    columns = ["persona", "dimension", "mean", "sd", "n", "se"]
    answers = evaluation_selectors.answers_frame(run=run)
    answers = answers[answers["persona"].isin(personas)]
    entries = item_set_entries(item_set=run.item_set)
    entries = entries[entries["family"] == family]
    if answers.empty or entries.empty:
        return pd.DataFrame(columns=columns)
    # The stored portrait leaves out a template answered with one rating throughout.
    answers = pd.concat(
        [informative_answers(part) for _, part in answers.groupby("persona", sort=True)],
        ignore_index=True,
    )
    long = replicate_portraits(answers, entries).dropna(subset=["centred"])
    out = long.groupby(["persona", "dimension"], sort=True)["centred"].agg(
        mean="mean", sd="std", n="count"
    )
    out["se"] = out["sd"] / np.sqrt(out["n"])
    return out.reset_index()[columns]


# --- Items ---------------------------------------------------------------------------------


def item_rating_counts(*, item: Item, study: Study | None = None) -> list[int]:
    """How many participants gave each rating 1..6 (aggregated in the database)."""
    ratings = ItemRating.objects.filter(item=item, participant__study__preview_of__isnull=True)
    if study is not None:
        ratings = ratings.filter(participant__study=study)
    counts = dict(
        ratings.order_by().values_list("rating").annotate(c=Count("id")).values_list("rating", "c")
    )
    return [int(counts.get(r, 0)) for r in range(1, 7)]


def item_model_answers(*, item: Item) -> pd.DataFrame:
    """Every run's answers to the item: one row per (run, persona) with mean, n, per-variant."""
    frame = evaluation_selectors.item_answers(item_id=item.pk)
    columns = ["run_id", "model", "kind", "persona", "mean", "n_valid", "n_answers", "answers"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["valid_rating"] = frame["rating"].where(frame["state"] == "valid")
    grouped = frame.groupby(["run_id", "model", "kind", "persona"], sort=True)
    out = grouped.agg(
        mean=("valid_rating", "mean"),
        n_valid=("valid_rating", "count"),
        n_answers=("state", "size"),
    ).reset_index()
    per_variant = (
        frame.sort_values("variant")
        .groupby(["run_id", "persona"])
        .apply(
            lambda g: ", ".join(
                f"{v}: {'–' if pd.isna(r) else f'{r:g}'}"
                for v, r in zip(g["variant"], g["valid_rating"], strict=True)
            ),
            include_groups=False,
        )
        .rename("answers")
        .reset_index()
    )
    out = out.merge(per_variant, on=["run_id", "persona"], how="left")
    return out[columns].sort_values(["persona", "model", "run_id"]).reset_index(drop=True)


def item_correlations(*, item: Item) -> pd.DataFrame:
    """The item's correlations in every finished correlation run, as the benchmark reports
    them: a pair with fewer raters than its study's minimum has r and p blanked and a
    ``too_few`` / ``r_reason`` saying why."""
    columns = ["run_id", "kind", "study", "study_id", "family", "dimension", "r", "p", "n"]
    rows = Correlation.objects.filter(item=item, run__status="done").values_list(
        "run_id", "run__kind", "run__study__slug", "run__study_id", "family", "dimension",
        "r", "p", "n",
    )  # fmt: skip
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    if frame.empty:
        return withhold_thin_pairs(frame, 1)
    required = raters_minimum_by_study(study_ids=frame["study_id"].unique().tolist())
    return pd.concat(
        [withhold_thin_pairs(group, required[sid]) for sid, group in frame.groupby("study_id")]
    ).sort_index()
