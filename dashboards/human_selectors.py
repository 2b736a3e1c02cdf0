"""Read operations: human portraits of a study's participants on the models' scale.

Participants are scored like a model (:mod:`benchmark.human_portraits`): the items' mean
ratings in a group, then the portrait rule on a validated item set. Everyone counted
(``Participant.objects.counted``) forms the group ``"all"``; a demographic field the study asked about splits them into groups (the labels of
:mod:`dashboards.demographics`, the same the personas of a run use). A group, or a
dimension within it, rated by fewer participants than the study's minimum per group has
no score, only its reason ("too few: n = 2 of 10").

A group's participants are those of it who rated at least one item of the set. Loading is
four queries (the item set's pairs, the counted participants' ratings of its items, their
demographic answers, the study's analysis settings) whatever the number of groups.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Exists, OuterRef

from benchmark import human_portraits as hp
from benchmark.minimums import Minimums, TooFew, checked, too_few
from benchmark.models import ValidatedItemSet
from benchmark.portrait_rule import PortraitLayout
from benchmark.selectors import analysis_settings, item_set_entries
from evaluation.personas import parse_persona_key
from survey.models import ItemRating, Participant, Study

from . import demographics as demo
from . import selectors, stats
from .selectors import PREFERRED_STUDY

ALL = "all"
NO_RATING = "no participant of the group rated an item selected for it"
# Dimension keys of the exports: plain names are unique across these families.
PLAIN_KEY_FAMILIES = ("schwartz", "higher_order", "big_five")
GROUP_COLUMNS = [
    "family",
    "dimension",
    "centred",
    "raw",
    "family_mean",
    "n_items",
    "n_raters",
    "se",
    "ci_low",
    "ci_high",
    "reason",
    "withheld",
]
ROW_COLUMNS = ["group", "n_participants", *GROUP_COLUMNS, "resamples"]


def dimension_key(family: str, dimension: str) -> str:
    return dimension if family in PLAIN_KEY_FAMILIES else f"{family}:{dimension}"


def newest_item_set(*, study: Study):
    """The study's newest validated item set, or None."""
    return (
        ValidatedItemSet.objects.select_related("study")
        .filter(study=study)
        .order_by("-created_at", "-id")
        .first()
    )


def studies_with_item_sets() -> list[Study]:
    """Studies with a validated item set (humans can be scored), the release first."""
    ids = ValidatedItemSet.objects.values("study_id")
    studies = list(Study.objects.filter(pk__in=ids).order_by("-created_at"))
    studies.sort(key=lambda s: s.slug != PREFERRED_STUDY)
    return studies


def rated_studies() -> list[Study]:
    """Studies with at least one item rating, the release first, then the newest."""
    rated = ItemRating.objects.filter(participant__study=OuterRef("pk"))
    studies = list(Study.objects.listed().filter(Exists(rated)).order_by("-created_at"))
    studies.sort(key=lambda s: s.slug != PREFERRED_STUDY)
    return studies


def item_set_for(*, item_set_id: int | None, study: Study | None):
    """The item set ``item_set_id`` (with its study), else ``study``'s newest, else None."""
    if item_set_id is not None:
        found = ValidatedItemSet.objects.select_related("study").filter(pk=item_set_id).first()
        if found is not None:
            return found
    return newest_item_set(study=study) if study is not None else None


@dataclass(frozen=True)
class HumanRatings:
    """The counted participants' ratings of an item set's items, ready for the rule."""

    study: Study
    item_set: object
    layout: PortraitLayout
    matrix: np.ndarray  # participants × layout items, NaN: not rated
    participants: pd.Index  # participant ids of the matrix rows
    demographics: pd.DataFrame  # one row per matrix row (same order)
    minimums: Minimums
    resamples: int
    seed: int


def human_ratings(*, study: Study, item_set, with_demographics: bool = True) -> HumanRatings:
    """Load everything the human portraits of ``study`` on ``item_set`` need."""
    layout = PortraitLayout.from_entries(item_set_entries(item_set=item_set))
    counted = Participant.objects.counted(study)
    rows = ItemRating.objects.filter(
        participant__in=counted, item_id__in=layout.item_ids.tolist()
    ).values_list("participant_id", "item_id", "rating")
    ratings = pd.DataFrame.from_records(list(rows), columns=["participant_id", "item_id", "rating"])
    matrix, participants = hp.rating_matrix(ratings, layout)
    answers = {}
    if with_demographics:
        answers = dict(
            counted.filter(pk__in=participants.tolist()).values_list("id", "demographics")
        )
    demographics = pd.DataFrame.from_records(
        [a if isinstance(a := answers.get(pk), dict) else {} for pk in participants],
        index=participants,
    )
    settings = analysis_settings(study=study)
    return HumanRatings(
        study=study,
        item_set=item_set,
        layout=layout,
        matrix=matrix,
        participants=participants,
        demographics=demographics,
        minimums=settings.minimums,
        resamples=settings.bootstrap_resamples,
        seed=settings.bootstrap_seed,
    )


