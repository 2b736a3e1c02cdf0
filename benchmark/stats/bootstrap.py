"""Bootstrap confidence intervals of item × dimension correlations, resampling participants.

Each replicate draws as many participants as there are (with replacement, seeded) and
recomputes all correlations on their ratings and scores — a participant drawn twice counts
twice for every item they rated. The interval is the percentile interval of the replicates
(NaN replicates, e.g. an item with constant ratings in a draw, are ignored).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

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
    """Percentile CI for every (item, dimension); reproducible for a given ``seed``."""
    if n_resamples < 2:
        raise ValueError("n_resamples must be at least 2")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    rng = np.random.default_rng(seed)
    n_raters = scores.shape[0]
    replicates = np.empty((n_resamples, ratings.n_items, scores.shape[1]))
    for b in range(n_resamples):  # one full vectorised recomputation per replicate
        counts = np.bincount(rng.integers(0, n_raters, n_raters), minlength=n_raters)
        replicates[b] = correlate(ratings.resampled(counts), scores, method).r
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pairs stay NaN
        low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
    return BootstrapCI(low=low, high=high, n_resamples=n_resamples, level=level, seed=seed)
