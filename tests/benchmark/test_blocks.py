"""Weighted-rank replicates (``benchmark.stats.blocks``) against explicit resampling and scipy."""

import warnings

import numpy as np
import pytest
from scipy import stats

from benchmark.stats.blocks import (
    block_correlations,
    item_blocks,
    nan_percentiles,
    resample_counts,
    tie_groups,
    weighted_centred_ranks,
)
from benchmark.stats.bootstrap import bootstrap_ci
from benchmark.stats.correlation import PaddedRatings, correlate

NAN = np.nan


def _ragged_study(seed: int, n_raters: int = 30, n_items: int = 12, n_dims: int = 3):
    """Two survey groups of raters, a few skipped ratings, a few missing scores; 1-6 ratings
    (many ties) and scores rounded to halves (ties there too)."""
    rng = np.random.default_rng(seed)
    matrix = np.full((n_raters, n_items), NAN)
    half_r, half_i = n_raters // 2, n_items // 2
    matrix[:half_r, :half_i] = rng.integers(1, 7, (half_r, half_i))
    matrix[half_r:, half_i:] = rng.integers(1, 7, (n_raters - half_r, n_items - half_i))
    matrix[rng.integers(0, n_raters, 4), rng.integers(0, n_items, 4)] = NAN  # skipped items
    matrix[0, half_i:] = rng.integers(1, 7, n_items - half_i)  # one rater in both groups
    scores = np.round(rng.normal(size=(n_raters, n_dims)) * 2) / 2
    scores[3, :] = NAN  # a rater without any score
    scores[5, 1] = NAN  # a rater missing one dimension
    return PaddedRatings.from_dense(matrix), matrix, scores


def _explicit(matrix, scores, counts, item, dim, method):
    """scipy on the data with rater j repeated counts[j] times (the definition)."""
    x = np.repeat(matrix[:, item], counts)
    y = np.repeat(scores[:, dim], counts)
    keep = ~np.isnan(x) & ~np.isnan(y)
    if keep.sum() < 2:
        return NAN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        function = stats.spearmanr if method == "spearman" else stats.pearsonr
        return function(x[keep], y[keep]).statistic


def test_weighted_ranks_equal_rankdata_of_the_repeated_values():
    values = np.array([[3.0, 1.0, 3.0, 2.0, 1.0, 3.0]])
    weights = np.array([[2, 0, 1, 3, 1, 1], [1, 1, 1, 1, 1, 1]], float)
    ranks, squares = weighted_centred_ranks(tie_groups(values), weights)
    for b in range(2):
        repeated = np.repeat(values[0], weights[b].astype(int))
        expected = stats.rankdata(repeated) - (len(repeated) + 1) / 2
        drawn = weights[b] > 0
        got = np.repeat(ranks[b, 0][drawn], weights[b][drawn].astype(int))
        np.testing.assert_array_equal(got, expected)
        assert squares[b, 0] == (expected**2).sum()


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_block_correlations_equal_scipy_on_explicitly_resampled_data(method):
    padded, matrix, scores = _ragged_study(seed=1)
    rng = np.random.default_rng(2)
    counts = resample_counts(rng, matrix.shape[0], 6)
    counts[0] = 1  # the original data
    counts[1, :] = 0
    counts[1, :2] = 1  # two raters: r is ±1 or undefined
    got = np.full((len(counts), padded.n_items, scores.shape[1]), NAN)
    blocks = item_blocks(padded)
    assert sum(len(block.items) for block in blocks) == padded.n_items
    for block in blocks:
        # every item of a block is rated by exactly the block's raters
        np.testing.assert_array_equal(
            ~np.isnan(matrix[:, block.items]).T,
            np.broadcast_to(
                np.isin(np.arange(matrix.shape[0]), block.raters),
                (len(block.items), matrix.shape[0]),
            ),
        )
        got[:, block.items] = block_correlations(
            block, scores[block.raters], counts[:, block.raters], method
        )
    compared = 0
    for b, c in enumerate(counts):
        for item in range(padded.n_items):
            for dim in range(scores.shape[1]):
                expected = _explicit(matrix, scores, c, item, dim, method)
                if np.isnan(expected):
                    assert np.isnan(got[b, item, dim]), (b, item, dim)
                else:
                    assert abs(got[b, item, dim] - expected) <= 1e-12, (b, item, dim)
                    compared += 1
    assert compared > 150
    # the unweighted replicate is the point estimate
    np.testing.assert_allclose(got[0], correlate(padded, scores, method).r, atol=1e-12, rtol=0)


def test_permuted_profiles_equal_correlate_on_permuted_scores():
    padded, matrix, scores = _ragged_study(seed=3)
    rng = np.random.default_rng(4)
    permutations = np.stack([rng.permutation(matrix.shape[0]) for _ in range(5)])
    got = np.full((5, padded.n_items, scores.shape[1]), NAN)
    for block in item_blocks(padded):
        got[:, block.items] = block_correlations(
            block, scores[permutations[:, block.raters]], np.ones((1, len(block.raters)))
        )
    for b, permutation in enumerate(permutations):
        expected = correlate(padded, scores[permutation]).r
        np.testing.assert_allclose(got[b], expected, atol=1e-12, rtol=0)


def _slow_bootstrap(ratings, scores, method, n_resamples, level, seed):
    """The bootstrap as it was: re-rank explicitly resampled data per replicate."""
    rng = np.random.default_rng(seed)
    n_raters = scores.shape[0]
    replicates = np.empty((n_resamples, ratings.n_items, scores.shape[1]))
    for b in range(n_resamples):
        counts = np.bincount(rng.integers(0, n_raters, n_raters), minlength=n_raters)
        replicates[b] = correlate(ratings.resampled(counts), scores, method).r
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(replicates, [tail, 100 - tail], axis=0)


@pytest.mark.parametrize("method", ["spearman", "pearson", "kendall"])
def test_bootstrap_equals_the_explicit_resampling_reference(method):
    padded, _, scores = _ragged_study(seed=5, n_raters=16, n_items=8)
    fast = bootstrap_ci(padded, scores, method, n_resamples=40, level=0.9, seed=7)
    low, high = _slow_bootstrap(padded, scores, method, 40, 0.9, 7)
    assert np.isfinite(low).sum() > 10
    np.testing.assert_allclose(fast.low, low, atol=1e-12, rtol=0)
    np.testing.assert_allclose(fast.high, high, atol=1e-12, rtol=0)
    np.testing.assert_array_equal(np.isnan(fast.low), np.isnan(low))


def test_resample_counts_are_the_per_replicate_draws():
    counts = resample_counts(np.random.default_rng(9), 25, 4)
    rng = np.random.default_rng(9)
    for row in counts:
        np.testing.assert_array_equal(row, np.bincount(rng.integers(0, 25, 25), minlength=25))


def test_nan_percentiles_equal_numpy():
    rng = np.random.default_rng(6)
    values = rng.normal(size=(21, 5, 4))
    values[rng.random(values.shape) < 0.3] = NAN
    values[:, 0, 0] = NAN  # nothing valid
    values[:, 0, 1] = NAN
    values[3, 0, 1] = 0.25  # one valid value
    values[:, 1, 2] = 0.5  # constant
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for q in ([2.5, 97.5], [0, 50, 100], [5]):
            for axis in (0, 2):
                np.testing.assert_array_equal(
                    nan_percentiles(values, q, axis=axis), np.nanpercentile(values, q, axis=axis)
                )
    with pytest.raises(ValueError):
        nan_percentiles(values, [101])