def person_portraits(data: HumanRatings, *, family: str) -> pd.DataFrame:
    """Each participant's centred scores on ``family`` (participants × dimensions), NaN where
    the person rated fewer of the dimension's selected items than the study's minimum."""
    scores = hp.person_scores(data.matrix, data.layout, min_items=data.minimums.items_per_dimension)
    columns = [j for j, (f, _) in enumerate(data.layout.dimensions) if f == family]
    return pd.DataFrame(
        scores.centred[:, columns],
        index=data.participants,
        columns=[data.layout.dimensions[j][1] for j in columns],
    )


@dataclass(frozen=True)
class GroupResult:
    """One group's portrait: ``table`` has :data:`GROUP_COLUMNS` (one row per dimension;
    scores NaN and ``reason`` set where too few participants rated the dimension)."""

    label: str
    n_participants: int
    too_few: TooFew | None
    table: pd.DataFrame

    def centred(self) -> dict[str, float | None]:
        """``{dimension key: centred score}``, None where withheld."""
        return {
            dimension_key(row.family, row.dimension): (
                None if pd.isna(row.centred) else float(row.centred)
            )
            for row in self.table.itertuples()
        }


def group_result(data: HumanRatings, mask: np.ndarray, *, label: str) -> GroupResult:
    """The portrait of the participants ``mask`` selects among ``data``'s rows."""
    matrix = data.matrix[np.asarray(mask, dtype=bool)]
    required = data.minimums.group_participants
    portrait = hp.group_portrait(matrix, data.layout, resamples=data.resamples, seed=data.seed)
    table = pd.DataFrame(
        {
            "family": [family for family, _ in data.layout.dimensions],
            "dimension": [dimension for _, dimension in data.layout.dimensions],
            "centred": portrait.centred,
            "raw": portrait.raw,
            "family_mean": portrait.family_mean,
            "n_items": portrait.n_items,
            "n_raters": portrait.n_raters,
            "se": portrait.se,
            "ci_low": portrait.ci_low,
            "ci_high": portrait.ci_high,
        }
    )
    shortfalls = [
        None if n >= required else too_few(n, required, "group_participants")
        for n in portrait.n_raters
    ]
    unrated = (table["n_items"] == 0).tolist()
    table["reason"] = [
        NO_RATING if none else (short.reason if short else None)
        for none, short in zip(unrated, shortfalls, strict=True)
    ]
    # What a page shows in the number's place: "too few: n = 6 of 10" (reason on hover).
    table["withheld"] = [
        "no rating" if none else (str(short) if short else None)
        for none, short in zip(unrated, shortfalls, strict=True)
    ]
    withheld = table["reason"].notna()
    score_columns = ["centred", "raw", "family_mean", "se", "ci_low", "ci_high"]
    table.loc[withheld, score_columns] = np.nan
    group_short = (
        too_few(portrait.n_participants, required, "group_participants")
        if portrait.n_participants < required
        else None
    )
    return GroupResult(
        label=label, n_participants=portrait.n_participants, too_few=group_short, table=table
    )


def field_groups(data: HumanRatings, *, field: str) -> dict[str, np.ndarray]:
    """Label -> row mask of each group of ``field`` (participants without a comparable
    answer belong to none), labels sorted."""
    labels = demo.participant_groups(data.demographics, field=field)
    return {
        str(group): (labels == group).to_numpy()
        for group in sorted(labels.dropna().unique(), key=str)
    }


@dataclass(frozen=True)
class HumanPortraits:
    study: Study
    item_set: object
    field: str | None
    groups: list[GroupResult]  # "all" first
    minimums: Minimums
    resamples: int
    seed: int

    def by_label(self) -> dict[str, GroupResult]:
        return {g.label: g for g in self.groups}


class HumanPortraitError(ValueError):
    """The request cannot be answered (no item set, a field the study did not ask about)."""


