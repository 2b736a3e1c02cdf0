"""Model portraits: the paper's scoring rule as pure, vectorised arithmetic (no Django).

Inputs are two tables:

- ``answers``: one row per answer with ``item_id``, ``variant`` and ``rating`` (1-6, NaN
  when the answer was invalid); optionally ``expected_rating`` (probability scoring);
- ``entries``: the validated item set, one row per selected pair: ``item_id``, ``family``,
  ``dimension``.

The rule (Value Portrait, 2025):

1. an item's rating is the mean of its valid answers (over template variants, and
   repetitions if any); an item without a valid answer has no rating and is left out;
2. a dimension's *raw* score is the mean of the ratings of the items selected for it, with
   the population SD (ddof=0) and the number of items *n* alongside;
3. a family's mean is the mean rating over the items selected for at least one dimension of
   that family, each item counted once;
4. the *centred* score is raw minus the family mean.

Before that, a template variant whose valid answers over at least
:data:`CONSTANT_VARIANT_MIN_ITEMS` items are all one rating is left out
(:func:`constant_variants`, :func:`informative_answers`): a model that answers "6" to every
item under one template answered the template, not the items, and that variant says nothing
about its values. Such variants are counted and named, never silently dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.portrait_rule import PORTRAIT_COLUMNS, PortraitLayout, portrait_table, score

# Below this many items one rating throughout can be chance (a model that agrees with a few
# items alike); from it on, a template answered with one rating is taken as uninformative.
CONSTANT_VARIANT_MIN_ITEMS = 10
CONSTANT_VARIANT_COLUMNS = ["variant", "rating", "items"]


def constant_variants(
    answers: pd.DataFrame, value: str = "rating", min_items: int = CONSTANT_VARIANT_MIN_ITEMS
) -> pd.DataFrame:
    """Variants whose valid (non-NaN) ``value`` answers cover at least ``min_items`` distinct
    items and are all one number: columns ``variant``, ``rating`` (that number) and ``items``
    (how many items), sorted by variant."""
    valid = answers.dropna(subset=[value])
    if valid.empty:
        return pd.DataFrame(columns=CONSTANT_VARIANT_COLUMNS)
    grouped = valid.groupby("variant", sort=True)
    table = pd.DataFrame(
        {
            "rating": grouped[value].min(),
            "highest": grouped[value].max(),
            "items": grouped["item_id"].nunique(),
        }
    )
    constant = table[(table["rating"] == table["highest"]) & (table["items"] >= min_items)]
    return constant.reset_index()[CONSTANT_VARIANT_COLUMNS]


def informative_answers(
    answers: pd.DataFrame, value: str = "rating", min_items: int = CONSTANT_VARIANT_MIN_ITEMS
) -> pd.DataFrame:
    """``answers`` without the rows of :func:`constant_variants` (the portrait's input)."""
    constant = constant_variants(answers, value, min_items)["variant"]
    return answers[~answers["variant"].isin(constant)]


def item_ratings(answers: pd.DataFrame, value: str = "rating") -> pd.Series:
    """Mean of the valid (non-NaN) ``value`` per ``item_id``; items with none are dropped."""
    ratings = answers.groupby("item_id")[value].mean()
    return ratings.dropna().rename("rating")


def portrait(ratings: pd.Series, entries: pd.DataFrame) -> pd.DataFrame:
    """Score every (family, dimension) of ``entries`` from per-item ``ratings``.

    Returns a frame with :data:`PORTRAIT_COLUMNS`; a dimension none of whose items has a
    rating is kept with ``n = 0`` and NaN scores. The arithmetic is the rule shared with
    the human portraits (:mod:`benchmark.portrait_rule`).
    """
    return portrait_table(ratings, entries)


def model_portrait(
    answers: pd.DataFrame, entries: pd.DataFrame, value: str = "rating"
) -> pd.DataFrame:
    """:func:`portrait` of :func:`item_ratings` (only answers for items in ``entries``)."""
    return portrait(item_ratings(answers, value), entries)


def variant_portraits(answers: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """The portrait from each template variant's answers alone, stacked with a ``variant``
    column (a handful of variants: one vectorised portrait per variant)."""
    frames = [
        model_portrait(group, entries).assign(variant=variant)
        for variant, group in answers.groupby("variant", sort=True)
    ]
    if not frames:
        return pd.DataFrame(columns=["variant", *PORTRAIT_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["variant", *PORTRAIT_COLUMNS]]


REPLICATE_KEYS = ["persona", "variant", "repetition"]


def replicate_portraits(answers: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """The centred portrait of each replicate — one (persona, variant, repetition) of the
    answers, scored alone — all at once (the rule on a replicates × items matrix).

    Returns ``persona``, ``variant``, ``repetition``, ``family``, ``dimension``, ``centred``
    (NaN where the replicate rated none of the dimension's items).
    """
    columns = [*REPLICATE_KEYS, "family", "dimension", "centred"]
    layout = PortraitLayout.from_entries(entries)
    if answers.empty or not len(layout.item_ids):
        return pd.DataFrame(columns=columns)
    matrix = answers.pivot_table(
        index=REPLICATE_KEYS, columns="item_id", values="rating", aggfunc="mean"
    ).reindex(columns=layout.item_ids)
    centred = score(matrix.to_numpy(dtype=float), layout).centred
    wide = pd.DataFrame(centred, index=matrix.index, columns=pd.RangeIndex(len(layout.dimensions)))
    long = wide.reset_index().melt(id_vars=REPLICATE_KEYS, var_name="column", value_name="centred")
    long["family"] = [layout.dimensions[j][0] for j in long["column"]]
    long["dimension"] = [layout.dimensions[j][1] for j in long["column"]]
    return long[columns]


def base_wording(variant: str) -> str:
    return variant.removesuffix("_reversed")


def consistency(answers: pd.DataFrame, entries: pd.DataFrame) -> dict:
    """How much the portrait moves between templates and between option orders.

    Per dimension: ``variant_sd`` (population SD of the centred score over variants),
    ``variant_range`` (max - min), ``order_effect`` (mean over wordings that have both
    orders of centred(normal) - centred(reversed)) and ``wording_sd`` (SD over wordings of
    the order-averaged centred score). Per item: ``item_sd_mean`` (mean over items of the
    SD of their valid answers across variants) and ``items_unanimous`` (share of items with
    at least two valid answers that all agree).
    """
    per_variant = variant_portraits(answers, entries)
    result: dict = {"dimensions": {}, "variants": sorted(answers["variant"].unique().tolist())}
    if per_variant.empty:
        return result
    table = per_variant.pivot_table(
        index=["family", "dimension"], columns="variant", values="centred", dropna=False
    )
    variants = list(table.columns)
    normal = [v for v in variants if not v.endswith("_reversed") and f"{v}_reversed" in variants]
    order_effect = (
        pd.DataFrame({v: table[v] - table[f"{v}_reversed"] for v in normal}).mean(axis=1)
        if normal
        else pd.Series(np.nan, index=table.index)
    )
    by_wording = table.T.groupby(base_wording).mean().T
    summary = pd.DataFrame(
        {
            "variant_sd": table.std(axis=1, ddof=0),
            "variant_range": table.max(axis=1) - table.min(axis=1),
            "order_effect": order_effect,
            "wording_sd": by_wording.std(axis=1, ddof=0),
        }
    )
    for (family, dimension), row in summary.iterrows():
        result["dimensions"].setdefault(family, {})[dimension] = {
            key: (None if pd.isna(value) else float(value)) for key, value in row.items()
        }
    valid = answers.dropna(subset=["rating"])
    per_item = valid.groupby("item_id")["rating"].agg(["std", "count", "min", "max"])
    several = per_item[per_item["count"] >= 2]
    item_sd = valid.groupby("item_id")["rating"].std(ddof=0)
    result["item_sd_mean"] = None if item_sd.empty else float(item_sd.mean())
    result["items_unanimous"] = (
        None if several.empty else float((several["min"] == several["max"]).mean())
    )
    result["variant_scores"] = {
        variant: {
            f"{family}:{dimension}": (None if pd.isna(value) else float(value))
            for (family, dimension), value in table[variant].items()
        }
        for variant in variants
    }
    return result
