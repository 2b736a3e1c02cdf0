"""Item × dimension correlations over ragged rating data, vectorised (pure numpy/scipy).

Each item is rated by its own subset of raters, so the data are held as a *padded* matrix:
one row per item, one column per rating slot (``PaddedRatings.values``, NaN where the slot is
empty) and the index of the rater in each slot (``PaddedRatings.raters``, -1 where empty).
A rater's scores (``scores``: raters × dimensions, NaN where missing) are gathered into the
same shape, so every statistic is computed for all items at once with row-wise numpy
operations; the only Python loop is over dimensions (19 in the paper), never over pairs.

A pair uses the raters who rated the item *and* have a score on the dimension; ``n`` counts
them. Results equal ``scipy.stats`` on each pair's data (to floating-point rounding of the
sums, below 1e-12):

- Spearman: ``spearmanr`` — Pearson correlation of average ranks computed as
  ``numpy.corrcoef`` does, p from Student's t with n − 2 degrees of freedom
  (``t = r·sqrt((n−2)/((r+1)(1−r)))``, ``p = 2·stdtr(n−2, −|t|)``);
- Pearson: ``pearsonr`` — p from the beta distribution on (−1, 1) with a = b = n/2 − 1;
- Kendall τ-b: ``kendalltau`` (method "auto") — asymptotic normal p with the tie-corrected
  variance; the few tie-free pairs where scipy uses the exact distribution (n ≤ 33, or
  almost all pairs concordant/discordant) are handed to ``scipy.stats.kendalltau`` itself.

Undefined cases follow scipy: a constant input gives r = p = NaN; fewer than 2 raters give
NaN; with 2 raters r is ±1 (Spearman/Pearson) and p is NaN (Spearman) or 1 (Pearson).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .ranks import rank_rows

METHODS = ("spearman", "pearson", "kendall")


@dataclass(frozen=True)
class PaddedRatings:
    """Ratings of ``n_items`` items: ``values[i, k]`` by rater ``raters[i, k]`` (-1: empty)."""

    values: np.ndarray
    raters: np.ndarray

    @property
    def n_items(self) -> int:
        return self.values.shape[0]

    @classmethod
    def from_long(
        cls,
        item_index: np.ndarray,
        rater_index: np.ndarray,
        rating: np.ndarray,
        n_items: int,
    ) -> PaddedRatings:
        """Build from one entry per rating: item row (0..n_items-1), rater row, value."""
        item_index = np.asarray(item_index, dtype=np.int64)
        rater_index = np.asarray(rater_index, dtype=np.int64)
        rating = np.asarray(rating, dtype=float)
        if not (len(item_index) == len(rater_index) == len(rating)):
            raise ValueError("item_index, rater_index and rating must have the same length")
        if len(item_index) and (item_index.min() < 0 or item_index.max() >= n_items):
            raise ValueError("item_index outside 0..n_items-1")
        order = np.argsort(item_index, kind="stable")
        item_sorted = item_index[order]
        counts = np.bincount(item_sorted, minlength=n_items)
        width = int(counts.max()) if len(counts) and counts.size else 0
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        slot = np.arange(len(item_sorted)) - starts[item_sorted]
        values = np.full((n_items, width), np.nan)
        raters = np.full((n_items, width), -1, dtype=np.int64)
        values[item_sorted, slot] = rating[order]
        raters[item_sorted, slot] = rater_index[order]
        return cls(values=values, raters=raters)

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> PaddedRatings:
        """Build from a raters × items matrix with NaN where an item was not rated."""
        matrix = np.asarray(matrix, dtype=float)
        # nonzero on the transpose walks item by item, raters in order within an item
        item_index, rater_index = np.nonzero(~np.isnan(matrix.T))
        return cls.from_long(
            item_index, rater_index, matrix[rater_index, item_index], matrix.shape[1]
        )

    def resampled(self, counts: np.ndarray) -> PaddedRatings:
        """The ratings of a bootstrap sample: rater j appears ``counts[j]`` times."""
        filled = self.raters >= 0
        item_index = np.nonzero(filled)[0]
        rater_index = self.raters[filled]
        rating = self.values[filled]
        repeats = counts[rater_index]
        return PaddedRatings.from_long(
            np.repeat(item_index, repeats),
            np.repeat(rater_index, repeats),
            np.repeat(rating, repeats),
            self.n_items,
        )


@dataclass(frozen=True)
class CorrelationResult:
    """``r``, ``p`` (float) and ``n`` (int): arrays of shape (n_items, n_dimensions)."""

    r: np.ndarray
    p: np.ndarray
    n: np.ndarray


def _gather_scores(raters: np.ndarray, column: np.ndarray) -> np.ndarray:
    gathered = column[np.clip(raters, 0, None)]
    gathered[raters < 0] = np.nan
    return gathered


def _row_sums(values: np.ndarray) -> np.ndarray:
    return values.sum(axis=1)


def _corrcoef_rows(x: np.ndarray, y: np.ndarray, mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Row-wise correlation as ``numpy.corrcoef`` computes it (covariance / std / std)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = np.where(mask, x - (_row_sums(np.where(mask, x, 0.0)) / n)[:, None], 0.0)
        ym = np.where(mask, y - (_row_sums(np.where(mask, y, 0.0)) / n)[:, None], 0.0)
        factor = 1.0 / (n - 1)
        cxy = _row_sums(xm * ym) * factor
        cxx = _row_sums(xm * xm) * factor
        cyy = _row_sums(ym * ym) * factor
        r = cxy / np.sqrt(cyy) / np.sqrt(cxx)
    constant = (cxx == 0) | (cyy == 0)
    r = np.clip(r, -1.0, 1.0)
    r[constant | (n < 2)] = np.nan
    return r


def _pearsonr_rows(x: np.ndarray, y: np.ndarray, mask: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Row-wise correlation as ``scipy.stats.pearsonr`` computes it (normalised vectors)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = np.where(mask, x - (_row_sums(np.where(mask, x, 0.0)) / n)[:, None], 0.0)
        ym = np.where(mask, y - (_row_sums(np.where(mask, y, 0.0)) / n)[:, None], 0.0)
        xmax = np.abs(xm).max(axis=1)[:, None]
        ymax = np.abs(ym).max(axis=1)[:, None]
        normx = xmax * np.sqrt(_row_sums((xm / xmax) ** 2))[:, None]
        normy = ymax * np.sqrt(_row_sums((ym / ymax) ** 2))[:, None]
        r = _row_sums((xm / normx) * (ym / normy))
    constant = (xmax[:, 0] == 0) | (ymax[:, 0] == 0)
    r = np.clip(r, -1.0, 1.0)
    r[constant | (n < 2)] = np.nan
    return r


def spearman_p(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p of Spearman's r as ``scipy.stats.spearmanr`` (Student's t, n − 2 df)."""
    r = np.asarray(r, dtype=float)
    dof = np.asarray(n, dtype=float) - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt((dof / ((r + 1.0) * (1.0 - r))).clip(0))
        p = 2 * special.stdtr(dof, -np.abs(t))
    return np.where(dof >= 1, p, np.nan)


