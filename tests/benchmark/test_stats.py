"""The pure statistics: hand-computed small cases (ties included) and scipy on random data."""

import math

import numpy as np
import pytest
from scipy import stats

from benchmark.stats.bootstrap import bootstrap_ci
from benchmark.stats.circumplex import circular_structure
from benchmark.stats.correlation import PaddedRatings, correlate, spearman_p
from benchmark.stats.multiple import adjust_p
from benchmark.stats.power import achieved_power, raters_required, raters_still_needed
from benchmark.stats.ranks import rank_rows
from benchmark.stats.reliability import (
    corrected_item_total,
    cronbach_alpha,
    standardised_alpha,
)

NAN = np.nan


def _one_item(x, y):
    """One item rated by len(x) raters whose scores on one dimension are y."""
    return PaddedRatings.from_dense(np.array(x, float)[:, None]), np.array(y, float)[:, None]


def test_rank_rows_averages_ties_and_skips_nan():
    ranks = rank_rows(np.array([[3, 1, 2, 2, NAN], [NAN, NAN, 5, 5, 5]]))
    np.testing.assert_array_equal(ranks[0], [4, 1, 2.5, 2.5, NAN])
    np.testing.assert_array_equal(ranks[1], [NAN, NAN, 2, 2, 2])


def test_spearman_by_hand_without_and_with_ties():
    ratings, scores = _one_item([1, 2, 3, 4], [1, 3, 2, 4])
    result = correlate(ratings, scores)
    # rho = 1 - 6·Σd²/(n(n²-1)) = 1 - 12/60; t = 0.8·sqrt(2/0.36); with 2 df p = 1 - t/sqrt(2+t²)
    assert result.r[0, 0] == pytest.approx(0.8, abs=1e-15)
    assert result.p[0, 0] == pytest.approx(0.2, abs=1e-12)
    assert result.n[0, 0] == 4
    ratings, scores = _one_item([1, 2, 2, 3], [1, 2, 3, 4])
    # ranks x = 1, 2.5, 2.5, 4: Σxy = 4.5, Σx² = 4.5, Σy² = 5
    assert correlate(ratings, scores).r[0, 0] == pytest.approx(4.5 / math.sqrt(22.5), abs=1e-15)


def test_pearson_by_hand():
    ratings, scores = _one_item([1, 2, 3], [1, 2, 4])
    result = correlate(ratings, scores, "pearson")
    r = 3 / math.sqrt(2 * 42 / 9)
    assert result.r[0, 0] == pytest.approx(r, abs=1e-15)
    # n = 3: r is arcsine-distributed; p = 2·(1 - (2/π)·asin(sqrt((1 + r)/2)))
    assert result.p[0, 0] == pytest.approx(
        2 * (1 - 2 / math.pi * math.asin(math.sqrt((1 + r) / 2))), abs=1e-12
    )


def test_kendall_tau_b_by_hand_with_ties():
    ratings, scores = _one_item([1, 2, 3], [1, 3, 2])
    assert correlate(ratings, scores, "kendall").r[0, 0] == pytest.approx(1 / 3)
    # x tie in one pair: con - dis = 2, tot = 3, xtie = 1 -> 2 / sqrt(2·3)
    ratings, scores = _one_item([1, 1, 2], [1, 2, 3])
    assert correlate(ratings, scores, "kendall").r[0, 0] == pytest.approx(2 / math.sqrt(6))


def test_undefined_cases_follow_scipy():
    ratings, scores = _one_item([3, 3, 3, 3], [1, 2, 3, 4])  # constant ratings
    result = correlate(ratings, scores)
    assert np.isnan(result.r[0, 0]) and np.isnan(result.p[0, 0])
    ratings, scores = _one_item([1, 2, NAN, NAN], [1, 2, 3, 4])
    result = correlate(ratings, scores)
    expected = stats.spearmanr([1, 2], [1, 2])  # r = 0.9999999999999999 in scipy too
    assert result.n[0, 0] == 2 and result.r[0, 0] == expected.statistic
    assert np.isnan(result.p[0, 0]) and np.isnan(expected.pvalue)
    with pytest.raises(ValueError):
        correlate(ratings, scores, "distance")


