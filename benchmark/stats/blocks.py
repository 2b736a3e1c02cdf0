"""Correlations of many reweighted or reshuffled copies of the same ratings, without re-sorting.

A bootstrap replicate that draws raters with replacement is the original data with an integer
*multiplicity weight* per rater (0 = not drawn, 2 = drawn twice, ...). Spearman's r of the
explicitly resampled data is the weighted Pearson correlation of *weighted mid-ranks*, and
those come from the original sort order: walking a row's values in ascending order, the
mid-rank of a value v is ``(weight of entries < v) + (weight of entries == v + 1) / 2``, i.e.
two cumulative sums over the sorted weights. Sorting happens once; each replicate costs a
gather, a cumulative sum and a matrix product. A permutation of value profiles among raters
(chance estimates) is the same computation with all weights 1 and reshuffled scores.

To vectorise, items are grouped into **blocks**: items rated by exactly the same raters (a
survey group of the release). Within a block the ratings form a dense items × raters matrix
and the raters' scores one raters × dimensions matrix, so for all replicates at once the
ranks are ``(replicates, items, raters)`` and ``(replicates, dimensions, raters)`` arrays and
every r of the block is one batched matrix product. Python loops run over blocks (and over
groups of dimensions sharing a pattern of missing scores), never over items, pairs or
replicates.

Centred mid-ranks are half-integers when the weights are integers, so the sums of products
are exact in floating point; the results equal ``scipy.stats.spearmanr`` on the explicitly
resampled data to rounding of the final division (tests: below 1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .correlation import PaddedRatings
from .ranks import rank_rows

FAST_METHODS = ("spearman", "pearson")


@dataclass(frozen=True)
class TieGroups:
    """The tie groups of each row of a (k, m) matrix: ``codes[i, j]`` numbers entry j's group
    within row i (0 = smallest value, in ascending order, at most ``n_groups``);
    ``indicator`` (sparse, k · n_groups × m) is 1 where entry j of row i belongs to group g
    (row ``i · n_groups + g``), so that ``indicator @ weights.T`` sums each group's weights."""

    codes: np.ndarray
    n_groups: int
    indicator: np.ndarray


def tie_groups(values: np.ndarray) -> TieGroups:
    """Tie groups along the rows of a 2-D ``values`` (no NaN)."""
    values = np.asarray(values, dtype=float)
    k, m = values.shape
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    starts = np.ones((k, m), dtype=np.int64)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    codes = np.empty((k, m), dtype=np.int64)
    np.put_along_axis(codes, order, np.cumsum(starts, axis=1) - 1, axis=1)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    # (group column, entry) pairs as a sparse matrix: summing weights per group costs one
    # multiply-add per entry (a dense product would multiply mostly zeros, and would hand
    # small products to a multithreaded BLAS, which is slow on a busy machine).
    indicator = sparse.csr_array(
        (
            np.ones(k * m),
            ((codes + (np.arange(k) * n_groups)[:, None]).ravel(), np.tile(np.arange(m), k)),
        ),
        shape=(k * n_groups, m),
    )
    return TieGroups(codes=codes, n_groups=n_groups, indicator=indicator)


def weighted_centred_ranks(groups: TieGroups, weights: np.ndarray):
    """Mid-ranks minus their mean, of every row under every set of multiplicity weights.

    ``weights``: ``(B, m)``, one weight per column. The rank a value gets among its row's
    data with every entry repeated ``weight`` times (ties averaged) is, for its tie group g,
    ``(weight of the groups below g) + (weight of g + 1) / 2``: a cumulative sum over the
    groups' total weights, no re-sorting. Returns ``(ranks, sum_of_squares)``: ``(B, k, m)``
    centred ranks (rank − (N + 1) / 2, N the row's total weight; entries of weight 0 get a
    finite number to be multiplied by their weight) and ``(B, k)`` Σ weight · rank².
    """
    weights = np.asarray(weights, dtype=float)
    n_replicates, m = weights.shape
    k, g = groups.codes.shape[0], groups.n_groups
    totals = np.ascontiguousarray((groups.indicator @ weights.T).T).reshape(n_replicates, k, g)
    through = np.cumsum(totals, axis=-1)
    centred = through - (totals + through[..., -1:]) / 2.0
    sum_of_squares = (totals * centred * centred).sum(axis=-1)
    positions = (groups.codes + (np.arange(k) * g)[:, None]).ravel()
    ranks = np.take(centred.reshape(n_replicates, k * g), positions, axis=1)
    return ranks.reshape(n_replicates, k, m), sum_of_squares


