"""Human portraits on the models' scale (pure: numpy/pandas, no Django).

A group of participants is scored exactly like a model (:mod:`benchmark.portrait_rule`):
an item's rating is the mean of the group's ratings of that item, then the portrait rule
on the validated item set. The uncertainty is a seeded bootstrap over participants: each
resample draws the group's participants with replacement (as multiplicity weights), so
the resampled item means of all resamples are two matrix products and the rule is applied
to all resamples at once.

A person is scored by the same rule on their own ratings; their score on a dimension
counts only when they rated at least ``min_items`` of its selected items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .portrait_rule import PortraitLayout, PortraitScores, score

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 2025
CONFIDENCE = 0.95


def rating_matrix(
    ratings: pd.DataFrame, layout: PortraitLayout, participants: pd.Index | None = None
) -> tuple[np.ndarray, pd.Index]:
    """Participants × the layout's items (NaN: not rated) from long rows
    (``participant_id``, ``item_id``, ``rating``); ratings of other items are ignored.

    ``participants`` fixes the rows (and their order); by default every participant with a
    rating of a layout item, sorted.
    """
    wanted = ratings[ratings["item_id"].isin(layout.item_ids)]
    if participants is None:
        participants = pd.Index(np.sort(wanted["participant_id"].unique()), name="participant_id")
    matrix = np.full((len(participants), len(layout.item_ids)), np.nan)
    rows = participants.get_indexer(wanted["participant_id"])
    columns = pd.Index(layout.item_ids).get_indexer(wanted["item_id"])
    keep = rows >= 0
    matrix[rows[keep], columns[keep]] = wanted["rating"].to_numpy(dtype=float)[keep]
    return matrix, participants


def group_item_means(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean rating of each item per weight row (k × people → k × items; NaN where
    no weighted participant rated the item)."""
    rated = ~np.isnan(matrix)
    totals = weights @ np.where(rated, matrix, 0.0)
    counts = weights @ rated.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.where(counts > 0, counts, 1), np.nan)


@dataclass(frozen=True)
class GroupPortrait:
    """A group's portrait: per dimension of the layout (arrays of length D).

    ``n_raters``: participants of the group who rated at least one selected item of the
    dimension; ``n_items``: the dimension's items the group rated; ``se``: the SD of the
    centred score over the bootstrap resamples; ``ci_low``/``ci_high``: its percentile
    interval (NaN when a resample left the dimension without a rating, or no resamples).
    """

    n_participants: int
    raw: np.ndarray
    family_mean: np.ndarray
    centred: np.ndarray
    n_items: np.ndarray
    n_raters: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    resamples: int


def bootstrap_weights(n: int, *, resamples: int, seed: int) -> np.ndarray:
    """``resamples`` × ``n`` multiplicity counts of drawing ``n`` of ``n`` with replacement."""
    if n == 0 or resamples == 0:
        return np.zeros((resamples, n))
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)


def group_portrait(
    matrix: np.ndarray,
    layout: PortraitLayout,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> GroupPortrait:
    """The portrait of the participants in ``matrix`` (people × layout items)."""
    n_people = matrix.shape[0]
    point = score(group_item_means(matrix, np.ones((1, n_people))), layout)
    rated = (~np.isnan(matrix)).astype(float)
    n_raters = ((rated @ layout.dimension_mask.astype(float)) > 0).sum(axis=0)
    dims = len(layout.dimensions)
    se = ci_low = ci_high = np.full(dims, np.nan)
    if resamples and n_people:
        weights = bootstrap_weights(n_people, resamples=resamples, seed=seed)
        centred = score(group_item_means(matrix, weights), layout).centred  # resamples × D
        tail = 100 * (1 - confidence) / 2
        # np.percentile (not nanpercentile): a dimension some resample left unrated has no
        # honest interval, and NaN says so.
        ci_low, ci_high = np.percentile(centred, [tail, 100 - tail], axis=0)
        se = centred.std(axis=0, ddof=1) if resamples > 1 else np.full(dims, np.nan)
    return GroupPortrait(
        n_participants=n_people,
        raw=point.raw[0],
        family_mean=point.family_mean[0],
        centred=point.centred[0],
        n_items=point.n[0],
        n_raters=n_raters.astype(int),
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        resamples=resamples,
    )


def person_scores(matrix: np.ndarray, layout: PortraitLayout, *, min_items: int) -> PortraitScores:
    """Each person's portrait (people × D); ``centred`` and ``raw`` are NaN where the person
    rated fewer than ``min_items`` of the dimension's selected items."""
    scores = score(matrix, layout)
    enough = scores.n >= min_items
    return PortraitScores(
        raw=np.where(enough, scores.raw, np.nan),
        n=scores.n,
        family_mean=scores.family_mean,
        centred=np.where(enough, scores.centred, np.nan),
    )