def pearson_p(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p of Pearson's r as ``scipy.stats.pearsonr`` (beta distribution)."""
    r = np.asarray(r, dtype=float)
    n = np.asarray(n, dtype=float)
    ab = n / 2 - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * special.betaincc(ab, ab, (np.abs(r) + 1) / 2)
    p = np.where(n == 2, np.where(np.isnan(r), np.nan, 1.0), p)
    return np.where(n >= 2, p, np.nan)


def _kendall_rows(x: np.ndarray, y: np.ndarray, mask: np.ndarray, n: np.ndarray):
    """τ-b and its p for each row (one chunk of items); see the module docstring."""
    width = x.shape[1]
    upper = np.triu(np.ones((width, width), dtype=bool), k=1)
    pair = mask[:, :, None] & mask[:, None, :]
    with np.errstate(invalid="ignore"):
        dx = np.sign(x[:, :, None] - x[:, None, :])
        dy = np.sign(y[:, :, None] - y[:, None, :])
    counted = pair & upper
    con_minus_dis = np.where(counted, dx * dy, 0.0).sum(axis=(1, 2))
    x_equal, y_equal = pair & (dx == 0), pair & (dy == 0)
    xtie = (x_equal & upper).sum(axis=(1, 2)).astype(float)
    ytie = (y_equal & upper).sum(axis=(1, 2)).astype(float)
    ntie = (x_equal & y_equal & upper).sum(axis=(1, 2)).astype(float)
    # Per element, the size of its tie group; sums over groups of f(c) = sums over
    # elements of f(c)/c.
    tx = np.where(mask, x_equal.sum(axis=2), 1).astype(float)
    ty = np.where(mask, y_equal.sum(axis=2), 1).astype(float)
    x0 = np.where(mask, (tx - 1) * (tx - 2), 0).sum(axis=1)
    y0 = np.where(mask, (ty - 1) * (ty - 2), 0).sum(axis=1)
    x1 = np.where(mask, (tx - 1) * (2 * tx + 5), 0).sum(axis=1)
    y1 = np.where(mask, (ty - 1) * (2 * ty + 5), 0).sum(axis=1)
    tot = n * (n - 1) // 2
    dis = (tot - xtie - ytie + ntie - con_minus_dis) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)
        tau = np.clip(tau, -1.0, 1.0)
        m = n * (n - 1.0)
        var = (m * (2 * n + 5) - x1 - y1) / 18 + (2 * xtie * ytie) / m + x0 * y0 / (9 * m * (n - 2))
        p = 2 * special.ndtr(-np.abs(con_minus_dis / np.sqrt(var)))
    undefined = (n < 2) | (xtie == tot) | (ytie == tot)
    tau[undefined] = np.nan
    p[undefined] = np.nan
    exact = ~undefined & (xtie == 0) & (ytie == 0) & ((n <= 33) | (np.minimum(dis, tot - dis) <= 1))
    for row in np.nonzero(exact)[0]:  # tie-free small samples only: scipy's exact p
        keep = mask[row]
        result = stats.kendalltau(x[row, keep], y[row, keep])
        tau[row], p[row] = result.statistic, result.pvalue
    return tau, p


