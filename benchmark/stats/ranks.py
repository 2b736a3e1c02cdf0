"""Average ranks along the rows of a matrix, ignoring NaN (pure numpy)."""

from __future__ import annotations

import numpy as np


def rank_rows(values: np.ndarray) -> np.ndarray:
    """Rank each row of ``values`` (1 = smallest); ties get the mean of their ranks.

    NaN entries are not ranked and stay NaN; the ranks of a row's other entries are
    1..n over its n non-NaN entries, exactly the values ``scipy.stats.rankdata(row,
    method="average")`` gives for the row without its NaNs. Vectorised over all rows.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError("rank_rows needs a 2-D array")
    n_rows, width = values.shape
    if width == 0:
        return values.copy()
    order = np.argsort(values, axis=1, kind="stable")  # NaN sorts last
    ordered = np.take_along_axis(values, order, axis=1)
    positions = np.broadcast_to(np.arange(width), (n_rows, width))
    # A tie group starts where the value changes; NaN != NaN, so NaNs never join a group.
    starts_group = np.ones((n_rows, width), dtype=bool)
    starts_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends_group = np.ones((n_rows, width), dtype=bool)
    ends_group[:, :-1] = starts_group[:, 1:]
    first = np.maximum.accumulate(np.where(starts_group, positions, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends_group, positions, width - 1)[:, ::-1], axis=1)[
        :, ::-1
    ]
    average = (first + last) / 2.0 + 1.0
    average[np.isnan(ordered)] = np.nan
    ranks = np.empty_like(average)
    np.put_along_axis(ranks, order, average, axis=1)
    return ranks
