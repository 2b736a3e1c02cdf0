"""How many raters an item needs to detect a correlation (Fisher z approximation)."""

from __future__ import annotations

import numpy as np
from scipy import stats


def raters_required(r: float = 0.3, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest n with the given power to detect |ρ| = r in a two-sided test at ``alpha``.

    n = ((z₁₋α/₂ + z_power) / atanh(r))² + 3, rounded up (Cohen 1988; r = 0.3, α = .05,
    power .8 gives 85).
    """
    if not 0 < r < 1:
        raise ValueError("r must be in (0, 1)")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be in (0, 1)")
    z = stats.norm.isf(alpha / 2) + stats.norm.ppf(power)
    return int(np.ceil((z / np.arctanh(r)) ** 2 + 3))


def raters_still_needed(n: np.ndarray, required: int) -> np.ndarray:
    """Per item: how many more raters it needs to reach ``required`` (0 when reached)."""
    return np.maximum(required - np.asarray(n, dtype=np.int64), 0)


def achieved_power(n: np.ndarray, r: float = 0.3, alpha: float = 0.05) -> np.ndarray:
    """Power of a two-sided test at ``alpha`` to detect |ρ| = r with n raters (Fisher z)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        shift = np.arctanh(r) * np.sqrt(np.clip(n - 3, 0, None))
    z = stats.norm.isf(alpha / 2)
    power = stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift)
    return np.where(n > 3, power, np.nan)
