"""Adjusted p-values over a family of tests (pure; wraps ``scipy.stats.false_discovery_control``)."""

from __future__ import annotations

import numpy as np
from scipy import stats

FDR_METHODS = {"bh": "Benjamini–Hochberg", "by": "Benjamini–Yekutieli"}


def adjust_p(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values (``bh`` or ``by``) over all finite entries of ``p``, any shape.

    NaN p-values (undefined correlations) are not tests: they stay NaN and do not count in
    the family size.
    """
    if method not in FDR_METHODS:
        raise ValueError(f"method must be one of {sorted(FDR_METHODS)}, not {method!r}")
    p = np.asarray(p, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        adjusted[finite] = stats.false_discovery_control(p[finite], method=method)
    return adjusted