def _unit_centred_ranks(values: np.ndarray, weights: np.ndarray):
    """Like ``weighted_centred_ranks`` for rows that differ per replicate (``values``
    (B, d, m)) with weights that are all 0 or 1: ranks among the entries of weight 1."""
    if ((weights != 0) & (weights != 1)).any():
        raise ValueError("per-replicate scores need weights of 0 or 1 (a permutation)")
    kept = np.where(weights[:, None, :] == 1, values, np.nan)
    ranks = rank_rows(kept.reshape(-1, values.shape[-1])).reshape(values.shape)
    count = weights.sum(axis=-1)[:, None, None]
    centred = np.nan_to_num(ranks - (count + 1) / 2)
    return centred, (centred * centred).sum(axis=-1)


@dataclass(frozen=True)
class ItemBlock:
    """Items rated by exactly the same raters: ``values[i, j]`` is item ``items[i]``'s rating
    by rater ``raters[j]`` (rows of the ``PaddedRatings`` and of the score matrix)."""

    items: np.ndarray
    raters: np.ndarray
    values: np.ndarray
    groups: TieGroups


def item_blocks(ratings: PaddedRatings) -> list[ItemBlock]:
    """Group the items of ``ratings`` by their set of raters (items without ratings: none)."""
    raters = ratings.raters
    if raters.size == 0:
        return []
    slot_order = np.argsort(raters, axis=1, kind="stable")  # empty slots (-1) first
    sorted_raters = np.take_along_axis(raters, slot_order, axis=1)
    sorted_values = np.take_along_axis(ratings.values, slot_order, axis=1)
    keys, block_of_item = np.unique(sorted_raters, axis=0, return_inverse=True)
    block_of_item = block_of_item.ravel()
    members = np.argsort(block_of_item, kind="stable")
    bounds = np.searchsorted(block_of_item[members], np.arange(len(keys) + 1))
    blocks = []
    for b, key in enumerate(keys):
        filled = key >= 0
        if not filled.any():
            continue
        items = members[bounds[b] : bounds[b + 1]]
        values = sorted_values[items][:, filled]
        blocks.append(
            ItemBlock(items=items, raters=key[filled], values=values, groups=tie_groups(values))
        )
    return blocks


def _dimension_groups(valid: np.ndarray) -> list[np.ndarray]:
    """Dimensions sharing one pattern of present scores (the last axis of ``valid``)."""
    flat = valid.reshape(-1, valid.shape[-1]).T
    _, group = np.unique(flat, axis=0, return_inverse=True)
    group = group.ravel()
    return [np.nonzero(group == g)[0] for g in range(group.max() + 1)] if len(group) else []


