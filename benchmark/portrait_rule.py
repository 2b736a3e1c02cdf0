"""The portrait rule of Value Portrait, shared by models and humans (pure: numpy/pandas).

A validated item set selects (item, family, dimension) pairs. From one rating per item —
a model's mean answer, or a group of participants' mean rating — the rule scores every
dimension of the set:

1. a dimension's *raw* score is the mean rating of the items selected for it that have a
   rating (``n`` of them);
2. a family's mean is the mean rating over the items selected for at least one dimension
   of that family, each item counted once;
3. the *centred* score is raw minus the family mean.

The arithmetic works on a whole matrix of rating vectors at once (one row per model,
person or bootstrap resample; NaN = no rating), as two matrix products, so a thousand
resamples cost two products, not a thousand Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PortraitLayout:
    """Which items enter which dimension and which family mean.

    ``item_ids``: the set's items (columns of a rating matrix); ``dimensions``: the
    (family, dimension) pairs, sorted; ``dimension_mask`` and ``family_mask`` are
    items × dimensions: the item is selected for the dimension / for some dimension of the
    dimension's family.
    """

    item_ids: np.ndarray
    dimensions: tuple[tuple[str, str], ...]
    dimension_mask: np.ndarray
    family_mask: np.ndarray

    @classmethod
    def from_entries(cls, entries: pd.DataFrame) -> PortraitLayout:
        """Build from the set's pairs (columns ``item_id``, ``family``, ``dimension``)."""
        pairs = entries[["item_id", "family", "dimension"]].drop_duplicates()
        item_ids = np.sort(pairs["item_id"].unique())
        dimensions = tuple(sorted(set(zip(pairs["family"], pairs["dimension"], strict=True))))
        column = {key: j for j, key in enumerate(dimensions)}
        row = {item: i for i, item in enumerate(item_ids)}
        dimension_mask = np.zeros((len(item_ids), len(dimensions)), dtype=bool)
        rows = pairs["item_id"].map(row).to_numpy()
        columns = np.array(
            [column[key] for key in zip(pairs["family"], pairs["dimension"], strict=True)],
            dtype=int,
        )
        dimension_mask[rows, columns] = True
        families = np.array([family for family, _ in dimensions], dtype=object)
        # item in family f  <=>  selected for any dimension of f
        in_family = {
            family: dimension_mask[:, families == family].any(axis=1) for family in set(families)
        }
        family_mask = (
            np.column_stack([in_family[f] for f in families])
            if len(families)
            else (np.zeros((len(item_ids), 0), dtype=bool))
        )
        return cls(item_ids, dimensions, dimension_mask, family_mask)

    def align(self, ratings: pd.Series) -> np.ndarray:
        """One rating per item of the layout from a Series indexed by item id (NaN: none)."""
        return ratings.reindex(self.item_ids).to_numpy(dtype=float)


@dataclass(frozen=True)
class PortraitScores:
    """Scores of k rating vectors: each array is k × dimensions (NaN where undefined)."""

    raw: np.ndarray
    n: np.ndarray
    family_mean: np.ndarray
    centred: np.ndarray
    sd: np.ndarray | None = None


def _masked_mean(values: np.ndarray, rated: np.ndarray, mask: np.ndarray):
    """Mean of the rated values over each mask column, and how many entered it."""
    totals = values @ mask
    counts = rated @ mask
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, totals / np.where(counts > 0, counts, 1), np.nan)
    return means, counts


def score(ratings: np.ndarray, layout: PortraitLayout, *, with_sd: bool = False) -> PortraitScores:
    """Apply the rule to each row of ``ratings`` (k × items of ``layout``, NaN: no rating).

    ``with_sd`` adds each dimension's population SD (ddof=0) of its rated items.
    """
    ratings = np.atleast_2d(np.asarray(ratings, dtype=float))
    if ratings.shape[1] != len(layout.item_ids):
        raise ValueError(
            f"ratings have {ratings.shape[1]} items, the layout {len(layout.item_ids)}"
        )
    rated = ~np.isnan(ratings)
    values = np.where(rated, ratings, 0.0)
    weights = rated.astype(float)
    dimension_mask = layout.dimension_mask.astype(float)
    raw, n = _masked_mean(values, weights, dimension_mask)
    family_mean, _ = _masked_mean(values, weights, layout.family_mask.astype(float))
    sd = None
    if with_sd:
        # Deviations from each dimension's mean (k × items × dimensions), masked.
        deviation = values[:, :, None] - np.nan_to_num(raw)[:, None, :]
        squares = (deviation**2) * weights[:, :, None] * dimension_mask[None, :, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.where(n > 0, np.sqrt(squares.sum(axis=1) / np.where(n > 0, n, 1)), np.nan)
    return PortraitScores(
        raw=raw, n=n.astype(int), family_mean=family_mean, centred=raw - family_mean, sd=sd
    )


PORTRAIT_COLUMNS = ["family", "dimension", "raw", "sd", "n", "family_mean", "centred"]


def portrait_table(ratings: pd.Series, entries: pd.DataFrame) -> pd.DataFrame:
    """One rating vector's portrait as a table with :data:`PORTRAIT_COLUMNS`.

    ``ratings`` is indexed by item id (items outside ``entries`` are ignored); a dimension
    none of whose items has a rating is kept with ``n = 0`` and NaN scores.
    """
    layout = PortraitLayout.from_entries(entries)
    scores = score(layout.align(ratings.astype(float)), layout, with_sd=True)
    table = pd.DataFrame(
        {
            "family": [family for family, _ in layout.dimensions],
            "dimension": [dimension for _, dimension in layout.dimensions],
            "raw": scores.raw[0],
            "sd": scores.sd[0],
            "n": scores.n[0],
            "family_mean": scores.family_mean[0],
            "centred": scores.centred[0],
        }
    )
    return table[PORTRAIT_COLUMNS]
