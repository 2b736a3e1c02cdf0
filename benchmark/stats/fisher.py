"""Do two independent correlations differ? Fisher's z test (pure numpy/scipy, vectorised).

For two languages' correlations of the same item with the same dimension, each from its
own raters: ``z = (atanh r1 − atanh r2) / sqrt(se1² + se2²)`` with two-sided p from the
normal distribution. For Pearson r the standard error of ``atanh r`` is ``1/sqrt(n − 3)``;
for Spearman's r it is ``sqrt(1.06 / (n − 3))`` (Fieller, Hartley & Pearson, 1957, the
usual correction: ranks make atanh r a little more variable). Where a correlation is
undefined, |r| = 1, or a sample has fewer than 4 raters, z and p are NaN (the caller decides
whether a sample is large enough to report at all: ``benchmark.minimums``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

VARIANCE_FACTOR = {"spearman": 1.06, "pearson": 1.0}


@dataclass(frozen=True)
class CorrelationDifference:
    z: np.ndarray
    p: np.ndarray  # two-sided


def fisher_z(r) -> np.ndarray:
    """``atanh(r)``; NaN where r is NaN or |r| ≥ 1 (no finite transform)."""
    values = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.arctanh(values)
    return np.where(np.abs(values) < 1, z, np.nan)


def standard_error(n, method: str = "spearman") -> np.ndarray:
    """The standard error of ``atanh r`` from ``n`` raters; NaN below 4 raters."""
    if method not in VARIANCE_FACTOR:
        raise ValueError(f"no Fisher z standard error for {method!r}; use spearman or pearson")
    count = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(VARIANCE_FACTOR[method] / (count - 3))
    return np.where(count > 3, se, np.nan)


def compare_correlations(r1, n1, r2, n2, *, method: str = "spearman") -> CorrelationDifference:
    """Test r1 = r2 for correlations from independent samples of n1 and n2 raters
    (arrays broadcast together)."""
    se = np.hypot(standard_error(n1, method), standard_error(n2, method))
    z = (fisher_z(r1) - fisher_z(r2)) / se
    p = 2 * stats.norm.sf(np.abs(z))
    return CorrelationDifference(z=z, p=p)