def _weighted_r(x, sxx, y, syy, weights) -> np.ndarray:
    """r of centred ``x`` (B, k, m) with centred ``y`` (B, d, m) under ``weights`` (B, m);
    ``sxx`` (B, k) and ``syy`` (B, d) their weighted sums of squares."""
    sxy = np.matmul(x, np.swapaxes(y * weights[:, None, :], -1, -2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(syy)[:, None, :] / np.sqrt(sxx)[:, :, None]
    r = np.clip(r, -1.0, 1.0)
    undefined = (sxx == 0)[:, :, None] | (syy == 0)[:, None, :]
    undefined |= (weights.sum(axis=1) < 2)[:, None, None]
    r[undefined] = np.nan
    return r


def _weighted_centre(values: np.ndarray, weights: np.ndarray):
    """``values`` (B or 1, k, m) minus their weighted mean per row, and Σ weight · value²."""
    w = weights[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (values * w).sum(axis=-1, keepdims=True) / w.sum(axis=-1, keepdims=True)
    centred = np.nan_to_num(values - mean)
    return centred, (centred * centred * w).sum(axis=-1)


def block_correlations(
    block: ItemBlock,
    scores: np.ndarray,
    weights: np.ndarray,
    method: str = "spearman",
) -> np.ndarray:
    """r of every item of ``block`` with every dimension, for every replicate.

    ``scores``: the block raters' scores, ``(m, D)``, or one set per replicate ``(B, m, D)``
    (a permutation of value profiles; weights must then be 0 or 1), NaN where missing;
    ``weights``: ``(B, m)`` multiplicity of each block rater per replicate (``(1, m)`` of
    ones with permuted scores). A pair uses the raters with a score on the dimension, each
    counted ``weight`` times. Returns ``(B, k, D)``: what ``correlate`` (Spearman or
    Pearson) gives on the explicitly resampled data, to rounding.
    """
    if method not in FAST_METHODS:
        raise ValueError(f"method must be one of {FAST_METHODS}, not {method!r}")
    scores = np.asarray(scores, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n_replicates = max(weights.shape[0], scores.shape[0] if scores.ndim == 3 else 1)
    weights = np.broadcast_to(weights, (n_replicates, weights.shape[1]))
    out = np.full((n_replicates, len(block.items), scores.shape[-1]), np.nan)
    valid = ~np.isnan(scores)
    filled = np.where(valid, scores, 0.0)
    for dims in _dimension_groups(valid):
        effective = weights * valid[..., dims[0]]  # (B, m)
        columns = np.swapaxes(filled[..., dims], -1, -2)  # (d, m) or (B, d, m)
        if method == "pearson":
            x, sxx = _weighted_centre(block.values[None], effective)
            y, syy = _weighted_centre(columns if columns.ndim == 3 else columns[None], effective)
        else:
            x, sxx = weighted_centred_ranks(block.groups, effective)
            if columns.ndim == 2:
                y, syy = weighted_centred_ranks(tie_groups(columns), effective)
            else:
                y, syy = _unit_centred_ranks(columns, effective)
        out[:, :, dims] = _weighted_r(x, sxx, y, syy, effective)
    return out


def resample_counts(rng: np.random.Generator, n_raters: int, n_resamples: int) -> np.ndarray:
    """(n_resamples, n_raters) multiplicities: each row draws n_raters raters with replacement.

    Draws ``rng.integers(0, n_raters, n_raters)`` for one replicate after the other (the same
    stream as drawing them one call per replicate).
    """
    draws = rng.integers(0, n_raters, (n_resamples, n_raters))
    offsets = np.arange(n_resamples)[:, None] * n_raters
    return np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_raters).reshape(
        n_resamples, n_raters
    )


def nan_percentiles(values: np.ndarray, q, axis: int = 0) -> np.ndarray:
    """``numpy.nanpercentile(values, q, axis=axis)`` (linear method), vectorised.

    numpy handles NaN along an axis one slice at a time (``apply_along_axis``); this sorts
    once and interpolates between the neighbouring valid values of every slice together,
    with numpy's own index and interpolation formulas, so the results are identical. Slices
    without a valid value give NaN. Returns ``(len(q), ...)``.
    """
    moved = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    ordered = np.sort(moved, axis=0)  # NaN last
    count = (~np.isnan(moved)).sum(axis=0)
    quantiles = np.true_divide(np.atleast_1d(q), 100)
    if ((quantiles < 0) | (quantiles > 1)).any():
        raise ValueError("percentiles must be in the range [0, 100]")
    out = np.empty((len(quantiles),) + ordered.shape[1:])
    last = np.maximum(count - 1, 0)
    for k, quantile in enumerate(quantiles):  # one pass per requested percentile
        virtual = (count - 1) * quantile
        previous = np.floor(virtual)
        above = virtual >= count - 1
        low_index = np.where(above, last, previous).astype(np.intp).clip(0)
        high_index = np.where(above, last, previous + 1).astype(np.intp).clip(0)
        gamma = virtual - previous
        low = np.take_along_axis(ordered, low_index[None], axis=0)[0]
        high = np.take_along_axis(ordered, high_index[None], axis=0)[0]
        difference = high - low
        result = low + difference * gamma
        result = np.where(gamma >= 0.5, high - difference * (1 - gamma), result)
        out[k] = np.where(count > 0, result, np.nan)
    return out