def test_raters_without_a_score_are_left_out_of_that_dimension_only():
    ratings = PaddedRatings.from_dense(np.array([[1], [2], [3], [4], [6]], float))
    scores = np.array([[1, 5], [2, 4], [3, 3], [4, 2], [NAN, 9]], float)
    result = correlate(ratings, scores)
    assert result.n[0].tolist() == [4, 5]
    assert result.r[0, 0] == pytest.approx(1.0)
    assert result.r[0, 1] == pytest.approx(stats.spearmanr([1, 2, 3, 4, 6], [5, 4, 3, 2, 9])[0])


@pytest.mark.parametrize(
    ("method", "reference", "tolerance"),
    [
        ("spearman", stats.spearmanr, 1e-14),
        ("pearson", stats.pearsonr, 1e-12),
        ("kendall", stats.kendalltau, 1e-14),
    ],
)
def test_matches_scipy_on_random_sparse_data_with_ties(method, reference, tolerance):
    rng = np.random.default_rng(7)
    n_raters, n_items, n_dims = 120, 40, 4
    matrix = rng.integers(1, 7, (n_raters, n_items)).astype(float)  # ratings 1..6: many ties
    matrix[rng.random((n_raters, n_items)) < 0.6] = NAN
    scores = rng.normal(size=(n_raters, n_dims))
    scores[:, 1] = np.round(scores[:, 1])  # tied scores
    scores[rng.random(n_raters) < 0.1, 2] = NAN
    result = correlate(PaddedRatings.from_dense(matrix), scores, method)
    for i in range(n_items):
        for d in range(n_dims):
            keep = ~np.isnan(matrix[:, i]) & ~np.isnan(scores[:, d])
            expected = reference(matrix[keep, i], scores[keep, d])
            assert result.n[i, d] == keep.sum()
            assert result.r[i, d] == pytest.approx(expected[0], abs=tolerance)
            assert result.p[i, d] == pytest.approx(expected[1], abs=tolerance)


def test_spearman_p_equals_scipy_formula():
    r = np.array([0.1, -0.35, 0.9])
    n = np.array([40, 48, 10])
    for value, size, p in zip(r, n, spearman_p(r, n), strict=True):
        t = value * math.sqrt((size - 2) / ((1 + value) * (1 - value)))
        assert p == pytest.approx(2 * stats.t.sf(abs(t), size - 2), rel=1e-12)


def test_benjamini_hochberg_and_yekutieli_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005, NAN])
    np.testing.assert_allclose(adjust_p(p, "bh")[:4], [0.02, 0.04, 0.04, 0.02])
    c = 1 + 1 / 2 + 1 / 3 + 1 / 4
    np.testing.assert_allclose(adjust_p(p, "by")[:4], np.array([0.02, 0.04, 0.04, 0.02]) * c)
    assert np.isnan(adjust_p(p, "bh")[4])
    with pytest.raises(ValueError):
        adjust_p(p, "holm")


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(80, 2))
    ratings = np.clip(np.round(3.5 + 1.5 * scores[:, :1] + rng.normal(size=(80, 1))), 1, 6)
    padded = PaddedRatings.from_dense(ratings)
    first = bootstrap_ci(padded, scores, n_resamples=100, seed=11)
    again = bootstrap_ci(padded, scores, n_resamples=100, seed=11)
    np.testing.assert_array_equal(first.low, again.low)
    estimate = correlate(padded, scores).r
    assert (first.low <= estimate).all() and (estimate <= first.high).all()
    assert first.low[0, 0] > 0.3  # strong relation: the interval stays well above 0
    assert first.low[0, 1] < 0 < first.high[0, 1]  # no relation: the interval holds 0


def test_resampling_with_all_counts_one_changes_nothing():
    matrix = np.array([[1, NAN], [2, 3], [4, 1], [NAN, 2]], float)
    padded = PaddedRatings.from_dense(matrix)
    same = padded.resampled(np.ones(4, dtype=int))
    np.testing.assert_array_equal(same.values, padded.values)