def correlate(
    ratings: PaddedRatings,
    scores: np.ndarray,
    method: str = "spearman",
    *,
    kendall_chunk: int = 256,
) -> CorrelationResult:
    """Correlate every item's ratings with the raters' scores on every dimension.

    ``scores``: (n_raters, n_dimensions), NaN where a rater has no score; rater indices in
    ``ratings.raters`` index its rows. Returns arrays of shape (n_items, n_dimensions).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError("scores must be a 2-D array (raters × dimensions)")
    if ratings.raters.size and ratings.raters.max() >= scores.shape[0]:
        raise ValueError("a rater index has no row in scores")
    n_items, n_dims = ratings.n_items, scores.shape[1]
    r_out = np.full((n_items, n_dims), np.nan)
    p_out = np.full((n_items, n_dims), np.nan)
    n_out = np.zeros((n_items, n_dims), dtype=np.int64)
    rated = ~np.isnan(ratings.values)
    rating_ranks: dict[bytes, np.ndarray] = {}  # per pattern of missing scores
    for d in range(n_dims):
        y = _gather_scores(ratings.raters, scores[:, d])
        mask = rated & ~np.isnan(y)
        n = mask.sum(axis=1)
        n_out[:, d] = n
        x = np.where(mask, ratings.values, np.nan)
        y = np.where(mask, y, np.nan)
        if method == "spearman":
            pattern = np.isnan(scores[:, d]).tobytes()
            if pattern not in rating_ranks:
                rating_ranks[pattern] = rank_rows(x)
            r = _corrcoef_rows(rating_ranks[pattern], rank_rows(y), mask, n)
            r_out[:, d], p_out[:, d] = r, spearman_p(r, n)
        elif method == "pearson":
            r = _pearsonr_rows(x, y, mask, n)
            r_out[:, d], p_out[:, d] = r, pearson_p(r, n)
        else:
            for start in range(0, n_items, kendall_chunk):
                rows = slice(start, start + kendall_chunk)
                tau, p = _kendall_rows(x[rows], y[rows], mask[rows], n[rows])
                r_out[rows, d], p_out[rows, d] = tau, p
    return CorrelationResult(r=r_out, p=p_out, n=n_out)
