"""Reliability of a scale: Cronbach's α (Feldt CI), corrected item–total r, standardised α.

``cronbach_alpha`` and ``corrected_item_total`` need complete cases (rows with a NaN are
dropped, as ``pingouin.cronbach_alpha(nan_policy="listwise")``). When no rater answered all
items of a scale (items spread over survey groups), ``standardised_alpha`` estimates the
reliability of the whole k-item scale from the mean pairwise-complete inter-item correlation
(Spearman–Brown: k·r̄ / (1 + (k−1)·r̄)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Alpha:
    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int


def _complete(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError("expected a 2-D array (respondents × items)")
    return matrix[~np.isnan(matrix).any(axis=1)]


def cronbach_alpha(matrix: np.ndarray, ci: float = 0.95) -> Alpha:
    """α = k/(k−1)·(1 − Σ var(item) / var(total)), sample variances; Feldt (1965) CI."""
    data = _complete(matrix)
    n, k = data.shape
    if k < 2 or n < 2:
        return Alpha(np.nan, np.nan, np.nan, n, k)
    total_var = data.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return Alpha(np.nan, np.nan, np.nan, n, k)
    alpha = k / (k - 1) * (1 - data.var(axis=0, ddof=1).sum() / total_var)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * stats.f.isf((1 - ci) / 2, df1, df2)
    high = 1 - (1 - alpha) * stats.f.isf(1 - (1 - ci) / 2, df1, df2)
    return Alpha(float(alpha), float(low), float(high), n, k)


def corrected_item_total(matrix: np.ndarray) -> np.ndarray:
    """Pearson r of each item with the sum of the *other* items (complete cases)."""
    data = _complete(matrix)
    n, k = data.shape
    if k < 2 or n < 3:
        return np.full(k, np.nan)
    rest = data.sum(axis=1, keepdims=True) - data
    xc, yc = data - data.mean(axis=0), rest - rest.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=0) / np.sqrt((xc**2).sum(axis=0) * (yc**2).sum(axis=0))


def standardised_alpha(matrix: np.ndarray, min_pairs: int = 10) -> tuple[float, float, int]:
    """Spearman–Brown α from the mean pairwise-complete inter-item Pearson r.

    Item pairs with fewer than ``min_pairs`` common respondents are skipped. Returns
    ``(alpha, mean_r, n_item_pairs_used)``; NaN when no pair qualifies.
    """
    data = np.asarray(matrix, dtype=float)
    k = data.shape[1]
    present = ~np.isnan(data)
    filled = np.where(present, data, 0.0)
    common = present.T.astype(float) @ present.astype(float)
    sx = filled.T @ present  # sum of item i over respondents who also answered j
    sxx = (filled**2).T @ present
    sxy = filled.T @ filled
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / common
        var_i = sxx - sx**2 / common
        r = cov / np.sqrt(var_i * var_i.T)
    upper = np.triu(np.ones((k, k), dtype=bool), k=1) & (common >= min_pairs) & np.isfinite(r)
    if not upper.any():
        return float("nan"), float("nan"), 0
    mean_r = float(r[upper].mean())
    return float(k * mean_r / (1 + (k - 1) * mean_r)), mean_r, int(upper.sum())


def most_shared_respondents(matrix: np.ndarray) -> int:
    """The largest number of respondents any two items (columns) have in common (0 for k < 2)."""
    present = ~np.isnan(np.asarray(matrix, dtype=float))
    if present.shape[1] < 2:
        return 0
    common = present.T.astype(np.int64) @ present.astype(np.int64)
    return int(common[np.triu_indices(present.shape[1], k=1)].max())