def human_portraits(*, study: Study, item_set=None, field: str | None = None) -> HumanPortraits:
    """The portrait of everyone counted and, with ``field``, of each of its groups."""
    if field is not None:
        if field not in demo.FIELDS:
            raise HumanPortraitError(
                f"unknown demographic field {field!r} (known: {', '.join(demo.FIELDS)})"
            )
        if field not in (study.demographic_fields or []):
            raise HumanPortraitError(f"study {study.slug} did not ask about {field!r}")
    if item_set is None:
        item_set = newest_item_set(study=study)
        if item_set is None:
            raise HumanPortraitError(f"study {study.slug} has no validated item set")
    data = human_ratings(study=study, item_set=item_set)
    groups = [group_result(data, np.ones(len(data.participants), dtype=bool), label=ALL)]
    if field is not None:
        groups += [
            group_result(data, mask, label=label)
            for label, mask in field_groups(data, field=field).items()
        ]
    return HumanPortraits(
        study=study,
        item_set=item_set,
        field=field,
        groups=groups,
        minimums=data.minimums,
        resamples=data.resamples,
        seed=data.seed,
    )


def as_json(portraits: HumanPortraits) -> dict[str, dict[str, float | None]]:
    """``{group label: {dimension key: centred score or None}}``, ``"all"`` included."""
    return {group.label: group.centred() for group in portraits.groups}


def as_rows(portraits: HumanPortraits) -> list[dict]:
    """One row per group and dimension with n, the bootstrap interval and any reason."""
    rows = []
    for group in portraits.groups:
        for record in group.table.to_dict("records"):
            rows.append(
                {
                    "group": group.label,
                    "n_participants": group.n_participants,
                    **{k: (None if _missing(v) else v) for k, v in record.items()},
                    "resamples": portraits.resamples,
                }
            )
    return rows


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


@dataclass(frozen=True)
class HumansAgainstModels:
    """What the humans-vs-models page and endpoint show (see :func:`humans_against_models`).

    ``human`` (index = dimension of the family) is everyone's portrait table; ``persons``
    the per-person scores (participants × dimensions); ``points`` the models' centred scores
    (models × dimensions); ``percentiles`` each model's percentile among ``persons`` or the
    ``TooFew`` in its place; ``latest`` the models' portrait rows (with ``run_id``).
    """

    studies: list[Study]
    study: Study | None
    item_set: object
    item_set_id: int | None
    everyone: GroupResult | None = None
    human: pd.DataFrame | None = None
    persons: pd.DataFrame | None = None
    points: pd.DataFrame | None = None
    percentiles: pd.DataFrame | None = None
    latest: pd.DataFrame | None = None
    minimums: Minimums | None = None


def humans_against_models(
    *, family: str, filters, study_slug: str | None = None,
    studies: list[Study] | None = None,
) -> HumansAgainstModels:  # fmt: skip
    """Everyone's portrait, per-person scores and the models' latest portraits, all on one
    item set: the one the models ran on (the filter's, else the most used), or — when the
    researcher picks the humans' study — that study's newest set and the models run on it.
    ``studies``: :func:`studies_with_item_sets` when the caller already has it.
    """

    def models_on(chosen_filters):
        scores = selectors.portrait_scores(family=family, filters=chosen_filters)
        scores, item_set_id = selectors.comparable_portraits(
            scores, item_set=chosen_filters.item_set
        )
        return selectors.latest_portraits(scores), item_set_id

    latest, item_set_id = models_on(filters)
    studies = studies_with_item_sets() if studies is None else studies
    chosen = selectors.pick_study(study_slug, studies)
    item_set = item_set_for(item_set_id=item_set_id, study=chosen)
    if study_slug and item_set is not None and item_set.study != chosen:
        item_set = item_set_for(item_set_id=None, study=chosen)
        if item_set is not None:
            latest, item_set_id = models_on(dataclasses.replace(filters, item_set=item_set.pk))
    study = item_set.study if item_set is not None else chosen
    found = HumansAgainstModels(
        studies=studies, study=study, item_set=item_set, item_set_id=item_set_id
    )
    if item_set is None:
        return found
    data = human_ratings(study=study, item_set=item_set, with_demographics=False)
    everyone = group_result(data, np.ones(len(data.participants), dtype=bool), label=ALL)
    human = everyone.table[everyone.table["family"] == family].set_index("dimension")
    order = selectors.dimensions_of(family)  # the other pages' order
    human = human.reindex(
        [d for d in order if d in human.index] + [d for d in human.index if d not in order]
    )
    persons = person_portraits(data, family=family).reindex(columns=human.index)
    points = selectors.model_matrix(latest, family=family)
    if filters.models:
        points = points[points.index.isin(filters.models)]
    points = points.reindex(columns=human.index)
    return dataclasses.replace(
        found,
        everyone=everyone,
        human=human,
        persons=persons,
        points=points,
        percentiles=percentile_cells(persons, points, data.minimums),
        latest=latest,
        minimums=data.minimums,
    )


