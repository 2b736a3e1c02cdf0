"""Bootstrap confidence intervals of item × dimension correlations, resampling participants.

Each replicate draws as many participants as there are (with replacement, seeded) and
recomputes all correlations on their ratings and scores — a participant drawn twice counts
twice for every item they rated. The interval is the percentile interval of the replicates
(NaN replicates, e.g. an item with constant ratings in a draw, are ignored), as
``numpy.nanpercentile`` with its default linear interpolation.

Spearman and Pearson replicates are computed from the original data with multiplicity
weights (``blocks``: no re-sorting, all replicates of a block of items at once); they equal
the correlations of the explicitly resampled data. Kendall's τ-b is recomputed on each
explicitly resampled data set (its run caps the number of replicates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blocks import FAST_METHODS, block_correlations, item_blocks, nan_percentiles, resample_counts
from .correlation import PaddedRatings, correlate


@dataclass(frozen=True)
class BootstrapCI:
    low: np.ndarray
    high: np.ndarray
    n_resamples: int
    level: float
    seed: int


def bootstrap_ci(
    ratings: PaddedRatings,
    scores: np.ndarray,
    method: str = "spearman",
    *,
    n_resamples: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile CI for every (item, dimension); reproducible for a given ``seed``.

    Replicate b uses the multiplicities ``resample_counts(default_rng(seed), n_raters,
    n_resamples)[b]``: the same draws, in the same order, as one
    ``rng.integers(0, n_raters, n_raters)`` per replicate.
    """
    if n_resamples < 2:
        raise ValueError("n_resamples must be at least 2")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    scores = np.asarray(scores, dtype=float)
    counts = resample_counts(np.random.default_rng(seed), scores.shape[0], n_resamples)
    tail = (1 - level) / 2 * 100
    percentiles = [tail, 100 - tail]
    low = np.full((ratings.n_items, scores.shape[1]), np.nan)
    high = np.full_like(low, np.nan)
    if method in FAST_METHODS:
        for block in item_blocks(ratings):
            replicates = block_correlations(
                block, scores[block.raters], counts[:, block.raters], method
            )
            low[block.items], high[block.items] = nan_percentiles(replicates, percentiles)
    else:
        replicates = np.stack([correlate(ratings.resampled(c), scores, method).r for c in counts])
        low, high = nan_percentiles(replicates, percentiles)
    return BootstrapCI(low=low, high=high, n_resamples=n_resamples, level=level, seed=seed)