def test_cronbach_alpha_and_item_total_by_hand():
    data = np.array([[1, 2], [2, 3], [3, 5], [NAN, 1]])  # last row incomplete: dropped
    alpha = cronbach_alpha(data)
    # var(items) = 1 and 7/3, var(total) = 19/3: alpha = 2·(1 - (10/3)/(19/3)) = 18/19
    assert alpha.alpha == pytest.approx(18 / 19)
    assert (alpha.n, alpha.k) == (3, 2)
    assert alpha.ci_low < alpha.alpha < alpha.ci_high
    r = 3 / math.sqrt(2 * 42 / 9)  # with two items, item-total r is their correlation
    np.testing.assert_allclose(corrected_item_total(data), [r, r])


def test_standardised_alpha_uses_pairwise_complete_correlations():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=300)
    items = truth[:, None] + rng.normal(scale=1.0, size=(300, 4))
    items[:150, 2:] = NAN  # items 3-4 rated only by the second half
    items[150:, :1] = NAN
    alpha, mean_r, pairs = standardised_alpha(items)
    assert pairs == 4  # of 6 pairs, item 1 shares no rater with items 3 and 4
    assert 0.4 < mean_r < 0.6
    assert alpha == pytest.approx(4 * mean_r / (1 + 3 * mean_r))


def test_raters_needed_for_r_03_is_85():
    assert raters_required(0.3, 0.05, 0.8) == 85
    np.testing.assert_array_equal(raters_still_needed(np.array([40, 85, 100]), 85), [45, 0, 0])
    assert achieved_power(np.array([85]))[0] == pytest.approx(0.8, abs=0.01)
    with pytest.raises(ValueError):
        raters_required(0)


def test_circular_structure():
    distance = np.array([0, 1, 2, 3, 4, 5, 4, 3, 2, 1])
    clean = np.cos(2 * np.pi * distance / 10) * 0.4  # peaked at value 0
    broken = clean.copy()
    broken[5] = 0.2  # the opposite value correlates positively
    result = circular_structure(np.vstack([np.roll(clean, 4), broken, np.full(10, NAN)]))
    assert result.best.tolist() == [4, 0, -1]
    assert result.holds.tolist() == [True, False, False]
    assert result.neighbours_positive.tolist() == [True, True, False]
    assert result.fit[0] == pytest.approx(1.0)


def test_circle_fit_uses_only_the_defined_values():
    """The issue's example: centring over all ten columns gave 0.748; Pearson on the eight
    defined values is 0.827."""
    r = np.array([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1, -0.2, NAN, NAN])
    distance = np.array([0, 1, 2, 3, 4, 5, 4, 3, 2, 1])
    expected = stats.pearsonr(r[:8], np.cos(2 * np.pi * distance[:8] / 10)).statistic
    fit = circular_structure(r[None, :]).fit[0]
    assert fit == pytest.approx(expected, abs=1e-12)
    assert round(fit, 3) == 0.827


def test_circle_fit_matches_scipy_row_by_row_with_missing_values():
    rng = np.random.default_rng(3)
    r = rng.uniform(-0.5, 0.5, size=(200, 10))
    r[rng.random(r.shape) < 0.25] = NAN
    result = circular_structure(r)
    circle = np.arange(10)
    for row, best, fit in zip(r, result.best, result.fit, strict=True):
        keep = ~np.isnan(row)
        distance = np.minimum(np.abs(circle - best), 10 - np.abs(circle - best))
        if keep.sum() < 3:
            continue
        pattern = np.cos(2 * np.pi * distance / 10)
        assert fit == pytest.approx(stats.pearsonr(row[keep], pattern[keep]).statistic, abs=1e-12)


def test_pure_modules_import_without_django():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import benchmark.stats.correlation, benchmark.stats.bootstrap, benchmark.stats.power\n"
        "import benchmark.stats.reliability, benchmark.stats.circumplex, benchmark.stats.multiple\n"
        "import benchmark.analysis, benchmark.selection, benchmark.comparison, benchmark.pages\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    from tests.conftest import PROJECT_DIR

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_DIR
    )
    assert result.returncode == 0, result.stderr