def percentile_cells(persons: pd.DataFrame, points: pd.DataFrame, minimums) -> pd.DataFrame:
    """Each model's percentile among the participants' own scores (same scale), or the
    ``TooFew`` in its place where fewer people than the minimum have a score."""
    if points.empty:
        return pd.DataFrame(index=points.index, columns=points.columns, dtype=object)
    raw = pd.DataFrame(
        stats.percentile_among(persons.to_numpy(), points.to_numpy()),
        index=points.index,
        columns=points.columns,
    )
    counts = persons.count()
    return pd.DataFrame(
        {
            d: [
                checked(value, n=counts[d], minimums=minimums, minimum="percentile_humans")
                for value in raw[d]
            ]
            for d in points.columns
        },
        index=points.index,
        dtype=object,
    )


def persona_comparison(*, run, study: Study, family: str, field: str) -> dict:
    """Model-as-persona vs the human portrait of the participants of each group on ``field``,
    both on the items' scale (the run's item set, the same portrait rule).

    The model's point estimate is its stored persona portrait; its uncertainty is the spread
    over prompt variants and repetitions (:func:`replicate_spread`). The humans' side is
    the group's portrait (each item's mean rating in the group) with its bootstrap SE and
    interval over participants (:mod:`dashboards.human_selectors`); a group or dimension
    rated by fewer participants than the study's minimum per group is not compared, and
    listed with its "too few" instead. Returns ``{"comparison", "departures", "groups":
    {group: n_participants}, "too_few": {group: TooFew}, "withheld": DataFrame,
    "personas": {persona_key: group}}``.
    """
    portraits = selectors.persona_portraits(run=run, family=family)
    personas = {key: parse_persona_key(key) for key in sorted(set(portraits.get("persona", [])))}
    # Every persona that names the field; one that also names other fields (a woman aged
    # 30-44) is compared with the participants who match all of them.
    by_group = {
        key: demo.persona_label(personas[key], first=field)
        for key in demo.single_field_personas(personas, field=field)
    }
    empty = {
        "comparison": pd.DataFrame(),
        "departures": pd.DataFrame(),
        "groups": {},
        "too_few": {},
        "withheld": pd.DataFrame(),
        "personas": by_group,
        "min_group_participants": None,
    }
    if not by_group:
        return empty
    spread = selectors.replicate_spread(run=run, family=family, personas=list(by_group))
    model = portraits[portraits["persona"].isin(by_group)][["persona", "dimension", "centred"]]
    model = model.merge(
        spread[["persona", "dimension", "se", "n"]], on=["persona", "dimension"], how="left"
    )
    n_replicates = model["n"].fillna(1).astype(int)
    t = stats.sps.t.ppf(0.5 + stats.CONFIDENCE / 2, np.maximum(n_replicates - 1, 1))
    half = np.where(n_replicates > 1, t * model["se"], np.nan)
    model = model.assign(
        group=model["persona"].map(by_group),
        mean=model["centred"],
        n=n_replicates,
        ci_low=model["centred"] - half,
        ci_high=model["centred"] + half,
    )

    data = human_ratings(study=study, item_set=run.item_set)
    results = {
        by_group[key]: group_result(
            data,
            demo.matching_participants(data.demographics, personas[key]).to_numpy(),
            label=by_group[key],
        )
        for key in by_group
    }
    humans = pd.concat(
        [r.table[r.table["family"] == family].assign(group=label) for label, r in results.items()],
        ignore_index=True,
    ).rename(columns={"centred": "mean", "n_raters": "n"})
    groups = {label: r.n_participants for label, r in sorted(results.items())}
    too_few = {label: r.too_few for label, r in sorted(results.items()) if r.too_few}
    withheld = humans[humans["reason"].notna()][["group", "dimension", "withheld", "reason"]]
    comparable = humans[humans["reason"].isna()]
    if comparable.empty:
        return {
            **empty,
            "groups": groups,
            "too_few": too_few,
            "withheld": withheld,
            "min_group_participants": data.minimums.group_participants,
        }
    comparison = stats.compare_profiles(model, comparable)
    order = {d: i for i, d in enumerate(selectors.dimensions_of(family))}
    comparison = comparison.sort_values(
        ["group", "dimension"], key=lambda s: s.map(order) if s.name == "dimension" else s
    ).reset_index(drop=True)
    return {
        "comparison": comparison,
        "departures": stats.largest_departures(comparison, top=8),
        "groups": groups,
        "too_few": too_few,
        "withheld": withheld.reset_index(drop=True),
        "personas": by_group,
        "min_group_participants": data.minimums.group_participants,
    }
