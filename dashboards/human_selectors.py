"""Read operations: human portraits of a study's participants on the models' scale.

Participants are scored like a model (:mod:`benchmark.human_portraits`): the items' mean
ratings in a group, then the portrait rule on a validated item set. Everyone counted
(:func:`dashboards.selectors.counted_participants`) forms the group ``"all"``; a
demographic field the study asked about splits them into groups (the labels of
:mod:`dashboards.demographics`, the same the personas of a run use). A group, or a
dimension within it, rated by fewer participants than the study's minimum per group has
no score, only its reason ("too few: n = 2 of 10").

Loading is three queries (the item set's pairs, the counted participants' ratings of its
items, their demographic answers) whatever the number of groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark import human_portraits as hp
from benchmark.minimums import Minimums, TooFew, too_few
from benchmark.portrait_rule import PortraitLayout
from benchmark.selectors import analysis_settings, item_set_entries, minimums_for
from survey.models import ItemRating, Participant, Study

from . import demographics as demo
from .selectors import counted_participants

ALL = "all"
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
]
ROW_COLUMNS = ["group", "n_participants", *GROUP_COLUMNS, "resamples"]


def dimension_key(family: str, dimension: str) -> str:
    return dimension if family in PLAIN_KEY_FAMILIES else f"{family}:{dimension}"


def newest_item_set(*, study: Study):
    """The study's newest validated item set, or None."""
    from benchmark.models import ValidatedItemSet

    return ValidatedItemSet.objects.filter(study=study).order_by("-created_at", "-id").first()


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


def human_ratings(*, study: Study, item_set) -> HumanRatings:
    """Load everything the human portraits of ``study`` on ``item_set`` need."""
    layout = PortraitLayout.from_entries(item_set_entries(item_set=item_set))
    rows = ItemRating.objects.filter(
        counted_participants(study, prefix="participant__"), item_id__in=layout.item_ids.tolist()
    ).values_list("participant_id", "item_id", "rating")
    ratings = pd.DataFrame.from_records(list(rows), columns=["participant_id", "item_id", "rating"])
    matrix, participants = hp.rating_matrix(ratings, layout)
    answers = dict(
        Participant.objects.filter(
            counted_participants(study), pk__in=participants.tolist()
        ).values_list("id", "demographics")
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
        minimums=minimums_for(study=study),
        resamples=settings.bootstrap_resamples,
        seed=settings.bootstrap_seed,
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
    reasons = [
        None if n >= required else too_few(n, required, "group_participants").reason
        for n in portrait.n_raters
    ]
    unrated = table["n_items"] == 0
    reasons = [
        "no participant of the group rated an item selected for it" if none else reason
        for none, reason in zip(unrated, reasons, strict=True)
    ]
    table["reason"] = reasons
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
    elif item_set.study_id != study.pk:
        raise HumanPortraitError(f"item set {item_set.pk} belongs to another study")
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
