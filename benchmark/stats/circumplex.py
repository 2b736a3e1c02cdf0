"""Does an item's profile of correlations follow Schwartz's circle? (pure numpy)

For an item correlated with the ten values in circle order, its *best-matching value* is
the one with the largest r. The circular structure holds when both neighbours of that value
on the circle correlate positively and the values opposite it (circular distance 4 or 5 of
10) correlate negatively. ``fit`` is the Pearson correlation of the item's r with
cos(2π·distance/10) from its best value over the values whose r is defined (a missing r
leaves its column out of both the centring and the normalisation): near 1 for a clean
sinusoid around the circle; NaN when fewer than two r are defined or one side is constant.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CircularStructure:
    best: np.ndarray  # index into the circle, -1 when the item has no defined r
    neighbours_positive: np.ndarray
    opposites_negative: np.ndarray
    holds: np.ndarray
    fit: np.ndarray


def circular_distance(size: int) -> np.ndarray:
    idx = np.arange(size)
    diff = np.abs(idx[:, None] - idx[None, :])
    return np.minimum(diff, size - diff)


def circular_structure(r: np.ndarray) -> CircularStructure:
    """``r``: (n_items, n_values) correlations, columns in circle order (NaN allowed)."""
    r = np.asarray(r, dtype=float)
    n_items, size = r.shape
    if size < 5:
        raise ValueError("a circle needs at least 5 values")
    defined = ~np.isnan(r).all(axis=1)
    best = np.where(defined, np.nanargmax(np.where(np.isnan(r), -np.inf, r), axis=1), -1)
    distance = circular_distance(size)[np.clip(best, 0, None)]  # (n_items, size)
    neighbours = distance == 1
    opposites = distance >= size // 2 - 1
    neighbours_positive = np.where(neighbours, r > 0, True).all(axis=1) & defined
    opposites_negative = np.where(opposites, r < 0, True).all(axis=1) & defined
    pattern = np.cos(2 * np.pi * distance / size)
    # Pearson r over the defined values only: both the item's r and the cosine pattern are
    # centred and normalised over the same positions (a missing r drops its pattern value).
    present = ~np.isnan(r)
    count = present.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # items without any r stay NaN
        rc = np.where(present, r - np.nanmean(r, axis=1, keepdims=True), 0.0)
        pattern_mean = np.where(present, pattern, 0.0).sum(axis=1, keepdims=True) / count
        pc = np.where(present, pattern - pattern_mean, 0.0)
        fit = (rc * pc).sum(axis=1) / np.sqrt((rc**2).sum(axis=1) * (pc**2).sum(axis=1))
    fit[~defined] = np.nan
    return CircularStructure(
        best=best,
        neighbours_positive=neighbours_positive,
        opposites_negative=opposites_negative,
        holds=neighbours_positive & opposites_negative,
        fit=fit,
    )
